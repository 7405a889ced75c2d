/**
 * `pnpm bench training`: one training step against one forward pass, on the CPU backend, for the tiny decoder at
 * 128×128 (16×16 latents) and a small SD-shaped U-Net (SDXS-512's layout at a fifth of its width, 32×32 latents):
 * median latency, the step/forward ratio (target ≤ 3.5), and the peak resident memory of a process doing only that.
 * The step is forward + MSE loss + backward + AdamW, measured with the update in TypeScript ('host') and inside the
 * graph ('graph'). Each measurement runs in a fresh child process (this file, forked), so each peak is its own.
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
  mode: Mode;
  runs: number;
}

export interface TrainingMeasurement extends Job {
  params: number;
  median_ms: number;
  samples_ms: number[];
  session_ms: number;
  /** Resident memory once modules are loaded, before the graph is built (MiB). */
  start_rss_mib: number;
  /** Peak resident memory of the process (MiB), over building, session creation and the runs. */
  peak_rss_mib: number;
}

export interface TrainingResults {
  measurements: TrainingMeasurement[];
  ratios: Record<string, number>;
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

async function timeAsync(fn: () => Promise<unknown>, runs: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function measure(job: Job, runtime: Runtime): Promise<TrainingMeasurement> {
  const startRss = rssMiB('VmRSS');
  const { g, out, feeds } = build(job.model, job.mode !== 'forward');
  const params = g.parameterCount();
  let samples: number[];
  let sessionMs: number;
  if (job.mode === 'forward') {
    g.output(out, 'out');
    const t0 = performance.now();
    const session = await runtime.createSession(toOnnx(g));
    sessionMs = performance.now() - t0;
    samples = await timeAsync(() => session.run(feeds), job.runs);
    await session.dispose();
  } else {
    const scalarLoss = out.rank === 0;
    const target = scalarLoss ? undefined : g.input('target', 'float32', out.shape);
    const t0 = performance.now();
    const trainer = await Trainer.create({ runtime, graph: g, loss: target ? mseLoss(out, target) : out, trainable: makeTrainable(g, () => true), optimizer: adamw({ lr: 1e-4 }), update: job.mode === 'step-host' ? 'host' : 'graph' });
    sessionMs = performance.now() - t0;
    const batch = target ? { ...feeds, target: new Generator(1).randn(out.shape.map(Number)) } : feeds;
    samples = await timeAsync(() => trainer.step(batch), job.runs);
    await trainer.dispose();
  }
  return { ...job, params, median_ms: median(samples), samples_ms: samples, session_ms: sessionMs, start_rss_mib: startRss, peak_rss_mib: rssMiB('VmHWM') };
}

function inChild(job: Job): Promise<TrainingMeasurement> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--training-child', JSON.stringify(job)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: TrainingMeasurement | undefined;
    child.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'median_ms' in m) result = m as TrainingMeasurement;
      else if (typeof m === 'object' && m !== null && 'error' in m) reject(new Error(String(m.error)));
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`training child exited with ${code} without a result`))));
  });
}

/** The suite: every model × (forward, host step, graph step), each in its own process. */
export async function runTraining(log: (s: string) => void): Promise<TrainingResults> {
  log('(the machine may be shared: other processes running at the same time inflate these numbers)');
  const measurements: TrainingMeasurement[] = [];
  const ratios: Record<string, number> = {};
  for (const mode of ['step-host', 'step-graph'] as const) {
    const m = await inChild({ model: 'update-only-12m', mode, runs: 6 });
    measurements.push(m);
    log(`AdamW update alone, 12 M parameters, ${mode}: ${m.median_ms.toFixed(1)} ms median, peak RSS ${m.peak_rss_mib.toFixed(0)} MiB`);
  }
  for (const [model, runs] of [['tiny-decoder-128', 10], ['small-unet-32', 6]] as const) {
    const byMode = new Map<Mode, TrainingMeasurement>();
    for (const mode of ['forward', 'step-host', 'step-graph'] as const) {
      const m = await inChild({ model, mode, runs });
      measurements.push(m);
      byMode.set(mode, m);
      log(`${model} ${mode}: ${m.median_ms.toFixed(1)} ms median of ${runs} (session ${m.session_ms.toFixed(0)} ms), peak RSS ${m.peak_rss_mib.toFixed(0)} MiB (${m.start_rss_mib.toFixed(0)} MiB at start), ${(m.params / 1e6).toFixed(2)} M parameters`);
    }
    const fwd = byMode.get('forward')!.median_ms;
    for (const mode of ['step-host', 'step-graph'] as const) {
      ratios[`${model} ${mode}/forward`] = byMode.get(mode)!.median_ms / fwd;
      log(`${model} ${mode} / forward = ${(byMode.get(mode)!.median_ms / fwd).toFixed(2)}× (target ≤ 3.5×)`);
    }
  }
  return { measurements, ratios };
}

if (process.argv[2] === '--training-child') {
  const job = JSON.parse(process.argv[3] ?? '{}') as Job;
  const threads = Number(process.env['SDXS_BENCH_THREADS'] ?? '') || undefined;
  measure(job, createNodeRuntime(threads ? { intraOpThreads: threads } : {})).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (e: unknown) => process.send?.({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, () => process.exit(1)),
  );
}
