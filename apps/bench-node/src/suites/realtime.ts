/**
 * `pnpm bench realtime` — the sketch-to-image loop a drawing app runs: a pen sends a control image every
 * `--stroke-ms`, @sdxs/pipeline's LatestFrameLoop renders only the newest waiting one (at most one in flight),
 * each render being the fused ControlNet one-step graph (ControlNet + SDXS-512 U-Net + Euler step + tiny decoder
 * + RGBA) at full size with synthetic weights (`bindSynthetic`), plus the control image's preparation.
 *
 * Reported per size: one render alone (median and best after a warm-up; with --compare, the same step without the
 * ControlNet), then the stream — the pen draws for --draw-renders render-times: sustained frames/s (renders per
 * second while the pen draws), how many strokes were skipped, and latency — from `push` (what the loop controls)
 * and from the moment the pen drew the stroke. onnxruntime-node computes on the JS thread, so strokes drawn during
 * a render are pushed when it ends; the stroke latency includes that wait, as a user would see it.
 */
import { parseControlNetConfig, prepareControlImage, type ControlNetConfig } from '@sdxs/control';
import { bindSynthetic, toOnnx, type Graph } from '@sdxs/graph';
import { controlNetOneStepGraph, LatestFrameLoop, oneStepGraph, pipelineVae } from '@sdxs/pipeline';
import { isProviderName, openNodeRuntime, type ProviderName } from '@sdxs/runtime-node';
import { EulerDiscreteScheduler } from '@sdxs/schedulers';
import { Generator, shapeSize, Tensor, type RawImage, type Runtime, type Session } from '@sdxs/tensor';
import { median } from '../stats.js';
import { SDXS512_UNET, SDXS_SCHEDULER_CONFIG, SDXS_TINY_VAE } from '../models/full-size-configs.js';

export const REALTIME_USAGE = 'realtime options: --sizes 256,512 --draw-renders 5 --stroke-ms 50 --renders 3 --compare on|off --ep cpu|webgpu|cuda --seed 0';

export interface RealtimeBenchOptions {
  sizes: number[];
  /** How long the pen draws, in single-render times (so the stream runs several renders at any speed). */
  drawRenders: number;
  /** Time between strokes. */
  strokeMs: number;
  /** Timed single renders (after one warm-up). */
  renders: number;
  /** Also time the text-to-image one-step graph without the ControlNet, for its cost. */
  compare: boolean;
  ep: ProviderName;
  seed: number;
}

export interface RealtimeSizeResult {
  size: number;
  parameters: { unet_and_vae: number; controlnet: number };
  session_ms: number;
  /** One render alone: control image preparation + the fused graph (median and best of the samples). */
  render_ms: number;
  render_best_ms: number;
  render_samples_ms: number[];
  /** The same step without the ControlNet (the text-to-image one-step graph), median and best; with --compare on. */
  t2i_render_ms?: number;
  t2i_render_best_ms?: number;
  strokes: number;
  stroke_ms: number;
  rendered: number;
  skipped: number;
  /** Renders per second while drawing (first push to last delivery). */
  frames_per_s: number;
  latency_from_push_ms: { median: number; max: number };
  latency_from_stroke_ms: { median: number; max: number };
  /** The last stroke's image was rendered and delivered. */
  last_rendered: boolean;
}

/** Options of this suite; flags of other suites are left to them. */
export function parseRealtimeOptions(args: readonly string[]): RealtimeBenchOptions {
  const o: RealtimeBenchOptions = { sizes: [256, 512], drawRenders: 5, strokeMs: 50, renders: 3, compare: true, ep: 'cpu', seed: 0 };
  const int = (flag: string, v: string, min: number) => {
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x < min) throw new Error(`${flag} wants an integer ≥ ${min}, got ${v}`);
    return x;
  };
  for (let i = 0; i + 1 < args.length; i += 2) {
    const [flag, v] = [args[i]!, args[i + 1]!];
    if (flag === '--sizes') o.sizes = v.split(',').map((s) => int(flag, s, 64));
    else if (flag === '--draw-renders') o.drawRenders = int(flag, v, 1);
    else if (flag === '--compare') {
      if (v !== 'on' && v !== 'off') throw new Error(`--compare wants on or off, got ${v}`);
      o.compare = v === 'on';
    }
    else if (flag === '--stroke-ms') o.strokeMs = int(flag, v, 1);
    else if (flag === '--renders') o.renders = int(flag, v, 1);
    else if (flag === '--seed') o.seed = int(flag, v, 0);
    else if (flag === '--ep') {
      if (!isProviderName(v)) throw new Error(`--ep wants cpu, webgpu or cuda, got ${v}`);
      o.ep = v;
    }
  }
  for (const s of o.sizes) if (s % 32 !== 0) throw new Error(`--sizes: ${s} is not a multiple of 32 (the SDXS-512 U-Net downsamples the 1/8 latent twice)`);
  return o;
}

/** A ControlNet of the SDXS-512 U-Net's shape (ControlNetModel.from_unet, with diffusers' default mid block). */
function sdxsControlNet(): ControlNetConfig {
  const u = SDXS512_UNET;
  return parseControlNetConfig(
    {
      in_channels: u.in_channels,
      conditioning_channels: 3,
      flip_sin_to_cos: true,
      freq_shift: 0,
      down_block_types: u.down_block_types,
      mid_block_type: 'UNetMidBlock2DCrossAttn',
      only_cross_attention: false,
      block_out_channels: u.block_out_channels,
      layers_per_block: 1,
      downsample_padding: 1,
      mid_block_scale_factor: 1,
      act_fn: 'silu',
      norm_num_groups: 32,
      norm_eps: 1e-5,
      cross_attention_dim: 768,
      transformer_layers_per_block: 1,
      encoder_hid_dim: null,
      encoder_hid_dim_type: null,
      attention_head_dim: 8,
      num_attention_heads: null,
      use_linear_projection: false,
      class_embed_type: null,
      addition_embed_type: null,
      addition_time_embed_dim: null,
      num_class_embeds: null,
      upcast_attention: false,
      resnet_time_scale_shift: 'default',
      projection_class_embeddings_input_dim: null,
      controlnet_conditioning_channel_order: 'rgb',
      conditioning_embedding_out_channels: [16, 32, 96, 256],
      global_pool_conditions: false,
    },
    'sdxs-512 controlnet (synthetic)/config.json',
  );
}

/** A pen drawing a growing spiral: stroke i is the spiral up to i, dark on white (the app inverts it: `sketch`). */
function spiral(size: number, upTo: number, of: number): RawImage {
  const data = new Uint8ClampedArray(size * size * 4).fill(255);
  for (let k = 0; k < 400 * (upTo / of); k++) {
    const a = k / 20;
    const r = (size / 2.2) * (k / 400);
    const x = Math.round(size / 2 + r * Math.cos(a));
    const y = Math.round(size / 2 + r * Math.sin(a));
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const p = ((y + dy) * size + (x + dx)) * 4;
        if (p >= 0 && p + 2 < data.length) data.fill(0, p, p + 3);
      }
    }
  }
  return { width: size, height: size, data };
}

const f0 = (x: number) => x.toFixed(0);

/** The SDXS step at t = 999 (Euler, trailing) as folded coefficients. */
function sdxsStep() {
  const scheduler = EulerDiscreteScheduler.fromConfig(SDXS_SCHEDULER_CONFIG, 'sdxs-512-dreamshaper/scheduler/scheduler_config.json');
  scheduler.setTimesteps(1);
  const c = scheduler.stepCoefficients(scheduler.timesteps[0]!);
  return { step: { timestep: c.timestep, inputDivisor: c.inputDivisor, x0Coef: c.x0Coef, prevCoef: c.prevCoef }, sigma: scheduler.initNoiseSigma };
}

/** Build, bind (synthetic) and open a graph; the JS copies of the weights are dropped before the session is used. */
async function openSession(runtime: Runtime, build: () => Graph, seed: number, label: string): Promise<{ session: Session; controlnet: number; total: number; ms: number }> {
  const t0 = performance.now();
  const graph = build();
  bindSynthetic(graph, seed);
  let controlnet = 0;
  for (const name of graph.parameterNames) if (name.startsWith('controlnet.')) controlnet += shapeSize(graph.initializers.get(name)!.shape);
  const total = graph.parameterCount();
  const session = await runtime.createSession(toOnnx(graph), { label });
  globalThis.gc?.();
  return { session, controlnet, total, ms: performance.now() - t0 };
}

/** Median and best of `n` timed calls after one warm-up. */
async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<{ median: number; best: number; samples: number[] }> {
  const samples: number[] = [];
  for (let r = -1; r < n; r++) {
    const t = performance.now();
    await fn(Math.max(r, 0));
    if (r >= 0) samples.push(performance.now() - t);
  }
  return { median: median(samples), best: Math.min(...samples), samples };
}

async function measureSize(size: number, o: RealtimeBenchOptions, log: (s: string) => void): Promise<RealtimeSizeResult> {
  const runtime = await openNodeRuntime({ provider: o.ep, fallback: false });
  const { step, sigma } = sdxsStep();
  const vae = pipelineVae('AutoencoderTiny', SDXS_TINY_VAE, 'vae/config.json');
  const latent = size / 8;
  const shape = { batch: 1, latentHeight: latent, latentWidth: latent, guidance: false };
  const settings = { target: o.ep, dtype: 'float32' as const };
  const unetSide = { config: SDXS512_UNET, contextDim: 768, contextLength: 77 };
  const rng = new Generator(o.seed);
  const latents = rng.randn([1, 4, latent, latent]);
  for (let i = 0; i < latents.data.length; i++) latents.data[i]! *= sigma;
  const context = rng.randn([1, 77, 768]);

  let t2i: { median: number; best: number } | undefined;
  if (o.compare) {
    const plain = await openSession(runtime, () => oneStepGraph(unetSide, vae, step, shape, settings), o.seed, `one_step_${size}`);
    try {
      t2i = await timed(o.renders, () => plain.session.run({ latents, encoder_hidden_states: context }, ['rgba']));
    } finally {
      await plain.session.dispose();
    }
  }

  const opened = await openSession(runtime, () => controlNetOneStepGraph({ ...unetSide, controlnet: sdxsControlNet() }, vae, step, shape, settings), o.seed, `controlnet_one_step_${size}`);
  const { session } = opened;
  const parameters = { unet_and_vae: opened.total - opened.controlnet, controlnet: opened.controlnet };
  try {
    const fixed = { latents, encoder_hidden_states: context, conditioning_scale: new Tensor('float32', [], Float32Array.of(0.8)) };
    const render = async (image: RawImage) => {
      const cond = prepareControlImage(image, { mode: 'sketch', width: size, height: size });
      return (await session.run({ ...fixed, controlnet_cond: cond }, ['rgba'])).rgba!;
    };
    const single = await timed(o.renders, (i) => render(spiral(size, i + 1, o.renders)));
    log(
      `  ${size}×${size}: ${(parameters.unet_and_vae / 1e6).toFixed(1)} M U-Net + decoder and ${(parameters.controlnet / 1e6).toFixed(1)} M ControlNet parameters; ` +
        `session ${f0(opened.ms)} ms (build, bind, serialize, create); one render median ${f0(single.median)} / best ${f0(single.best)} ms` +
        (t2i ? `; without the ControlNet median ${f0(t2i.median)} / best ${f0(t2i.best)} ms` : ''),
    );

    // The stream: the pen draws for drawRenders render-times, a stroke every strokeMs, each its own timer (as
    // input events would queue while the runtime holds the thread).
    const strokes = Math.max(2, Math.ceil((o.drawRenders * single.median) / o.strokeMs));
    // The loop carries stroke numbers; the stroke's picture is drawn when it is rendered (one per render, not per stroke).
    const loop = new LatestFrameLoop((i: number) => render(spiral(size, i, strokes)));
    const strokeTime = new Map<number, number>();
    const delivered: { frameId: number; at: number; latencyMs: number }[] = [];
    const start = performance.now();
    const done = (async () => {
      for await (const f of loop.frames) {
        delivered.push({ frameId: f.frameId, at: performance.now(), latencyMs: f.latencyMs });
        if (f.frameId === strokes) break;
      }
    })();
    for (let i = 0; i < strokes; i++) setTimeout(() => strokeTime.set(loop.push(i + 1), start + i * o.strokeMs), i * o.strokeMs);
    await done;
    await loop.close();
    const elapsed = delivered.at(-1)!.at - start;
    const fromStroke = delivered.map((d) => d.at - strokeTime.get(d.frameId)!);
    const fromPush = delivered.map((d) => d.latencyMs);
    const result: RealtimeSizeResult = {
      size,
      parameters,
      session_ms: opened.ms,
      render_ms: single.median,
      render_best_ms: single.best,
      render_samples_ms: single.samples,
      ...(t2i ? { t2i_render_ms: t2i.median, t2i_render_best_ms: t2i.best } : {}),
      strokes,
      stroke_ms: o.strokeMs,
      rendered: loop.stats.rendered,
      skipped: loop.stats.dropped,
      frames_per_s: loop.stats.rendered / (elapsed / 1000),
      latency_from_push_ms: { median: median(fromPush), max: Math.max(...fromPush) },
      latency_from_stroke_ms: { median: median(fromStroke), max: Math.max(...fromStroke) },
      last_rendered: delivered.at(-1)!.frameId === strokes,
    };
    log(
      `    stream (${strokes} strokes, one per ${o.strokeMs} ms): ${result.rendered} rendered, ${result.skipped} skipped, ${result.frames_per_s.toFixed(2)} frames/s sustained; ` +
        `latency from push median ${f0(result.latency_from_push_ms.median)} / max ${f0(result.latency_from_push_ms.max)} ms, ` +
        `from the stroke median ${f0(result.latency_from_stroke_ms.median)} / max ${f0(result.latency_from_stroke_ms.max)} ms; last stroke rendered: ${result.last_rendered}`,
    );
    return result;
  } finally {
    await session.dispose();
  }
}

/** Run the suite; `args` are the command line's options (this suite's own are read, the rest ignored). */
export async function runRealtime(log: (s: string) => void, args: readonly string[] = []): Promise<{ options: RealtimeBenchOptions; sizes: RealtimeSizeResult[] }> {
  const options = parseRealtimeOptions(args);
  log(
    `  ControlNet + SDXS-512 U-Net + tiny decoder, one fused graph, synthetic weights, ${options.ep}; sizes ${options.sizes.join(', ')}, ` +
      `the pen draws ${options.drawRenders} render-times at one stroke per ${options.strokeMs} ms (${REALTIME_USAGE})`,
  );
  const sizes: RealtimeSizeResult[] = [];
  for (const size of options.sizes) {
    sizes.push(await measureSize(size, options, log));
    globalThis.gc?.();
  }
  return { options, sizes };
}
