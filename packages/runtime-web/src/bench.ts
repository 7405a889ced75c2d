/**
 * @sdxs/runtime-web/bench — benchmark-only: build the pipeline's text-encoder and one-step graphs for given
 * configs with synthetic weights (no model files), create sessions on any Runtime and time them. The same
 * function runs in a browser worker (onnxruntime-web) and in Node (onnxruntime-node), so both sides measure
 * identical graphs. Not part of the app's bundle.
 */
import { bindSynthetic, toOnnxWithExternalData, type Graph, type Target } from '@sdxs/graph';
import { oneStepGraph, pipelineVae, textEncoderGraph, type OneStep } from '@sdxs/pipeline';
import { Generator, Tensor, type Runtime } from '@sdxs/tensor';

export interface BenchNetworks {
  /** A parsed UNet2DConditionModel config (what `parseUNetConfig` returns). */
  readonly unet: Parameters<typeof oneStepGraph>[0]['config'];
  /** A parsed CLIP text config. */
  readonly text: Parameters<typeof textEncoderGraph>[0];
  /** The AutoencoderTiny config.json. */
  readonly vae: unknown;
  /** The scheduler's folded one-step coefficients and init_noise_sigma. */
  readonly step: OneStep;
  readonly sigma: number;
}

export interface BenchOptions {
  readonly target: Target;
  readonly width: number;
  readonly height: number;
  /** Timed runs per graph (after one untimed warm-up run). */
  readonly runs: number;
  readonly seed?: number;
}

export interface GraphTiming {
  readonly parameters: number;
  readonly build_ms: number;
  readonly serialize_ms: number;
  readonly session_ms: number;
  readonly first_run_ms: number;
  readonly samples_ms: number[];
  readonly median_ms: number;
}

export interface BenchResult {
  readonly runtime: string;
  readonly target: Target;
  readonly width: number;
  readonly height: number;
  readonly text_encoder: GraphTiming;
  readonly one_step: GraphTiming;
  /** text encoder + one-step medians: prompt to pixels. */
  readonly step_ms: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeGraph(runtime: Runtime, build: () => Graph, feeds: Record<string, Tensor>, output: string, runs: number, seed: number, log: (s: string) => void): Promise<GraphTiming> {
  const t0 = performance.now();
  let graph: Graph | undefined = build();
  bindSynthetic(graph, seed);
  const parameters = graph.parameterCount();
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  // Weights as external data: the model proto stays small (protobuf's 2 GB cap) and the graph can be dropped.
  const { model, externalFiles } = toOnnxWithExternalData(graph, { location: `${graph.name}.data` });
  graph = undefined;
  const serializeMs = performance.now() - t1;
  const t2 = performance.now();
  const session = await runtime.createSession(model, { externalData: [...externalFiles].map(([path, data]) => ({ path, data })), label: 'bench' });
  externalFiles.clear();
  const sessionMs = performance.now() - t2;
  log(`${output}: ${(parameters / 1e6).toFixed(1)} M parameters, build ${buildMs.toFixed(0)} ms, serialize ${serializeMs.toFixed(0)} ms, session ${sessionMs.toFixed(0)} ms`);
  try {
    const t3 = performance.now();
    await session.run(feeds, [output]);
    const firstRunMs = performance.now() - t3;
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds, [output]);
      samples.push(performance.now() - t);
      log(`${output}: run ${i + 1}/${runs} ${samples[i]!.toFixed(1)} ms`);
    }
    return { parameters, build_ms: buildMs, serialize_ms: serializeMs, session_ms: sessionMs, first_run_ms: firstRunMs, samples_ms: samples, median_ms: median(samples) };
  } finally {
    await session.dispose();
  }
}

/**
 * Time the text encoder and the fused one-step graph (U-Net, folded step, tiny decoder, RGBA) at one size,
 * one session at a time (so the WebAssembly heap holds one network's weights).
 *
 * @example
 * const r = await benchOneStep(await createWebRuntime({ backend: 'wasm' }), networks, { target: 'wasm', width: 256, height: 256, runs: 5 });
 */
export async function benchOneStep(runtime: Runtime, networks: BenchNetworks, options: BenchOptions, log: (line: string) => void = () => undefined): Promise<BenchResult> {
  const seed = options.seed ?? 0;
  const settings = { target: options.target, dtype: 'float32' } as const;
  const vae = pipelineVae('AutoencoderTiny', networks.vae, 'vae/config.json');
  const f = vae.spatialFactor;
  if (options.width % f || options.height % f) throw new RangeError(`bench: width and height must be multiples of ${f}`);
  const h = options.height / f;
  const w = options.width / f;
  const contextDim = networks.text.hidden_size;
  const rng = new Generator(seed);
  // An empty prompt as CLIP tokenizes it: start token, then end tokens as padding.
  const ids = new BigInt64Array(77).fill(49407n);
  ids[0] = 49406n;
  const text = await timeGraph(runtime, () => textEncoderGraph(networks.text, 77, settings), { input_ids: new Tensor('int64', [1, 77], ids) }, 'prompt_embeds', options.runs, seed, log);
  const latents = rng.randn([1, networks.unet.in_channels, h, w]);
  for (let i = 0; i < latents.data.length; i++) latents.data[i]! *= networks.sigma;
  const context = rng.randn([1, 77, contextDim]);
  const oneStep = await timeGraph(
    runtime,
    () => oneStepGraph({ config: networks.unet, contextDim, contextLength: 77 }, vae, networks.step, { batch: 1, latentHeight: h, latentWidth: w, guidance: false }, settings),
    { latents, encoder_hidden_states: context },
    'rgba',
    options.runs,
    seed,
    log,
  );
  return { runtime: runtime.name, target: options.target, width: options.width, height: options.height, text_encoder: text, one_step: oneStep, step_ms: text.median_ms + oneStep.median_ms };
}
