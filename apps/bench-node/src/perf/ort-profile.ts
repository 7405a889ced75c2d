/**
 * Reading onnxruntime's profiler output (`enableProfiling: true`): a Chrome-trace JSON array with one `Node` event
 * per kernel run (`args.op_name`, `dur` in µs) and one `Session` event `model_run` per session run. Time shares
 * from it are load-robust in a way wall-clock totals are not: a busy neighbour slows every op alike.
 */
import { readFile } from 'node:fs/promises';

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  opName?: string;
}

export interface OpShare {
  op: string;
  /** Mean time per session run, ms. */
  ms: number;
  /** Of the summed kernel time. */
  share: number;
  /** Kernel runs per session run. */
  nodes: number;
}

export interface ProfileSummary {
  /** Session runs the summary averages over (the last `runs` model_run events). */
  runs: number;
  /** Mean model_run duration, ms. */
  runMs: number;
  /** Mean summed kernel time per run, ms: runMs minus this is the executor's own overhead. */
  kernelMs: number;
  byOp: OpShare[];
  /** The slowest kernels by mean time per run. */
  topNodes: { name: string; op: string; ms: number }[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

function parseEvents(json: unknown): TraceEvent[] {
  if (!Array.isArray(json)) throw new Error('profile: not a JSON array of trace events');
  const out: TraceEvent[] = [];
  for (const e of json) {
    if (!isRecord(e) || typeof e.cat !== 'string' || typeof e.name !== 'string' || typeof e.ts !== 'number' || typeof e.dur !== 'number') continue;
    const args = e.args;
    const opName = isRecord(args) && typeof args.op_name === 'string' ? args.op_name : undefined;
    out.push({ cat: e.cat, name: e.name, ts: e.ts, dur: e.dur, ...(opName === undefined ? {} : { opName }) });
  }
  return out;
}

/**
 * Summarise the last `runs` session runs of a profile file: time per op type and the slowest nodes. Earlier runs
 * (warm-up) are left out by time window, so the file may hold them.
 *
 * @example
 * const s = await summariseProfile('/tmp/unet_2026-….json', 3);
 * s.byOp[0]; // { op: 'Conv', ms: 610.2, share: 0.71, nodes: 36 }
 */
export async function summariseProfile(file: string, runs: number, top = 10): Promise<ProfileSummary> {
  const events = parseEvents(JSON.parse(await readFile(file, 'utf8')));
  const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const kept = modelRuns.slice(-runs);
  if (kept.length === 0) throw new Error(`profile ${file}: no model_run events`);
  const inKept = (e: TraceEvent) => kept.some((r) => e.ts >= r.ts && e.ts + e.dur <= r.ts + r.dur);
  const ops = new Map<string, { us: number; count: number }>();
  const nodes = new Map<string, { op: string; us: number }>();
  let kernelUs = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || e.opName === undefined || !e.name.endsWith('_kernel_time') || !inKept(e)) continue;
    const o = ops.get(e.opName) ?? { us: 0, count: 0 };
    o.us += e.dur;
    o.count++;
    ops.set(e.opName, o);
    const name = e.name.slice(0, -'_kernel_time'.length);
    const n = nodes.get(name) ?? { op: e.opName, us: 0 };
    n.us += e.dur;
    nodes.set(name, n);
    kernelUs += e.dur;
  }
  const n = kept.length;
  const byOp = [...ops.entries()]
    .map(([op, { us, count }]) => ({ op, ms: us / 1000 / n, share: us / kernelUs, nodes: count / n }))
    .sort((a, b) => b.ms - a.ms);
  const topNodes = [...nodes.entries()]
    .map(([name, { op, us }]) => ({ name, op, ms: us / 1000 / n }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
  return { runs: n, runMs: kept.reduce((s, r) => s + r.dur, 0) / 1000 / n, kernelMs: kernelUs / 1000 / n, byOp, topNodes };
}
