/**
 * Issue 3's measure: the full-size SDXS-512 U-Net (f32) from a safetensors file to a running session, against the
 * targets "peak RSS ≤ 1.5× the weights' bytes" and "session creation ≤ 3× the time to read the weights from disk".
 * Each function here runs in a fresh child process (spawn.ts), so each variant's peak RSS is its own:
 * - `writeWeights`: synthetic weights written once to `unet.safetensors`, then `loadSafetensorsFile` timed on it
 *   (the file was just written, so the page cache is warm: this is the read itself, not the disk).
 * - `measureLoad('inline')`: bindCheckpoint reads every tensor into JS, toOnnx copies them into the model bytes,
 *   the JS tensors are dropped, onnxruntime parses the bytes (copying the initializers once more).
 * - `measureLoad('external-memory')`: the graph points into the safetensors file (bindSafetensors); the model
 *   bytes are small; the file is read into one buffer handed to onnxruntime as `externalData` (the Runtime
 *   interface's only way to give external data today).
 * - `measureLoad('external-file')`: the same model bytes, with the file's path as `externalData`: the runtime
 *   hands onnxruntime the folder, and onnxruntime reads (on CPU: memory-maps) the file itself.
 * - `measureLoad('external-path')`: the model written beside the file and loaded by path with onnxruntime-node
 *   directly (the Runtime interface takes bytes), which resolves external data relative to the model file:
 *   the plain onnxruntime way, to check that the runtime's path is as good.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { bindCheckpoint, bindSafetensors, bindSynthetic, toOnnx, type Graph } from '@sdxs/graph';
import { DTYPE_BYTES, shapeSize, Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile, openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { openNodeRuntime, toOrtTensor } from '@sdxs/runtime-node';
import { buildUNetGraph } from '@sdxs/unet';
import { median } from '../stats.js';
import { SDXS512_UNET } from './full-size-configs.js';
import type { Ep } from './options.js';
import { sampleRss } from './rss.js';

export const WEIGHTS_FILE = 'unet.safetensors';
const MODEL_FILE = 'unet.onnx';
/** 512×512 images: 64×64 latents. */
const LATENT = 64;

export type LoadVariant = 'inline' | 'external-memory' | 'external-file' | 'external-path';
export const LOAD_VARIANTS: readonly LoadVariant[] = ['inline', 'external-memory', 'external-file', 'external-path'];

export interface WeightsJob {
  kind: 'write-weights';
  dir: string;
  seed: number;
  reads: number;
}

export interface WeightsResult {
  kind: 'write-weights';
  file_bytes: number;
  weight_bytes: number;
  /** Median of `reads` loadSafetensorsFile calls (warm page cache), ms. */
  read_ms: number;
  read_samples_ms: number[];
}

export interface LoadJob {
  kind: 'load';
  variant: LoadVariant;
  dir: string;
  ep: Ep;
}

export interface LoadResult {
  kind: 'load';
  variant: LoadVariant;
  /** buildUNetGraph. */
  build_ms: number;
  /** Weights into the graph: every tensor read (inline), or the header read and offsets bound (+ the file read into memory for external-memory). */
  bind_ms: number;
  /** toOnnx (+ writing the model file for external-path). */
  serialize_ms: number;
  /** Session creation. */
  session_ms: number;
  /** The first run at batch 1, 64×64 latents (includes onnxruntime's lazy first-run work). */
  first_run_ms: number;
  /** Peak RSS (VmHWM) after each phase, MiB; `start` is the process with its modules loaded. */
  peak_rss_mb: { start: number; build: number; bind: number; serialize: number; session: number; run: number };
  rss_end_mb: number;
}

function gc(): void {
  globalThis.gc?.();
}

function unetGraph(): Graph {
  return buildUNetGraph(SDXS512_UNET, { batch: 1, height: LATENT, width: LATENT, timestep: 'scalar' }).graph;
}

/** Write the U-Net's synthetic weights to `dir/unet.safetensors` and time reading them back. */
export async function writeWeights(job: WeightsJob, log: (s: string) => void): Promise<WeightsResult> {
  const path = join(job.dir, WEIGHTS_FILE);
  let weightBytes = 0;
  {
    const graph = unetGraph();
    bindSynthetic(graph, job.seed);
    const tensors = new Map<string, Tensor>();
    for (const name of graph.parameterNames) {
      const data = graph.initializers.get(name)?.data;
      if (data === undefined || 'location' in data) throw new Error(`${name} has no synthetic tensor`);
      tensors.set(name, data);
      weightBytes += shapeSize(data.shape) * DTYPE_BYTES[data.dtype];
    }
    await writeSafetensorsFile(path, tensors);
  }
  gc();
  const samples: number[] = [];
  let fileBytes = 0;
  for (let i = 0; i < job.reads; i++) {
    const t = performance.now();
    const { tensors } = await loadSafetensorsFile(path);
    samples.push(performance.now() - t);
    fileBytes = 0;
    for (const x of tensors.values()) fileBytes += x.data.byteLength;
    gc();
  }
  const { size } = await stat(path);
  log(`wrote ${(size / 2 ** 20).toFixed(0)} MiB of synthetic U-Net weights; loadSafetensorsFile median ${median(samples).toFixed(0)} ms`);
  if (fileBytes !== weightBytes) throw new Error(`read back ${fileBytes} bytes of tensors, wrote ${weightBytes}`);
  return { kind: 'write-weights', file_bytes: size, weight_bytes: weightBytes, read_ms: median(samples), read_samples_ms: samples };
}

function unetFeeds(): Record<string, Tensor> {
  // Zeros run as fast as random inputs through every op the U-Net has, and need no RNG.
  return {
    sample: Tensor.zeros('float32', [1, SDXS512_UNET.in_channels, LATENT, LATENT]),
    timestep: new Tensor('float32', [], new Float32Array([999])),
    encoder_hidden_states: Tensor.zeros('float32', [1, 77, 768]),
  };
}

interface LoadedSession {
  run: () => Promise<unknown>;
  dispose: () => Promise<void>;
}

/** Create the variant's session; the caller drops `model` and `buffer` once this returns. */
async function openSession(job: LoadJob, model: Uint8Array, buffer: Uint8Array | undefined, feeds: Record<string, Tensor>): Promise<LoadedSession> {
  const weights = join(job.dir, WEIGHTS_FILE);
  if (job.variant === 'external-path') {
    const session = await ort.InferenceSession.create(join(job.dir, MODEL_FILE), { executionProviders: [job.ep], graphOptimizationLevel: 'all' });
    const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrtTensor(v)]));
    return { run: () => session.run(ortFeeds), dispose: () => session.release() };
  }
  const runtime = await openNodeRuntime({ provider: job.ep, fallback: false });
  const label = `unet (${job.variant})`;
  const externalData =
    job.variant === 'external-memory' && buffer ? [{ path: WEIGHTS_FILE, data: buffer }] : job.variant === 'external-file' ? [{ path: WEIGHTS_FILE, data: weights }] : undefined;
  const session = await runtime.createSession(model, externalData ? { label, externalData } : { label });
  return { run: () => session.run(feeds), dispose: () => session.dispose() };
}

/** One load variant, phase by phase, with the peak RSS after each phase. */
export async function measureLoad(job: LoadJob, log: (s: string) => void): Promise<LoadResult> {
  const weights = join(job.dir, WEIGHTS_FILE);
  const peak = { start: sampleRss().peakMiB, build: 0, bind: 0, serialize: 0, session: 0, run: 0 };
  const feeds = unetFeeds();
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - t;
    t = now;
    return ms;
  };

  // Phases 1–3 in a block: the graph (and, inline, its JS tensors) is unreachable once the model bytes exist.
  let bytes: Uint8Array = new Uint8Array(0);
  let buffer: Uint8Array | undefined;
  let buildMs: number;
  let bindMs: number;
  let serializeMs: number;
  {
    t = performance.now();
    const graph = unetGraph();
    buildMs = lap();
    peak.build = sampleRss().peakMiB;
    const file = await openSafetensorsFile(weights);
    try {
      if (job.variant === 'inline') await bindCheckpoint(graph, [file]);
      else {
        const { unused } = bindSafetensors(graph, file.entries.values(), WEIGHTS_FILE);
        const unbound = graph.unbound();
        if (unused.length || unbound.length) throw new Error(`${weights}: ${unused.length} unused tensors, ${unbound.length} unbound parameters`);
      }
    } finally {
      await file.close();
    }
    if (job.variant === 'external-memory') buffer = await readFile(weights);
    bindMs = lap();
    peak.bind = sampleRss().peakMiB;
    bytes = toOnnx(graph);
    if (job.variant === 'external-path') await writeFile(join(job.dir, MODEL_FILE), bytes);
    serializeMs = lap();
    peak.serialize = sampleRss().peakMiB;
  }
  gc();

  t = performance.now();
  const { run, dispose } = await openSession(job, bytes, buffer, feeds);
  const sessionMs = lap();
  bytes = new Uint8Array(0);
  buffer = undefined;
  gc();
  peak.session = sampleRss().peakMiB;
  try {
    t = performance.now();
    await run();
    const firstRunMs = lap();
    peak.run = sampleRss().peakMiB;
    log(`${job.variant}: build ${buildMs.toFixed(0)} ms, bind ${bindMs.toFixed(0)} ms, serialize ${serializeMs.toFixed(0)} ms, session ${sessionMs.toFixed(0)} ms, first run ${firstRunMs.toFixed(0)} ms; peak RSS ${peak.session.toFixed(0)} MiB loaded, ${peak.run.toFixed(0)} MiB after a run`);
    return {
      kind: 'load',
      variant: job.variant,
      build_ms: buildMs,
      bind_ms: bindMs,
      serialize_ms: serializeMs,
      session_ms: sessionMs,
      first_run_ms: firstRunMs,
      peak_rss_mb: peak,
      rss_end_mb: sampleRss().currentMiB,
    };
  } finally {
    await dispose();
  }
}
