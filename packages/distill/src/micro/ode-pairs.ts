// Teacher ODE pairs (paper §3.3): noise → denoised latents from the multi-step teacher, made by the inference
// pipeline itself (`generate({ output: 'latents' })`), so the one-step student is distilled from exactly what
// `sdxs generate` would draw. Written as safetensors shards: each a deterministic function of (seed + shard index,
// the captions of its pair indices), so any process can make any shard and a re-run skips the finished ones.
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { concatRows, MAX_BATCH, StableDiffusionPipeline, type LoadOptions } from '@sdxs/pipeline';
import { shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { Generator, Tensor, type ModelSource, type Runtime } from '@sdxs/tensor';
import { loadSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { formatDuration } from '../cli/progress.js';
import type { StageIO } from './loop.js';

/** The teacher's own sampling settings (packages/model-micro/models.json: 25 steps, guidance 5) and the shard layout. */
export const ODE_PAIRS_DEFAULTS = { pairs: 8192, shardSize: 256, batch: 64, steps: 25, guidance: 5, seed: 0 } as const;

/** Written in every shard's metadata; readOdePairs refuses other formats. */
export const ODE_PAIRS_FORMAT = 'sdxs-ode-pairs/1';

export interface OdePairsOptions {
  /** The folder the shards go to (`runs/micro/ode-pairs` in the CLI). */
  out: string;
  /** The teacher, a diffusers folder (Node: `new LocalFolderSource(dir)` from @sdxs/runtime-node). */
  teacher: ModelSource;
  runtime: Runtime;
  /** How the teacher is loaded (dtype, graph cache, another scheduler class…); default the folder as it is. */
  load?: LoadOptions;
  /** Pairs in all shards together (default 8192). */
  pairs?: number;
  /** Pairs per shard file (default 256). */
  shardSize?: number;
  /** Captions per generate call (default 64, the pipeline's largest batch). */
  batch?: number;
  /** num_inference_steps of the teacher (default 25). */
  steps?: number;
  /** guidance_scale of the teacher (default 5). */
  guidance?: number;
  /** Shard s draws its noise from a generator seeded seed + s (default 0). */
  seed?: number;
  /** This process's share: the shards s with s % count === index (default all: { index: 0, count: 1 }). */
  shards?: { index: number; count: number };
  /** Start no new shard after this many minutes (the finished ones stay; a re-run continues). */
  minutes?: number;
}

export interface OdePairsResult {
  /** Shards this process wrote now, and those it found made already. */
  made: number[];
  skipped: number[];
  /** Shards of the whole set (all processes). */
  shards: number;
  /** True when every shard of this process's share exists. */
  finished: boolean;
  seconds: number;
}

/** Every pair of a folder, in pair-index order. */
export interface OdePairs {
  /** `[N, C, h, w]`: the randn draw (before × init_noise_sigma) each teacher run started from. */
  noise: Tensor<'float32'>;
  /** `[N, C, h, w]`: the teacher's final latents (the U-Net's scaled latent space, what the VAE decoder gets). */
  latents: Tensor<'float32'>;
  captions: string[];
  /** Shard 0's settings metadata (steps, guidance_scale, scheduler, teacher…); every shard agrees on these. */
  settings: Readonly<Record<string, string>>;
}

/** `pairs-00003.safetensors`. */
export function odePairsShardName(shard: number): string {
  return `pairs-${String(shard).padStart(5, '0')}.safetensors`;
}

const SHARD_FILE = /^pairs-(\d{5})\.safetensors$/;
/** Settings every shard of one folder must share (seed, shard and first_pair are checked apart; the teacher's path may differ between machines). */
const SHARED_KEYS = ['format', 'steps', 'guidance_scale', 'scheduler'] as const;

interface ShardPlan {
  shard: number;
  /** Pair indices first … first + count − 1; their captions are the training split's samples of those indices. */
  first: number;
  count: number;
  metadata: Record<string, string>;
}

type Shard = { noise: Tensor<'float32'>; latents: Tensor<'float32'>; captions: string[]; metadata: Readonly<Record<string, string>> };

/** A shard file read and checked (format, tensors, one caption per pair); throws naming the file. */
async function readShard(file: string): Promise<Shard> {
  const fail = (why: string): never => {
    throw new Error(`${file}: not a valid ODE-pairs shard: ${why}`);
  };
  const { tensors, metadata } = await loadSafetensorsFile(file).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
  if (metadata['format'] !== ODE_PAIRS_FORMAT) fail(`metadata "format" is ${JSON.stringify(metadata['format'])}, expected ${JSON.stringify(ODE_PAIRS_FORMAT)}`);
  let captions: unknown;
  try {
    captions = JSON.parse(metadata['captions'] ?? '');
  } catch {
    fail('metadata "captions" is not JSON');
  }
  if (!Array.isArray(captions) || !captions.every((c) => typeof c === 'string')) return fail('metadata "captions" is not a list of strings');
  const tensor = (name: string): Tensor<'float32'> => {
    const t = tensors.get(name);
    if (!t) return fail(`no "${name}" tensor`);
    if (!(t.data instanceof Float32Array) || t.shape.length !== 4 || t.shape[0] !== captions.length) {
      return fail(`"${name}" is ${t.dtype}[${t.shape.join(', ')}], expected float32 [${captions.length}, C, h, w] (one per caption)`);
    }
    return new Tensor('float32', t.shape, t.data);
  };
  const noise = tensor('noise');
  const latents = tensor('latents');
  if (noise.shape.join() !== latents.shape.join()) fail(`"noise" [${noise.shape.join(', ')}] and "latents" [${latents.shape.join(', ')}] differ`);
  return { noise, latents, captions, metadata };
}

/** What differs between a shard found on disk and the plan for it; the teacher's path and the batch may (a moved run folder, another machine). */
function planMismatch(found: Shard, p: ShardPlan): string | undefined {
  const differ = Object.entries(p.metadata).filter(([k, v]) => k !== 'teacher' && k !== 'batch' && found.metadata[k] !== v);
  if (found.captions.length !== p.count) differ.push(['pairs', String(p.count)]);
  const was = (k: string) => (k === 'pairs' ? String(found.captions.length) : found.metadata[k]);
  return differ.length === 0 ? undefined : differ.map(([k, v]) => `${k} ${JSON.stringify(was(k))} (now ${JSON.stringify(v)})`).join(', ');
}

function checkOptions(o: OdePairsOptions): Required<Pick<OdePairsOptions, 'pairs' | 'shardSize' | 'batch' | 'steps' | 'guidance' | 'seed' | 'shards'>> {
  const d = ODE_PAIRS_DEFAULTS;
  const v = { pairs: o.pairs ?? d.pairs, shardSize: o.shardSize ?? d.shardSize, batch: o.batch ?? d.batch, steps: o.steps ?? d.steps, guidance: o.guidance ?? d.guidance, seed: o.seed ?? d.seed, shards: o.shards ?? { index: 0, count: 1 } };
  for (const k of ['pairs', 'shardSize', 'batch', 'steps'] as const) if (!Number.isInteger(v[k]) || v[k] < 1) throw new RangeError(`ode-pairs: ${k} must be a positive integer, got ${v[k]}`);
  if (v.batch > MAX_BATCH) throw new RangeError(`ode-pairs: batch must be at most ${MAX_BATCH} (captions per generate call), got ${v.batch}`);
  if (!(v.guidance >= 0)) throw new RangeError(`ode-pairs: guidance must be a number ≥ 0, got ${v.guidance}`);
  if (!Number.isInteger(v.seed) || v.seed < 0) throw new RangeError(`ode-pairs: seed must be an integer ≥ 0, got ${v.seed}`);
  const { index, count } = v.shards;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`ode-pairs: worker ${index}/${count} is not one of 0/${count} … ${count - 1}/${count}`);
  return v;
}

/**
 * Make this process's shards of teacher ODE pairs under `out`: `pairs-00000.safetensors`, … each holding `noise` and
 * `latents` [N, C, h, w] float32 and, as metadata, the captions (a JSON list) and the settings. Shards found complete
 * and made with the same settings are skipped; each shard is written atomically, so a stopped run loses at most the
 * shard it was making.
 *
 * @example
 * // two processes, one each:
 * await runOdePairsStage({ out, teacher: new LocalFolderSource('runs/micro/model'), runtime, shards: { index: 0, count: 2 } }, io);
 * await runOdePairsStage({ out, teacher: new LocalFolderSource('runs/micro/model'), runtime, shards: { index: 1, count: 2 } }, io);
 */
export async function runOdePairsStage(o: OdePairsOptions, io: StageIO): Promise<OdePairsResult> {
  const v = checkOptions(o);
  const now = io.now ?? (() => performance.now());
  const progress = io.progress ?? io.log;
  const t0 = now();
  const shards = Math.ceil(v.pairs / v.shardSize);
  const mine = Array.from({ length: shards }, (_, s) => s).filter((s) => s % v.shards.count === v.shards.index);
  const result: OdePairsResult = { made: [], skipped: [], shards, finished: false, seconds: 0 };
  await mkdir(o.out, { recursive: true });
  const pipe = await StableDiffusionPipeline.load(o.teacher, o.runtime, o.load);
  try {
    const plan = (shard: number): ShardPlan => {
      const first = shard * v.shardSize;
      const count = Math.min(v.shardSize, v.pairs - first);
      const metadata = {
        format: ODE_PAIRS_FORMAT,
        teacher: o.teacher.id,
        scheduler: pipe.components.schedulerClass,
        steps: String(v.steps),
        guidance_scale: String(v.guidance),
        seed: String(v.seed + shard),
        shard: String(shard),
        first_pair: String(first),
        // How the shard's generator stream was split into generate calls (the noise depends on it).
        batch: String(v.batch),
      };
      return { shard, first, count, metadata };
    };
    const todo: ShardPlan[] = [];
    for (const s of mine) {
      const p = plan(s);
      const file = join(o.out, odePairsShardName(s));
      if (existsSync(file)) {
        const found = await readShard(file).catch((e: unknown) => {
          io.log(`ode-pairs: ${e instanceof Error ? e.message : String(e)}; making it again`);
          return undefined;
        });
        const mismatch = found && planMismatch(found, p);
        // Pairs made otherwise are not overwritten unasked: they may be hours of work.
        if (mismatch) throw new Error(`${file}: made with other settings: ${mismatch}; delete it, or run with the settings it was made with`);
        if (found) {
          result.skipped.push(s);
          continue;
        }
      }
      todo.push(p);
    }
    if (result.skipped.length > 0) io.log(`ode-pairs: skipped ${result.skipped.length} shard(s) made already: ${result.skipped.map(odePairsShardName).join(', ')}`);
    const total = todo.reduce((n, p) => n + p.count, 0);
    io.log(`ode-pairs: ${todo.length} shard(s), ${total} pairs to make (worker ${v.shards.index}/${v.shards.count} of ${shards} shards, ${v.steps} steps, guidance ${v.guidance}, ${pipe.components.schedulerClass})`);
    const budgetMs = o.minutes !== undefined ? o.minutes * 60_000 : Infinity;
    let done = 0;
    const tStart = now(); // the rate leaves the teacher's loading out
    for (const p of todo) {
      if (io.signal?.aborted || now() - t0 >= budgetMs) break;
      const generator = new Generator(v.seed + p.shard);
      const captions = Array.from({ length: p.count }, (_, i) => shapeSample(SPLIT_SEEDS.train, p.first + i).caption);
      const noise: Tensor<'float32'>[] = [];
      const latents: Tensor<'float32'>[] = [];
      for (let i = 0; i < p.count && !io.signal?.aborted; i += v.batch) {
        const r = await pipe.generate({ prompt: captions.slice(i, i + v.batch), generator, steps: v.steps, guidanceScale: v.guidance, output: 'latents' });
        noise.push(r.latents.noise);
        latents.push(r.latents.denoised);
        done += r.latents.noise.shape[0]!;
        const rate = done / ((now() - tStart) / 1000);
        progress(`ode-pairs: ${odePairsShardName(p.shard)} ${Math.min(i + v.batch, p.count)}/${p.count}  ${done}/${total} pairs  ${rate.toFixed(2)} pairs/s  ETA ${formatDuration((total - done) / rate)}`);
      }
      if (io.signal?.aborted) break; // the shard in progress is dropped: it is remade whole next time
      const file = join(o.out, odePairsShardName(p.shard));
      await writeSafetensorsFile(file, { noise: concatRows(...noise), latents: concatRows(...latents) }, { ...p.metadata, captions: JSON.stringify(captions) });
      result.made.push(p.shard);
      io.log(`ode-pairs: wrote ${file} (${p.count} pairs)`);
    }
  } finally {
    await pipe.dispose();
  }
  result.finished = result.made.length + result.skipped.length === mine.length;
  result.seconds = (now() - t0) / 1000;
  if (!result.finished) io.log(`ode-pairs: stopped with ${mine.length - result.made.length - result.skipped.length} shard(s) of this worker left; run again to continue`);
  return result;
}

/**
 * Every pair under `folder`, for the training stages: shards 0 … n−1 in order (a missing one, a truncated one or one
 * made with other settings is an error naming its file).
 *
 * @example
 * const { noise, latents, captions } = await readOdePairs('runs/micro/ode-pairs'); // noise[i] → latents[i] for captions[i]
 */
export async function readOdePairs(folder: string): Promise<OdePairs> {
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => SHARD_FILE.test(n)).sort();
  if (names.length === 0) throw new Error(`${folder}: no ODE-pairs shards (pairs-00000.safetensors, …); run \`sdxs distill ode-pairs\` first`);
  const shards: Shard[] = [];
  let pairs = 0;
  for (let s = 0; s < names.length; s++) {
    const file = join(folder, odePairsShardName(s));
    if (names[s] !== odePairsShardName(s)) throw new Error(`${file}: missing (found ${names.length} shards up to ${names.at(-1)}); a worker has not finished`);
    const shard = await readShard(file);
    const first = shards[0];
    const m = shard.metadata;
    if (m['shard'] !== String(s) || m['first_pair'] !== String(pairs)) throw new Error(`${file}: its metadata says shard ${m['shard']} from pair ${m['first_pair']}, expected shard ${s} from pair ${pairs}`);
    const baseSeed = Number(shards[0]?.metadata['seed'] ?? m['seed']);
    if (!Number.isInteger(baseSeed) || Number(m['seed']) - s !== baseSeed) throw new Error(`${file}: seed ${m['seed']} is not the base seed ${baseSeed} + ${s}: the shards come from different runs`);
    pairs += shard.captions.length;
    if (first) {
      const differ = SHARED_KEYS.filter((k) => shard.metadata[k] !== first.metadata[k]);
      if (differ.length > 0) throw new Error(`${file}: ${differ.map((k) => `${k} ${JSON.stringify(shard.metadata[k])}`).join(', ')} differ from ${odePairsShardName(0)}'s`);
      if (shard.noise.shape.slice(1).join() !== first.noise.shape.slice(1).join()) throw new Error(`${file}: latents of [${shard.noise.shape.slice(1).join(', ')}], ${odePairsShardName(0)}'s are [${first.noise.shape.slice(1).join(', ')}]`);
    }
    shards.push(shard);
  }
  const { captions: _c, ...settings } = shards[0]!.metadata;
  return {
    noise: concatRows(...shards.map((s) => s.noise)),
    latents: concatRows(...shards.map((s) => s.latents)),
    captions: shards.flatMap((s) => s.captions),
    settings,
  };
}

/** One training batch of pairs: noise and latents [B, C, h, w] and the captions. */
export interface OdePairBatch {
  noise: Tensor<'float32'>;
  latents: Tensor<'float32'>;
  captions: string[];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The batch of 0-based step `step`: pairs in a fixed pseudo-random order, i ↦ (i·stride + offset) mod n with a
 * stride near n·0.618 coprime with n, so every pair comes once per epoch and the batch is a function of the step
 * alone (a resumed run reads the same batches). Stages pass different offsets to see the pairs in other orders.
 */
export function odePairBatch(pairs: OdePairs, step: number, batch: number, offset = 0): OdePairBatch {
  const n = pairs.captions.length;
  let stride = Math.max(1, Math.round(n * 0.6180339887));
  while (gcd(stride, n) !== 1) stride++;
  const per = pairs.noise.size / n;
  const shape = [batch, ...pairs.noise.shape.slice(1)];
  const noise = new Float32Array(batch * per);
  const latents = new Float32Array(batch * per);
  const captions: string[] = [];
  for (let b = 0; b < batch; b++) {
    const i = ((step * batch + b) * stride + offset) % n;
    noise.set(pairs.noise.data.subarray(i * per, (i + 1) * per), b * per);
    latents.set(pairs.latents.data.subarray(i * per, (i + 1) * per), b * per);
    captions.push(pairs.captions[i]!);
  }
  return { noise: new Tensor('float32', shape, noise), latents: new Tensor('float32', shape, latents), captions };
}
