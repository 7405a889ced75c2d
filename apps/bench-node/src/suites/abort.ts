/**
 * `pnpm bench abort [--model DIR] [--size 512] [--trials 5]` — how fast a generate call ends when its signal aborts
 * while the fused one-step graph runs, in process and with the isolated runtime (sessions in a worker process that
 * an abort kills), and what isolation costs: the run time of every call (tensors cross the process boundary) and
 * the first call after an abort (its session is created again). Default model: a synthetic SDXS-512 folder (the
 * real architecture, deterministic weights, written to a temporary folder); the micro model's one-step student is
 * timed too, where the copy across processes weighs most.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, embeddedModels, LocalFolderSource, type NodeRuntime } from '@sdxs/runtime-node';
import { writeSyntheticModel } from '../models/synthetic-folder.js';
import { median } from '../stats.js';
import { option, positiveInt } from '../suite-options.js';

export const ABORT_USAGE = 'abort options: --model DIR (default: a synthetic SDXS-512 folder) --size 512 --trials 5';

export interface AbortSide {
  readonly runtime: string;
  /** One call, end to end (prompt cached), median. */
  readonly run_ms: number;
  /** From the moment abort() was due to the call's end, per trial (aborts due at 20–80 % of a run). */
  readonly abort_to_end_ms: number[];
  /** How each trial's call ended: rejected with an AbortError, or finished with images (the abort came too late to see). */
  readonly outcomes: ('rejected' | 'finished')[];
  /** The first call after an abort, end to end. */
  readonly next_call_ms: number;
}

export interface AbortBenchResult {
  readonly model: string;
  readonly size: number;
  readonly sides: AbortSide[];
  /** The micro one-step model at 64²: run time in process vs isolated. */
  readonly micro: { in_process_ms: number; isolated_ms: number };
}

async function measure(log: (s: string) => void, name: string, runtime: NodeRuntime, dir: string, size: number, trials: number): Promise<AbortSide> {
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(dir), runtime);
  try {
    const request = { prompt: 'a photo of a cat', seed: 1, width: size, height: size, steps: 1, guidanceScale: 0 };
    await pipe.generate(request); // builds the graph, creates the session, caches the prompt
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await pipe.generate(request);
      runs.push(performance.now() - t0);
    }
    const run = median(runs);
    const latencies: number[] = [];
    const outcomes: ('rejected' | 'finished')[] = [];
    let next = 0;
    for (let t = 0; t < trials; t++) {
      const controller = new AbortController();
      const delay = run * (0.2 + (0.6 * t) / Math.max(1, trials - 1));
      const due = performance.now() + delay;
      setTimeout(() => controller.abort(), delay);
      const rejected = await pipe.generate({ ...request, signal: controller.signal }).then(
        () => false,
        (e: unknown) => (e as Error).name === 'AbortError',
      );
      // In process the timer cannot fire while onnxruntime runs synchronously, and the call returns before the event
      // loop turns again: the abort is seen by no check, and the call finishes with its images.
      outcomes.push(rejected ? 'rejected' : 'finished');
      latencies.push(performance.now() - due);
      const t1 = performance.now();
      await pipe.generate(request);
      next = performance.now() - t1;
    }
    log(`  ${name}: run ${run.toFixed(0)} ms; abort due → call ends ${latencies.map((l, i) => `${l.toFixed(0)} (${outcomes[i]})`).join(', ')} ms; next call ${next.toFixed(0)} ms`);
    return { runtime: name, run_ms: run, abort_to_end_ms: latencies, outcomes, next_call_ms: next };
  } finally {
    await pipe.dispose();
  }
}

async function microRun(runtime: NodeRuntime): Promise<number> {
  const m = embeddedModels().sketch ?? embeddedModels().default;
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(m.path), runtime);
  try {
    const request = { prompt: 'a red circle on a blue background', seed: 1, steps: 1, guidanceScale: 0 };
    await pipe.generate(request);
    const ms: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await pipe.generate(request);
      ms.push(performance.now() - t0);
    }
    return median(ms);
  } finally {
    await pipe.dispose();
  }
}

export async function runAbort(log: (s: string) => void, args: readonly string[] = []): Promise<AbortBenchResult> {
  const size = positiveInt(args, '--size', 512);
  const trials = positiveInt(args, '--trials', 5);
  let dir = option(args, '--model');
  let temp: string | undefined;
  if (dir === undefined) {
    temp = await mkdtemp(join(tmpdir(), 'sdxs-abort-'));
    dir = temp;
    log('  writing a synthetic SDXS-512 folder…');
    await writeSyntheticModel(dir, 0);
  }
  const isolated = createNodeRuntime({ isolate: true });
  try {
    const sides = [await measure(log, 'in process', createNodeRuntime(), dir, size, trials), await measure(log, 'isolated', isolated, dir, size, trials)];
    const micro = { in_process_ms: await microRun(createNodeRuntime()), isolated_ms: await microRun(isolated) };
    log(`  micro one-step at 64²: in process ${micro.in_process_ms.toFixed(2)} ms, isolated ${micro.isolated_ms.toFixed(2)} ms`);
    return { model: temp ? 'synthetic SDXS-512' : dir, size, sides, micro };
  } finally {
    (isolated as { close?: () => void }).close?.();
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}
