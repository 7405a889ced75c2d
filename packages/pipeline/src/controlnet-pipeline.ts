/**
 * diffusers' `StableDiffusionControlNetPipeline` (pipelines/controlnet/pipeline_controlnet.py) and, on an SDXL folder,
 * `StableDiffusionXLControlNetPipeline` (pipeline_controlnet_sd_xl.py, the ControlNet fed the added condition too): text-to-image
 * steered by a control image (the SDXS sketch model: one step, guidance 0, a sketch as the control). One step
 * runs as a single fused graph — ControlNet, U-Net, the folded scheduler step, decoder, postprocessing — with the
 * conditioning scale as an input; more steps run a ControlNet + U-Net graph per step with the scheduler in
 * TypeScript, then the decode graph. The text-to-image pipeline underneath holds the sessions and caches.
 */
import { channelsOf, controlNetUNetConfig, parseControlNetConfig, prepareControlImage, type ControlNetConfig, type ControlPixelsOptions, type Pixels } from '@sdxs/control';
import { Tensor, type ModelSource, type RawImage, type Runtime } from '@sdxs/tensor';
import { unetResidualShapes } from '@sdxs/unet';
import {
  CONTROLNET_IMAGE_COMPONENTS,
  CONTROLNET_UNET_COMPONENTS,
  controlImageFactor,
  controlNetOneStepGraph,
  controlNetUNetStepGraph,
  type ControlledUNetSide,
} from './graphs/controlnet-step.js';
import { loadComponents, type PipelineComponents } from './model/components.js';
import { closeWeights, openComponentWeights } from './model/weights.js';
import type { PipelineInfo } from './info.js';
import { StableDiffusionPipeline, type GenerateResult, type LoadOptions } from './pipeline.js';
import { createRealtimeStream, type RealtimeOptions, type RealtimeStream } from './realtime.js';
import { checkRequest, type GenerateRequest } from './request.js';
import { repeatRows } from './tensors.js';
import { graphTarget } from './target.js';
import { composeGenerate } from './compose.js';
import { fromPretrainedParts, type PretrainedOptions } from './pretrained.js';
import { crossAttentionDim } from './model/text-conditioning.js';

/** Where the ControlNet is: a folder with `config.json` at its root or in `controlnet/`, or a source and a folder. */
export type ControlNetLocation = ModelSource | { readonly source: ModelSource; readonly dir: string };

export interface ControlNetLoadOptions extends LoadOptions {
  /** Prefer `*.<variant>.safetensors` for the ControlNet too (default: the `variant` option). */
  readonly controlnetVariant?: string;
}

export interface ControlNetRequest extends Omit<GenerateRequest, 'output'> {
  /** The control image: 8-bit grey, RGB or RGBA pixels (ImageData fits); resized (nearest) to width × height. */
  readonly image: Pixels;
  /** `raw` (default): the image as is; `sketch`: inverted, as the SDXS sketch demo passes it; `canny`: its edges. */
  readonly controlMode?: ControlPixelsOptions['mode'];
  /** Canny thresholds and alpha handling (see @sdxs/control's controlImagePixels). */
  readonly controlOptions?: Omit<ControlPixelsOptions, 'mode'>;
  /** `controlnet_conditioning_scale` (default 1, as diffusers; about 0.8 suits the SDXS sketch model). */
  readonly controlScale?: number;
}

function isSource(x: ControlNetLocation): x is ModelSource {
  return 'readText' in x;
}

async function readJson(source: ModelSource, path: string): Promise<unknown> {
  try {
    return JSON.parse(await source.readText(path));
  } catch (e) {
    throw new Error(`${source.id}/${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A ControlNetModel folder's config (checked against the pipeline's U-Net, text encoder and VAE) and weights. */
async function loadControlNetComponent(c: PipelineComponents, where: ControlNetLocation, variant: string | undefined) {
  let source: ModelSource;
  let dir: string;
  if (!isSource(where)) ({ source, dir } = where);
  else {
    source = where;
    // A ControlNetModel repo has config.json at its root; a ControlNet pipeline folder has it in controlnet/.
    dir = (await source.exists('config.json')) ? '' : 'controlnet';
  }
  const path = dir ? `${dir}/config.json` : 'config.json';
  const file = `${source.id}/${path}`;
  const config = parseControlNetConfig(await readJson(source, path), file);
  checkCompatible(c, config, file);
  const weights = await openComponentWeights(source, dir, variant ? { variant } : {}, () => ({}));
  return { className: 'ControlNetModel', config, weights } as const;
}

function checkCompatible(c: PipelineComponents, cn: ControlNetConfig, file: string): void {
  const unet = `${c.source.id}/unet/config.json`;
  const u = c.unetConfig;
  // An SDXL ControlNet takes the U-Net's added condition (text_embeds, time_ids): it must be the same.
  if (cn.addition_embed_type !== u.addition_embed_type) {
    throw new Error(`${file}: addition_embed_type ${JSON.stringify(cn.addition_embed_type)} does not match the U-Net's ${JSON.stringify(u.addition_embed_type)} (${unet}): ${cn.addition_embed_type ? 'an SDXL ControlNet needs an SDXL model' : 'an SDXL model needs an SDXL ControlNet'}`);
  }
  if (cn.addition_embed_type === 'text_time' && (cn.addition_time_embed_dim !== u.addition_time_embed_dim || cn.projection_class_embeddings_input_dim !== u.projection_class_embeddings_input_dim)) {
    throw new Error(
      `${file}: addition_time_embed_dim ${cn.addition_time_embed_dim} and projection_class_embeddings_input_dim ${cn.projection_class_embeddings_input_dim} do not match the U-Net's ${u.addition_time_embed_dim} and ${u.projection_class_embeddings_input_dim} (${unet})`,
    );
  }
  if (cn.global_pool_conditions) throw new Error(`${file}: global_pool_conditions (guess mode) is not supported by this pipeline yet`);
  if (cn.in_channels !== u.in_channels) throw new Error(`${file}: in_channels ${cn.in_channels} does not match the U-Net's ${u.in_channels} (${unet})`);
  const contextDim = crossAttentionDim(u);
  if (cn.cross_attention_dim !== contextDim) {
    const what = c.text2 ? "text encoders' hidden sizes together" : "text encoder's hidden_size";
    throw new Error(`${file}: cross_attention_dim ${cn.cross_attention_dim} does not match the ${what} ${contextDim} (the U-Net's cross_attention_dim, ${unet})`);
  }
  const f = controlImageFactor(cn);
  if (f !== c.vae.spatialFactor) {
    throw new Error(`${file}: conditioning_embedding_out_channels downsample the control image ${f}×, but the VAE's latents are ${c.vae.spatialFactor}× smaller than the image`);
  }
  // The residuals must fit the U-Net's skip connections one for one.
  const mine = unetResidualShapes(controlNetUNetConfig(cn), 1, 8, 8).down.map((s) => s[1]);
  const theirs = unetResidualShapes(c.unetConfig, 1, 8, 8).down.map((s) => s[1]);
  if (mine.join() !== theirs.join()) throw new Error(`${file}: its residual channels [${mine.join(', ')}] do not match the U-Net's skip connections [${theirs.join(', ')}] (${unet})`);
}

/**
 * Text-to-image under a ControlNet, as diffusers' StableDiffusionControlNetPipeline; `realtime()` for drawing apps.
 *
 * @example
 * const pipe = await ControlNetPipeline.load(source('IDKiro/sdxs-512-dreamshaper'), source('IDKiro/sdxs-512-dreamshaper-sketch'), runtime);
 * const { images } = await pipe.generate({ prompt: 'a castle', image: sketchPad, controlMode: 'sketch', controlScale: 0.8, seed: 1 });
 */
export class ControlNetPipeline {
  /** The text-to-image pipeline underneath (plain generate, img2img, prompt cache, sessions). */
  readonly base: StableDiffusionPipeline;
  readonly controlnetConfig: ControlNetConfig;
  readonly #fuse: boolean;
  readonly #options: ControlNetLoadOptions;

  private constructor(base: StableDiffusionPipeline, controlnet: ControlNetConfig, options: ControlNetLoadOptions) {
    this.base = base;
    this.controlnetConfig = controlnet;
    this.#fuse = options.fuseOneStep ?? true;
    this.#options = options;
  }

  /**
   * Load a model folder and a ControlNet: `controlnet` is a ControlNetModel folder (config.json at its root, e.g.
   * IDKiro/sdxs-512-dreamshaper-sketch) or a source and folder; without it, `source`'s own `controlnet/` (a
   * StableDiffusionControlNetPipeline folder).
   */
  static async load(source: ModelSource, controlnet: ControlNetLocation | undefined, runtime: Runtime, options: ControlNetLoadOptions = {}): Promise<ControlNetPipeline> {
    graphTarget(runtime, options.target); // a mismatch fails before any file is opened
    const components = await loadComponents(source, options);
    let extra: Awaited<ReturnType<typeof loadControlNetComponent>>;
    try {
      if (!controlnet && !components.index.controlnet) {
        throw new Error(`${source.id}/model_index.json: ${components.index.pipelineClass} has no controlnet; pass a ControlNet folder (e.g. IDKiro/sdxs-512-dreamshaper-sketch)`);
      }
      extra = await loadControlNetComponent(components, controlnet ?? { source, dir: 'controlnet' }, options.controlnetVariant ?? options.variant);
    } catch (e) {
      await closeWeights(Object.values(components.weights));
      throw e;
    }
    const base = StableDiffusionPipeline.fromComponents({ ...components, extra: { ...components.extra, controlnet: extra } }, runtime, options);
    return new ControlNetPipeline(base, extra.config, options);
  }

  /**
   * Load a model and its ControlNet in one call (see StableDiffusionPipeline.fromPretrained): `options.controlnet`
   * names a ControlNetModel folder or repo id; without it the model's own `controlnet/`. Without a model, the
   * platform's default sketch model (in Node the embedded `sdxs-micro-1step`, with its sketch ControlNet).
   *
   * @example
   * import { ControlNetPipeline } from '@sdxs/runtime-node';
   * const pipe = await ControlNetPipeline.fromPretrained('IDKiro/sdxs-512-dreamshaper', { controlnet: 'IDKiro/sdxs-512-dreamshaper-sketch' });
   */
  static async fromPretrained(model?: string | ModelSource, options: PretrainedOptions & { readonly controlnet?: string | ModelSource; readonly controlnetVariant?: string } = {}): Promise<ControlNetPipeline> {
    const { controlnet, controlnetVariant, ...rest } = options;
    const parts = await fromPretrainedParts(model, rest, 'controlnet');
    const cn =
      controlnet === undefined || typeof controlnet === 'object'
        ? controlnet
        : (await parts.platform.resolveModel(controlnet, { kind: 'controlnet', onDownload: options.onDownload, signal: options.signal, variant: controlnetVariant })).source;
    return ControlNetPipeline.load(parts.model.source, cn, parts.runtime, { ...parts.options, ...(controlnetVariant ? { controlnetVariant } : {}) });
  }

  get components(): PipelineComponents {
    return this.base.components;
  }

  get defaultSize(): { width: number; height: number } | undefined {
    return this.base.defaultSize;
  }

  /** What `sdxs info` prints: the text-to-image components and the ControlNet. */
  info(): PipelineInfo {
    return this.base.info();
  }

  /**
   * Generate images under the control image, as `pipe(prompt, image=control, controlnet_conditioning_scale=…)`.
   * Without width and height the output takes the control image's size (rounded down to the VAE's factor), as
   * diffusers does; the control image is resized to the output size.
   *
   * @example
   * const { images } = await pipe.generate({ prompt: 'a house', image: edges, controlScale: 0.8, seed: 0 });
   */
  async generate(request: ControlNetRequest): Promise<GenerateResult> {
    const f = this.components.vae.spatialFactor;
    if (typeof request !== 'object' || request === null) throw new TypeError('generate: expected a request object');
    if (typeof request.image !== 'object' || request.image === null) throw new TypeError('generate: "image" (the control image) is required');
    channelsOf(request.image, 'control image');
    const scale = request.controlScale ?? this.base.defaults.controlScale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new RangeError(`generate: "controlScale" must be a finite number, got ${JSON.stringify(scale)}`);
    // get_default_height_width: the control image's size, rounded down to a multiple of the VAE's factor.
    const fallback = (v: number) => Math.max(f, v - (v % f));
    const r = this.base.checkRequest(request, { width: fallback(request.image.width), height: fallback(request.image.height) });
    if (r.output !== 'image') throw new RangeError(`generate: "output" 'latents' is for text-to-image (StableDiffusionPipeline.generate), not ControlNet`);
    // prepare_image: the control image resized and in [0, 1], repeated for every image of the batch.
    const cond = repeatRows(prepareControlImage(request.image, { ...request.controlOptions, mode: request.controlMode ?? 'raw', width: r.width, height: r.height }), r.batch);
    const side = this.#side();
    const settings = this.base.settings;
    return composeGenerate(
      this.base,
      r,
      {
        oneStep: { kind: 'controlnet-one-step', components: CONTROLNET_IMAGE_COMPONENTS, build: (step, shape) => controlNetOneStepGraph(side, this.components.vae, step, shape, settings) },
        unetStep: { kind: 'controlnet-unet-step', components: CONTROLNET_UNET_COMPONENTS, key: (shape) => ({ ...shape, controlnet: true }), build: (shape) => controlNetUNetStepGraph(side, shape, settings) },
        feeds: { controlnet_cond: cond, conditioning_scale: new Tensor('float32', [], Float32Array.of(scale)) },
        dirs: this.#checkedDirs(),
      },
      this.#fuse,
    );
  }


  /**
   * A stream for drawing apps: push control images as they change, read images as they are ready. Only the newest
   * waiting frame is rendered and at most one is in flight, so latency stays near one or two renders however fast
   * frames come; the prompt embedding, noise (fixed seed) and sessions are reused from frame to frame.
   *
   * @example
   * const live = pipe.realtime({ prompt: 'a cat', seed: 0, controlScale: 0.8, controlMode: 'sketch' });
   * pad.onstroke = () => live.push(pad.imageData());
   * for await (const { image, latencyMs } of live.images) draw(image);
   */
  realtime(options: RealtimeOptions): RealtimeStream {
    const size = this.defaultSize;
    const width = options.width ?? size?.width;
    const height = options.height ?? size?.height;
    if (width === undefined || height === undefined) throw new RangeError('realtime: "width" and "height" are required (the U-Net has no sample_size)');
    // One seed for every frame, so the picture changes only where the drawing does.
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 53);
    // Refuse bad options now, not at the first frame.
    checkRequest({ ...options, seed, width, height }, { spatialFactor: this.components.vae.spatialFactor });
    const scale = options.controlScale ?? this.base.defaults.controlScale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new RangeError(`realtime: "controlScale" must be a finite number, got ${JSON.stringify(scale)}`);
    return createRealtimeStream({ ...options, width, height, seed }, async (image: Pixels, o): Promise<RawImage> => {
      const { images } = await this.generate({ ...o, image });
      const first = images[0];
      if (!first) throw new Error('realtime: the pipeline returned no image');
      return first;
    });
  }

  /** Where to look when a check fails: the U-Net's noise prediction includes the ControlNet's residuals. */
  #checkedDirs(): { unet: string; vae: string } {
    const dirs = this.base.componentDirs;
    return { unet: `${dirs.unet}, under the ControlNet`, vae: dirs.vae };
  }

  /** Release the sessions and close the weight files (the ControlNet's included). */
  dispose(): Promise<void> {
    return this.base.dispose();
  }

  #side(): ControlledUNetSide {
    return { ...this.base.unetSide, controlnet: this.controlnetConfig };
  }
}
