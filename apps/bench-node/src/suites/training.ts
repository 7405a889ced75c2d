/**
 * `pnpm bench training`: one training step against one forward pass, on the CPU backend, for the tiny decoder at
 * 128×128 (16×16 latents) and a small SD-shaped U-Net (SDXS-512's layout at a fifth of its width, 32×32 latents):
 * latency (the three modes timed in turns in one process, so that load from other processes hits them alike), the
 * step/forward ratio (target ≤ 3.5), and the peak resident memory of a process doing only one of them. The step is
 * forward + MSE loss + backward + AdamW, with the update in TypeScript ('host') or inside the graph ('graph'); the
 * update alone is timed on 12 M parameters. Measurements run in child processes (this file, forked).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adamw, bindRandom, makeTrainable, mseLoss, TRAINING_LOWERING, Trainer, type UpdateMode } from '@sdxs/distill';
import { AutoencoderTiny, TAESD_CONFIG } from '@sdxs/decoder';
import { Add, Graph, Mul, Params, ReduceSum, toOnnx, type Value } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { Generator, Tensor, type Runtime } from '@sdxs/tensor';
import { parseUNetConfig, unet2DCondition } from '@sdxs/unet';
import { median } from '../stats.js';

type ModelName = 'tiny-decoder-128' | 'small-unet-32' | 'update-only-12m';
type Mode = 'forward' | `step-${UpdateMode}`;

interface Job {
  model: ModelName;
  /** Measured in turns (one run of each mode per round), so that load from other processes hits them alike. */
  modes: Mode[];
  runs: number;
}

export interface ModeTiming {
  mode: Mode;
  min_ms: number;
  median_ms: number;
  samples_ms: number[];
  /** Building the graph (and the step graph) and creating its session. */
  setup_ms: number;
}

export interface TrainingMeasurement {
  model: ModelName;
  params: number;
  timings: ModeTiming[];
  /** Resident memory once modules are loaded, before any graph is built (MiB). */
  start_rss_mib: number;
  /** Peak resident memory of the process (MiB): of one mode alone when `modes` has one entry. */
  peak_rss_mib: number;
}

export interface TrainingResults {
  /** Timings, the modes of a model measured in turns in one process. */
  timing: TrainingMeasurement[];
  /** Peak memory, one process per model and mode. */
  memory: TrainingMeasurement[];
  /** step / forward by median and by minimum. */
  ratios: Record<string, { median: number; min: number }>;
}

/** SDXS-512's U-Net layout (no mid block, one resnet per stage) at a fifth of its width. */
const smallUNet = () => parseUNetConfig(
  {
    sample_size: 32,
    in_channels: 4,
    out_channels: 4,
    center_input_sample: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    downsample_padding: 1,
    mid_block_scale_factor: 1,
    act_fn: 'silu',
    norm_eps: 1e-5,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    mid_block_type: null,
    up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [64, 128, 256],
    layers_per_block: 1,
    norm_num_groups: 32,
    cross_attention_dim: 128,
    attention_head_dim: 8,
  },
  'bench small-unet-32',
);

function rssMiB(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The model's graph with static shapes, its output and the feeds of one batch (batch 1). */
function build(model: ModelName, training: boolean): { g: Graph; out: Value; feeds: Record<string, Tensor> } {
  const gen = new Generator(0);
  const g = new Graph({ name: model, ...(training ? { lowering: TRAINING_LOWERING } : {}) });
  const feeds: Record<string, Tensor> = {};
  if (model === 'update-only-12m') {
    // 12 parameters of 1 M elements and a loss whose backward is one Mul each (Σ p·c): what is left is the update.
    let loss: Value | undefined;
    for (let i = 0; i < 12; i++) {
      const term = ReduceSum(Mul(g.parameter(`p${i}`, 'float32', [1000, 1000]), g.input(`c${i}`, 'float32', [1000, 1000])), undefined, false);
      loss = loss ? Add(loss, term) : term;
    }
    bindRandom(g, gen);
    for (let i = 0; i < 12; i++) feeds[`c${i}`] = gen.randn([1000, 1000]);
    return { g, out: loss!, feeds };
  }
  if (model === 'tiny-decoder-128') {
    const x = g.input('latents', 'float32', [1, 4, 16, 16]);
    const out = new AutoencoderTiny(TAESD_CONFIG).decode(new Params(g), x);
    bindRandom(g, gen, { gain: Math.SQRT2 });
    return { g, out, feeds: { latents: gen.randn([1, 4, 16, 16]) } };
  }
  const sample = g.input('sample', 'float32', [1, 4, 32, 32]);
  const timestep = g.input('timestep', 'float32', []);
  const ehs = g.input('encoder_hidden_states', 'float32', [1, 77, 128]);
  const { sample: out } = unet2DCondition(new Params(g), smallUNet(), { sample, timestep, encoderHiddenStates: ehs });
  bindRandom(g, gen);
  return { g, out, feeds: { sample: gen.randn([1, 4, 32, 32]), timestep: new Tensor('float32', [], Float32Array.of(999)), encoder_hidden_states: gen.randn([1, 77, 128]) } };
}

/** One mode of a model, ready to run: a forward session or a Trainer. */
async function prepare(model: ModelName, mode: Mode, runtime: Runtime): Promise<{ run: () => Promise<unknown>; dispose: () => Promise<void>; params: number }> {
  const { g, out, feeds } = build(model, mode !== 'forward');
  const params = g.parameterCount();
  if (mode === 'forward') {
    g.output(out, 'out');
    const session = await runtime.createSession(toOnnx(g));
    return { run: () => session.run(feeds), dispose: () => session.dispose(), params };
  }
  const target = out.rank === 0 ? undefined : g.input('target', 'float32', out.shape);
  const trainer = await Trainer.create({ runtime, graph: g, loss: target ? mseLoss(out, target) : out, trainable: makeTrainable(g, () => true), optimizer: adamw({ lr: 1e-4 }), update: mode === 'step-host' ? 'host' : 'graph' });
  const batch = target ? { ...feeds, target: new Generator(1).randn(out.shape.map(Number)) } : feeds;
  return { run: () => trainer.step(batch), dispose: () => trainer.dispose(), params };
}

async function measure(job: Job, runtime: Runtime): Promise<TrainingMeasurement> {
  const startRss = rssMiB('VmRSS');
  const prepared = [];
  for (const mode of job.modes) {
    const t0 = performance.now();
    const p = await prepare(job.model, mode, runtime);
    prepared.push({ mode, setup: performance.now() - t0, ...p });
  }
  const samples = job.modes.map((): number[] => []);
  for (let r = -1; r < job.runs; r++) {
    for (const [i, p] of prepared.entries()) {
      const t0 = performance.now();
      await p.run();
      if (r >= 0) samples[i]!.push(performance.now() - t0); // round −1 warms up
    }
  }
  for (const p of prepared) await p.dispose();
  const timings = prepared.map((p, i): ModeTiming => ({ mode: p.mode, min_ms: Math.min(...samples[i]!), median_ms: median(samples[i]!), samples_ms: samples[i]!, setup_ms: p.setup }));
  return { model: job.model, params: prepared[0]!.params, timings, start_rss_mib: startRss, peak_rss_mib: rssMiB('VmHWM') };
}

function inChild(job: Job): Promise<TrainingMeasurement> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--training-child', JSON.stringify(job)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: TrainingMeasurement | undefined;
    child.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'timings' in m) result = m as TrainingMeasurement;
      else if (typeof m === 'object' && m !== null && 'error' in m) reject(new Error(String(m.error)));
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`training child exited with ${code} without a result`))));
  });
}

/**
 * The suite: per model, forward / host step / graph step timed in turns in one process (min and median), then each
 * mode alone in a process of its own for its peak memory; and the AdamW update alone over 12 M parameters.
 */
export async function runTraining(log: (s: string) => void): Promise<TrainingResults> {
  log('(the machine may be shared: other processes running at the same time inflate these numbers; modes run in turns so they share the load)');
  const timing: TrainingMeasurement[] = [];
  const memory: TrainingMeasurement[] = [];
  const ratios: TrainingResults['ratios'] = {};
  const fmt = (t: ModeTiming) => `${t.mode} ${t.median_ms.toFixed(1)} ms median, ${t.min_ms.toFixed(1)} ms min`;
  const upd = await inChild({ model: 'update-only-12m', modes: ['step-host', 'step-graph'], runs: 6 });
  timing.push(upd);
  log(`AdamW update alone, 12 M parameters: ${upd.timings.map(fmt).join('; ')}`);
  for (const [model, runs] of [['tiny-decoder-128', 8], ['small-unet-32', 6]] as const) {
    const m = await inChild({ model, modes: ['forward', 'step-host', 'step-graph'], runs });
    timing.push(m);
    log(`${model} (${(m.params / 1e6).toFixed(2)} M parameters): ${m.timings.map(fmt).join('; ')}`);
    const fwd = m.timings[0]!;
    for (const t of m.timings.slice(1)) {
      ratios[`${model} ${t.mode}/forward`] = { median: t.median_ms / fwd.median_ms, min: t.min_ms / fwd.min_ms };
      log(`  ${t.mode} / forward = ${(t.median_ms / fwd.median_ms).toFixed(2)}× by median, ${(t.min_ms / fwd.min_ms).toFixed(2)}× by min (target ≤ 3.5×)`);
    }
    for (const mode of ['forward', 'step-host', 'step-graph'] as const) {
      const r = await inChild({ model, modes: [mode], runs: 2 });
      memory.push(r);
      log(`  ${mode} alone: peak RSS ${r.peak_rss_mib.toFixed(0)} MiB (${r.start_rss_mib.toFixed(0)} MiB before building)`);
    }
  }
  return { timing, memory, ratios };
}

if (process.argv[2] === '--training-child') {
  const job = JSON.parse(process.argv[3] ?? '{}') as Job;
  const threads = Number(process.env['SDXS_BENCH_THREADS'] ?? '') || undefined;
  measure(job, createNodeRuntime(threads ? { intraOpThreads: threads } : {})).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (e: unknown) => process.send?.({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, () => process.exit(1)),
  );
}
