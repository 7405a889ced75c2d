import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { compareTensors, type Comparison } from './compare.js';
import { KINDS } from './kinds/index.js';
import { caseFile } from './links.js';
import type { GoldenCase } from './types.js';

export type CaseStatus = 'pass' | 'fail' | 'unsupported';

export interface CaseReport {
  readonly case: GoldenCase;
  readonly status: CaseStatus;
  readonly comparisons: readonly Comparison[];
  /** Reference outputs the implementation did not produce, and produced outputs the reference lacks. */
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly computed: ReadonlyMap<string, Tensor>;
  readonly seconds: number;
  /** The kind's notes (KindResult.notes). */
  readonly notes: readonly string[];
}

/** Read a case folder's case.json. */
export async function loadCase(dir: string): Promise<GoldenCase> {
  const abs = resolve(dir);
  const file = join(abs, 'case.json');
  let spec: unknown;
  try {
    spec = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error(`${file}: not a JSON object`);
  const kind = (spec as Record<string, unknown>).kind;
  if (typeof kind !== 'string') throw new Error(`${file}: field "kind" is missing or not a string`);
  return { dir: abs, name: basename(abs), kind, spec: spec as Record<string, unknown> };
}

/** Run the project's implementation on one case and compare every output with outputs.safetensors. */
export async function runCase(dir: string): Promise<CaseReport> {
  const c = await loadCase(dir);
  const runner = KINDS[c.kind];
  const empty = { comparisons: [], missing: [], unexpected: [], computed: new Map<string, Tensor>(), seconds: 0, notes: [] };
  if (!runner) return { case: c, status: 'unsupported', ...empty };
  const t0 = performance.now();
  const result = await runner(c);
  const seconds = (performance.now() - t0) / 1000;
  const reference = await openSafetensorsFile(caseFile(c.dir, 'outputs.safetensors'));
  try {
    const names = reference.names();
    const comparisons: Comparison[] = [];
    const missing = names.filter((n) => !result.outputs.has(n));
    const unexpected = [...result.outputs.keys()].filter((n) => !reference.has(n));
    for (const name of names) {
      const actual = result.outputs.get(name);
      if (!actual) continue;
      const tol = typeof result.tolerance === 'function' ? result.tolerance(name) : result.tolerance;
      comparisons.push(compareTensors(name, actual, await reference.read(name), tol));
    }
    const ok = comparisons.every((x) => x.ok) && missing.length === 0 && unexpected.length === 0;
    return { case: c, status: ok ? 'pass' : 'fail', comparisons, missing, unexpected, computed: result.outputs, seconds, notes: result.notes ?? [] };
  } finally {
    await reference.close();
  }
}
