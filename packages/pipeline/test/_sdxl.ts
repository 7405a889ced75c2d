/**
 * The independent composition the SDXL pipeline is checked against (diffusers' StableDiffusionXLPipeline.__call__
 * written out over separately tested components), and the tiny SDXL folder (tools/golden/build-sdxl-folder.ts).
 */
import { CLIPTokenizer, clipBindOptions, clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';
import { Graph, toOnnx } from '@sdxs/graph';
import { schedulerFromConfig } from '@sdxs/schedulers';
import { Generator, Tensor, type ModelSource, type Runtime, type Session } from '@sdxs/tensor';
import { loadUNet, UNET_OUTPUT } from '@sdxs/unet';
import { SDXL_SCHEDULER } from '../../../tools/golden/build-sdxl-folder.js';
import { bindFolder, decodeToImage, float32, scaled } from '../../../tools/golden/unfused.js';

/**
 * Sessions of the reference graphs, made once per model folder and shape: the references re-run the same networks
 * many times, and building and binding each again would dominate the tests' time.
 */
const sessions = new Map<string, Promise<Session>>();
export function reusable(runtime: Runtime, key: string, build: () => Promise<Graph>): (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>> {
  let session = sessions.get(key);
  if (!session) {
    session = build().then((g) => runtime.createSession(toOnnx(g), { label: g.name }));
    sessions.set(key, session);
  }
  return async (feeds) => (await session).run(feeds);
}
const tokenizers = new Map<string, Promise<CLIPTokenizer>>();
function tokenizer(source: ModelSource, dir: string): Promise<CLIPTokenizer> {
  const key = `${source.id}/${dir}`;
  let t = tokenizers.get(key);
  if (!t) tokenizers.set(key, (t = CLIPTokenizer.fromSource(source, dir)));
  return t;
}

export { buildSdxlFolder as sdxlFolder, SDXL_SCHEDULER, type SdxlFolder, type SdxlFolderOptions } from '../../../tools/golden/build-sdxl-folder.js';

/** What the reference composition is asked for (diffusers' StableDiffusionXLPipeline.__call__ arguments). */
export interface SdxlCall {
  readonly prompt: string;
  readonly prompt2?: string;
  /** undefined: not given (force_zeros_for_empty_prompt applies). */
  readonly negativePrompt?: string;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** (height, width, top, left, height, width): default from the size. */
  readonly timeIds?: readonly number[];
  readonly forceZeros?: boolean;
}

/** One encoder's hidden_states[-2] (and text_embeds), run as its own @sdxs/clip graph. */
export async function encoderOutputs(runtime: Runtime, source: ModelSource, dir: string, ids: Tensor<'int64'>): Promise<{ hidden: Tensor<'float32'>; textEmbeds?: Tensor<'float32'> }> {
  const run = reusable(runtime, `${source.id}/${dir}:${ids.shape.join('x')}`, async () => {
    const config = parseCLIPTextConfig(JSON.parse(await source.readText(`${dir}/config.json`)), dir);
    const g = new Graph({ name: dir });
    const out = clipTextModel(g, g.input('input_ids', 'int64', [...ids.shape]), config);
    g.output(out.hiddenStates[out.hiddenStates.length - 2]!, 'hidden');
    if (out.textEmbeds) g.output(out.textEmbeds, 'text_embeds');
    return bindFolder(g, source, dir, clipBindOptions);
  });
  const r = await run({ input_ids: ids });
  return { hidden: float32(r.hidden, 'hidden'), ...(r.text_embeds ? { textEmbeds: float32(r.text_embeds, 'text_embeds') } : {}) };
}

/** encode_prompt for one prompt pair: [1, 77, 48] and the pooled [1, 16]. */
export async function encodePair(runtime: Runtime, source: ModelSource, prompt: string, prompt2: string): Promise<{ embeds: Tensor<'float32'>; pooled: Tensor<'float32'> }> {
  const t1 = await tokenizer(source, 'tokenizer');
  const t2 = await tokenizer(source, 'tokenizer_2');
  const a = await encoderOutputs(runtime, source, 'text_encoder', t1.call([prompt]).inputIds);
  const b = await encoderOutputs(runtime, source, 'text_encoder_2', t2.call([prompt2]).inputIds);
  const [da, db] = [a.hidden.shape[2]!, b.hidden.shape[2]!];
  const data = new Float32Array(77 * (da + db));
  for (let t = 0; t < 77; t++) {
    data.set(a.hidden.data.subarray(t * da, (t + 1) * da), t * (da + db));
    data.set(b.hidden.data.subarray(t * db, (t + 1) * db), t * (da + db) + da);
  }
  return { embeds: new Tensor('float32', [1, 77, da + db], data), pooled: b.textEmbeds! };
}

const cat = (a: Tensor<'float32'>, b: Tensor<'float32'>) => {
  const data = new Float32Array(a.size + b.size);
  data.set(a.data);
  data.set(b.data, a.size);
  return new Tensor('float32', [a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)], data);
};

/** The conditioning rows of one call: [negative, positive] with guidance. */
export async function referenceConditioning(runtime: Runtime, source: ModelSource, c: SdxlCall): Promise<Record<string, Tensor<'float32'>>> {
  const pos = await encodePair(runtime, source, c.prompt, c.prompt2 || c.prompt);
  const ids = c.timeIds ?? [c.height, c.width, 0, 0, c.height, c.width];
  const timeIds = (n: number) => new Tensor('float32', [n, 6], Float32Array.from({ length: 6 * n }, (_, i) => ids[i % 6]!));
  if (c.guidanceScale <= 1) return { encoder_hidden_states: pos.embeds, text_embeds: pos.pooled, time_ids: timeIds(1) };
  const zeros = (t: Tensor<'float32'>) => new Tensor('float32', t.shape, new Float32Array(t.size));
  const neg = c.negativePrompt === undefined && c.forceZeros !== false ? { embeds: zeros(pos.embeds), pooled: zeros(pos.pooled) } : await encodePair(runtime, source, c.negativePrompt ?? '', c.negativePrompt ?? '');
  return { encoder_hidden_states: cat(neg.embeds, pos.embeds), text_embeds: cat(neg.pooled, pos.pooled), time_ids: timeIds(2) };
}

/** The U-Net with guidance: the batch doubled, `uncond + g·(cond − uncond)` in float32. */
export async function guidedEps(runtime: Runtime, source: ModelSource, cond: Record<string, Tensor<'float32'>>, sample: Tensor<'float32'>, t: number, g: number, extra: Record<string, Tensor> = {}): Promise<Tensor<'float32'>> {
  const [, ch, h, w] = sample.shape as [number, number, number, number];
  const guided = g > 1;
  const options = { batch: guided ? 2 : 1, height: h, width: w, timestep: 'scalar', controlnet: Object.keys(extra).length > 0 } as const;
  const unet = reusable(runtime, `${source.id}/unet:${JSON.stringify(options)}`, async () => (await loadUNet(source, 'unet', options)).graph);
  const input = guided ? cat(sample, sample) : sample;
  const out = float32((await unet({ ...cond, ...extra, sample: input, timestep: new Tensor('float32', [], Float32Array.of(t)) }))[UNET_OUTPUT], 'U-Net');
  if (!guided) return out;
  const n = ch * h * w;
  const eps = new Float32Array(n);
  for (let i = 0; i < n; i++) eps[i] = Math.fround(out.data[i]! + Math.fround(g * Math.fround(out.data[n + i]! - out.data[i]!)));
  return new Tensor('float32', [1, ch, h, w], eps);
}

/**
 * StableDiffusionXLPipeline.__call__ for one prompt, composed from separately tested parts: @sdxs/clip encoders,
 * @sdxs/unet's U-Net, @sdxs/schedulers' Euler, @sdxs/decoder's VAE (via tools/golden/unfused.ts). → [1, H, W, 3].
 */
export async function referenceImage(runtime: Runtime, source: ModelSource, c: SdxlCall): Promise<Tensor<'float32'>> {
  const cond = await referenceConditioning(runtime, source, c);
  const scheduler = schedulerFromConfig(SDXL_SCHEDULER, 'scheduler');
  scheduler.setTimesteps(c.steps);
  const gen = new Generator(c.seed);
  let latents = scaled(gen.randn([1, 4, c.height / 2, c.width / 2]), scheduler.initNoiseSigma);
  for (const t of scheduler.timesteps) {
    const eps = await guidedEps(runtime, source, cond, scheduler.scaleModelInput(latents, t), t, c.guidanceScale);
    latents = scheduler.step(eps, t, latents, { generator: gen }).prevSample;
  }
  return decodeToImage(runtime, source, 'vae', latents);
}
