/**
 * The pipeline's computations one separately tested piece at a time — each network its own graph from its own
 * package (@sdxs/clip, @sdxs/unet, @sdxs/control, @sdxs/decoder), tensors handed between sessions, scheduler
 * and pre/postprocessing in TypeScript — to make reference values for cases ../shared/golden does not have.
 * These are sdxs's references, not diffusers': they check the pipeline's fused assembly against its parts.
 */
import { CLIPTokenizer, clipBindOptions, clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';
import { AutoencoderKL, AutoencoderTiny } from '@sdxs/decoder';
import { bindCheckpoint, Graph, openWeightFiles, toOnnx, type BindOptions } from '@sdxs/graph';
import { Tensor, type ModelSource, type Runtime } from '@sdxs/tensor';

/** Run a bound graph once in a fresh session. */
export async function runOnce(runtime: Runtime, graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await runtime.createSession(toOnnx(graph), { label: graph.name });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** Bind `graph` to the safetensors of `source`'s folder `dir` (`options` may be derived from the file keys). */
export async function bindFolder(graph: Graph, source: ModelSource, dir: string, options?: BindOptions | ((keys: Iterable<string>) => BindOptions)): Promise<Graph> {
  const files = await openWeightFiles(source, dir);
  try {
    await bindCheckpoint(graph, files, typeof options === 'function' ? options(files.flatMap((f) => [...f.entries.keys()])) : options);
  } finally {
    await Promise.all(files.map((f) => f.close()));
  }
  return graph;
}

/** A float32 view of an output, or an error naming it. */
export function float32(t: Tensor | undefined, what: string): Tensor<'float32'> {
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`${what}: expected a float32 tensor`);
  return new Tensor('float32', t.shape, t.data);
}

/** `x ⊙ s` elementwise in float32 (`/` when `divide`), as a torch op on a float32 tensor and a Python float. */
export function scaled(x: Tensor<'float32'>, s: number, divide = false): Tensor<'float32'> {
  const k = Math.fround(s);
  return new Tensor('float32', x.shape, x.data.map((v) => Math.fround(divide ? v / k : v * k)));
}

/** encode_prompt without guidance: CLIP token ids → the text encoder's last hidden state [prompts, 77, hidden]. */
export async function promptEmbeds(runtime: Runtime, source: ModelSource, prompts: readonly string[]): Promise<Tensor<'float32'>> {
  const tokenizer = await CLIPTokenizer.fromSource(source, 'tokenizer');
  const ids = tokenizer.call(prompts).inputIds;
  const config = parseCLIPTextConfig(JSON.parse(await source.readText('text_encoder/config.json')), 'text_encoder/config.json');
  const g = new Graph({ name: 'text_encoder' });
  g.output(clipTextModel(g, g.input('input_ids', 'int64', [prompts.length, ids.shape[1]!]), config).lastHiddenState, 'embeds');
  return float32((await runOnce(runtime, await bindFolder(g, source, 'text_encoder', clipBindOptions), { input_ids: ids })).embeds, 'text encoder');
}

async function vaeModel(source: ModelSource, dir: string): Promise<AutoencoderTiny | AutoencoderKL> {
  const json = JSON.parse(await source.readText(`${dir}/config.json`)) as Record<string, unknown>;
  return json._class_name === 'AutoencoderKL' ? AutoencoderKL.fromConfig(json, `${dir}/config.json`) : AutoencoderTiny.fromConfig(json, `${dir}/config.json`);
}

/**
 * The VAE's encoder on `image` [N, 3, H, W] in [-1, 1]: AutoencoderTiny's latents, or AutoencoderKL's posterior
 * `{ mean, logvar }` (unscaled).
 */
export async function vaeEncode(runtime: Runtime, source: ModelSource, dir: string, image: Tensor<'float32'>): Promise<Record<string, Tensor<'float32'>>> {
  const vae = await vaeModel(source, dir);
  const [n, , h, w] = image.shape as [number, number, number, number];
  const enc = vae.encoderGraph({ batch: n, height: h, width: w });
  const out = await runOnce(runtime, await bindFolder(enc.graph, source, dir, { ignore: enc.ignore }), { image });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, float32(v, `encoder ${k}`)]));
}

/**
 * `vae.decode(latents / scaling_factor)` then VaeImageProcessor.postprocess to "np": (x · 0.5 + 0.5).clamp(0, 1),
 * NHWC — the image [N, H, W, 3] in [0, 1] a pipeline returns for `output_type="np"`.
 */
export async function decodeToImage(runtime: Runtime, source: ModelSource, dir: string, latents: Tensor<'float32'>): Promise<Tensor<'float32'>> {
  const vae = await vaeModel(source, dir);
  const [n, , h, w] = latents.shape as [number, number, number, number];
  const dec = vae.decoderGraph({ batch: n, height: h, width: w });
  const input = vae.scalingFactor === 1 ? latents : scaled(latents, vae.scalingFactor, true);
  const decoded = float32((await runOnce(runtime, await bindFolder(dec.graph, source, dir, { ignore: dec.ignore }), { latents: input })).sample, 'decoder');
  const [, c, hh, ww] = decoded.shape as [number, number, number, number];
  const plane = hh * ww;
  const image = new Float32Array(decoded.size);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let p = 0; p < plane; p++) {
        const v = Math.fround(Math.fround(decoded.data[(b * c + k) * plane + p]! * 0.5) + 0.5);
        image[(b * plane + p) * c + k] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return new Tensor('float32', [n, hh, ww, c], image);
}
