/**
 * diffusers' `StableDiffusionPipeline` (pipelines/stable_diffusion/pipeline_stable_diffusion.py) for any
 * runtime: a diffusers folder in, RGBA images out, the same numbers as diffusers for the same seed.
 *
 * One step (SDXS, SD-Turbo) runs as a single fused graph — U-Net, the scheduler step folded into constants,
 * decoder, postprocessing to bytes. More steps run the U-Net graph once per step with the scheduler in
 * TypeScript, then a decode graph. The text encoder is its own graph, and its outputs are cached per prompt.
 */
import type { Graph, LoweringOverrides, Target } from '@sdxs/graph';
import type { SchedulerClassName } from '@sdxs/schedulers';
import { Tensor, type ModelSource, type Runtime, type Session } from '@sdxs/tensor';
import type { GraphCache } from './cache/graph-cache.js';
import type { GraphKeyParts, WeightFileIdentity } from './cache/graph-key.js';
import {
  decodeGraph,
  IMAGE_COMPONENTS,
  oneStepGraph,
  TEXT_2_COMPONENTS,
  TEXT_COMPONENTS,
  textEncoderGraph,
  UNET_COMPONENTS,
  unetStepGraph,
  VAE_COMPONENTS,
  type BuildSettings,
  type ImageGraphShape,
  type UNetSide,
} from './graphs/builders.js';
import type { ComponentPrefix } from './graphs/packed-graph.js';
import { loadComponents, type PipelineComponents } from './model/components.js';
import { closeWeights, type ComponentWeights } from './model/weights.js';
import type { AppliedLora, LoraAdapter, LoraMode } from './lora/load.js';
import { img2img, type Img2ImgRequest } from './img2img.js';
import { pipelineInfo, type PipelineInfo } from './info.js';
import { checkGraphWeights } from './model/check-weights.js';
import type { ProgressCallback } from './progress.js';
import { PromptEmbeddingCache } from './prompt-cache.js';
import type { PromptEncoder } from './prompt-encoder.js';
import { createPromptEncoder, requestConditioning, type Conditioning } from './text-side.js';
import { addedConditionShape, crossAttentionDim } from './model/text-conditioning.js';
import { sdxlCallParameters } from './sdxl-request.js';
import { checkRequest, type CheckedRequest, type GenerateRequest, type RequestDefaults } from './request.js';
import { progressTo, runUnlessAborted } from './call.js';
import { generatedImages, type GeneratedImage } from './images.js';
import { graphTarget } from './target.js';
import { SDXS_VERSION } from './version.js';
import { composeGenerate } from './compose.js';
import { fromPretrainedParts, type PretrainedOptions } from './pretrained.js';
import { GraphSessions, type GraphSessionStats } from './runtime/graph-sessions.js';
import { splitImages } from './tensors.js';

export interface LoadOptions {
  /**
   * Backend the graphs are built for: by default the runtime's execution provider's (`runtime.provider`); one that
   * does not fit it throws (the CPU provider also takes 'wasm', the browser's lowering).
   */
  readonly target?: Target;
  /** Compute dtype of the U-Net and decoder (default float32); the text encoder stays float32. */
  readonly dtype?: 'float32' | 'float16';
  /** Where built graphs are kept across loads (see MemoryGraphCache; runtime-node has a disk one). */
  readonly cache?: GraphCache;
  /** Prefer `*.<variant>.safetensors` weight files, e.g. 'fp16'. */
  readonly variant?: string;
  /** Decoder folder: `vae` (default) or `vae_large` (SDXS's full AutoencoderKL). */
  readonly vae?: 'vae' | 'vae_large';
  /** Use another scheduler class with the folder's scheduler config. */
  readonly scheduler?: SchedulerClassName;
  /** Execution providers passed to the runtime (default: the target's). */
  readonly executionProviders?: readonly string[];
  /** Force composite-op lowerings (see @sdxs/graph's lowering). */
  readonly lowering?: LoweringOverrides;
  /**
   * Run one-step requests as one fused graph (default true). false runs them like multi-step ones (U-Net
   * graph, scheduler step in TypeScript, decode graph): slower, for checking the fold.
   */
  readonly fuseOneStep?: boolean;
  /** Runtime sessions kept alive, least recently used released first (default 4; each image graph holds its weights). */
  readonly maxSessions?: number;
  /** Share a prompt-embedding cache between pipelines, or size this one's (default 256 prompts). */
  readonly promptCache?: PromptEmbeddingCache;
  /** Told about every load, build, session, encode, step and decode (each generate call may add its own). */
  readonly onProgress?: ProgressCallback;
  /** The model's name in image metadata (default: the source's id, a folder path or repo id). */
  readonly name?: string;
  /** Steps and guidance for requests that leave them out (a multi-step teacher's own; default 1 and 0). */
  readonly defaults?: ModelDefaults;
  /**
   * LoRA adapters merged into the U-Net's and text encoder's weights, each `{ source, file, scale }` or (through the
   * platform) `{ path, scale }`: diffusers/PEFT or kohya safetensors; the update is scale × alpha/rank × up·down.
   */
  readonly lora?: readonly LoraAdapter[];
  /**
   * `merge` (default): adapters folded into the weights, the fastest graphs. `nodes`: adapters kept as low-rank graph
   * nodes whose scales `setLoraScales` changes without rebuilding a graph or session (each run then also forms the
   * low-rank updates: see BENCHMARKS.md).
   */
  readonly loraMode?: LoraMode;
}

/** What a model is meant to run with, when its folder does not say (diffusers folders do not). */
export interface ModelDefaults {
  readonly steps?: number;
  readonly guidanceScale?: number;
  /** A ControlNet's conditioning scale (the ControlNet pipeline's default for `controlScale`). */
  readonly controlScale?: number;
}

export interface GenerateTimings {
  /** Tokenizing and the text encoder (0 when every prompt was cached). */
  readonly encodeMs: number;
  /** U-Net evaluations and scheduler steps; for one step, the fused graph (decode included). */
  readonly denoiseMs: number;
  /** The decode graph (0 for one step, whose graph decodes too). */
  readonly decodeMs: number;
  /** Everything, session creation on first use included. */
  readonly totalMs: number;
}

/** The sampling loop's ends, for `output: 'latents'`: [B, C, h, w] float32 each, prompt-major as the images. */
export interface GenerateLatents {
  /** prepare_latents' randn draw, before × init_noise_sigma. */
  readonly noise: Tensor<'float32'>;
  /** The final latents, what the decoder would get: in the U-Net's (scaled) latent space, not yet / scaling_factor. */
  readonly denoised: Tensor<'float32'>;
}

export interface GenerateResult {
  /**
   * RGBA images, prompt-major: prompt 0's images, then prompt 1's… (views of one buffer), each with its parameters
   * and `toPng()`; empty for `output: 'latents'`.
   */
  readonly images: GeneratedImage[];
  /** Only for `output: 'latents'`. */
  readonly latents?: GenerateLatents;
  /** [N, H, W, 3] float32 in [0, 1], as diffusers' `output_type="np"`; only when the request asked for `float`. */
  readonly float?: Tensor<'float32'>;
  /** The seed used (absent when the request passed a generator). */
  readonly seed?: bigint;
  /** Whether one fused graph did the whole step (num_inference_steps 1). */
  readonly fused: boolean;
  readonly timings: GenerateTimings;
}

function defaultExecutionProviders(target: Target): string[] {
  return [target];
}

/** Encode and run progress and the abort signal of one call (see call.ts). */
export interface CallOptions {
  readonly onProgress?: ProgressCallback | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Weight files by component name, the extra components' (a ControlNet's) included. */
function allWeights(c: PipelineComponents): Readonly<Record<string, ComponentWeights>> {
  const extra = Object.entries(c.extra ?? {}).map(([name, e]) => [name, e.weights] as const);
  return { ...c.weights, ...Object.fromEntries(extra) };
}

/**
 * Text-to-image with a Stable Diffusion / SDXS model folder.
 *
 * @example
 * const pipe = await StableDiffusionPipeline.load(new LocalFolderSource('./sdxs-512-dreamshaper'), createNodeRuntime());
 * const { images } = await pipe.generate({ prompt: 'a photo of a cat', seed: 42 }); // 1 step, no guidance
 * const sd15 = await pipe2.generate({ prompt: 'a cat', negativePrompt: 'blurry', steps: 25, guidanceScale: 7.5 });
 */
export class StableDiffusionPipeline {
  readonly components: PipelineComponents;
  readonly runtime: Runtime;
  readonly settings: BuildSettings;
  /** The model's name in image metadata. */
  readonly name: string;
  /** Steps and guidance used when a request leaves them out. */
  readonly defaults: ModelDefaults;
  readonly #sessions: GraphSessions;
  readonly #prompts: PromptEncoder;
  readonly #onProgress: ProgressCallback | undefined;
  readonly #fuse: boolean;
  /** Current adapter scales when the adapters are graph nodes (undefined when merged or absent). */
  #loraScales: readonly number[] | undefined;
  #disposed = false;

  private constructor(components: PipelineComponents, runtime: Runtime, options: LoadOptions) {
    this.components = components;
    this.runtime = runtime;
    this.settings = { target: graphTarget(runtime, options.target), dtype: options.dtype ?? 'float32', ...(options.lowering ? { lowering: options.lowering } : {}) };
    this.name = options.name ?? components.source.id;
    this.defaults = options.defaults ?? {};
    this.#onProgress = options.onProgress;
    this.#fuse = options.fuseOneStep ?? true;
    const nodes = Object.values(allWeights(components)).some((w) => w.lora?.mode === 'nodes');
    if (nodes) this.#loraScales = (components.lora ?? []).map((a) => a.scale);
    this.#sessions = new GraphSessions(runtime, allWeights(components), {
      cache: options.cache,
      executionProviders: options.executionProviders ?? defaultExecutionProviders(this.settings.target),
      maxSessions: options.maxSessions,
      ...(nodes ? { loraScales: () => new Tensor('float32', [this.#loraScales!.length], Float32Array.from(this.#loraScales!)) } : {}),
    });
    // The prompt cache may be shared between pipelines: its scope says which text encoder weights, adapters included.
    const length = components.tokenizer.maxLength;
    this.#prompts = createPromptEncoder(
      components,
      (kind, build, parts, fn, onProgress) => this.#use(kind, { length }, build, parts, fn, onProgress),
      this.settings,
      options.promptCache ?? new PromptEmbeddingCache(),
      components.text2 ? `${this.componentDirs.text_encoder} or ${components.source.id}/${components.weights.text_encoder_2?.dir}` : this.componentDirs.text_encoder,
      () => this.#loraScales ?? [],
    );
  }

  /**
   * Load a diffusers folder (`model_index.json`, unet, text_encoder, tokenizer, vae, scheduler). Graphs are
   * built lazily, on the first generate call of each batch and size.
   */
  static async load(source: ModelSource, runtime: Runtime, options: LoadOptions = {}): Promise<StableDiffusionPipeline> {
    graphTarget(runtime, options.target); // a mismatch fails before any file is opened
    if (options.loraMode !== undefined && options.loraMode !== 'merge' && options.loraMode !== 'nodes') {
      throw new TypeError(`load: "loraMode" must be 'merge' or 'nodes', got ${JSON.stringify(options.loraMode)}`);
    }
    const components = await loadComponents(source, options);
    return StableDiffusionPipeline.fromComponents(components, runtime, options);
  }

  /**
   * Load a model in one call, as diffusers' `from_pretrained`: a Hugging Face repo id (downloaded into the cache on
   * first use), a folder (a URL in the browser) or a ModelSource, or nothing for the platform's default model (in
   * Node the embedded `sdxs-micro`, offline); on `device` ('auto' by default: the best provider that works, with a
   * warning when that is the CPU). Graphs are built for the runtime opened, cached on disk (Node) or in Cache
   * Storage (browsers). Import the class from `@sdxs/runtime-node` or `@sdxs/runtime-web`, which provide the platform.
   *
   * @example
   * import { StableDiffusionPipeline } from '@sdxs/runtime-node';
   * const pipe = await StableDiffusionPipeline.fromPretrained('IDKiro/sdxs-512-dreamshaper', { device: 'cuda' });
   * const { images } = await pipe.generate({ prompt: 'a photo of a cat', seed: 42 });
   * await writeFile('cat.png', images[0].toPng());
   */
  static async fromPretrained(model?: string | ModelSource, options: PretrainedOptions = {}): Promise<StableDiffusionPipeline> {
    const parts = await fromPretrainedParts(model, options);
    return StableDiffusionPipeline.load(parts.model.source, parts.runtime, parts.options);
  }

  /**
   * A pipeline over components loaded already (by `loadComponents`, plus `extra` ones such as a ControlNet): how
   * the ControlNet pipeline builds on this one. The pipeline owns the weight files from now on (dispose closes them).
   */
  static fromComponents(components: PipelineComponents, runtime: Runtime, options: LoadOptions = {}): StableDiffusionPipeline {
    try {
      return new StableDiffusionPipeline(components, runtime, options);
    } catch (e) {
      void closeWeights(Object.values(allWeights(components)));
      throw e;
    }
  }

  /** Default width and height: the U-Net's sample_size × the VAE's scale factor (512 for SDXS-512), if known. */
  get defaultSize(): { width: number; height: number } | undefined {
    const s = this.components.unetConfig.sample_size;
    const f = this.components.vae.spatialFactor;
    if (s === null) return undefined;
    const [h, w] = typeof s === 'number' ? [s, s] : [s[0], s[1] ?? s[0]];
    return h === undefined || w === undefined ? undefined : { width: w * f, height: h * f };
  }

  /** Graph builds, cache hits and sessions so far. */
  get graphStats(): Readonly<GraphSessionStats> {
    return { ...this.#sessions.stats };
  }

  /**
   * `prompt_embeds` `[prompts, 77, hidden]`: the text encoder's last hidden state per prompt (cached); for SDXL both
   * encoders' penultimate hidden states side by side (prompt_2 = prompt; `conditioning` gives the pooled ones too).
   *
   * @example
   * const embeds = await pipe.encodePrompt(['a photo of a cat']);
   */
  async encodePrompt(prompt: string | readonly string[], call: CallOptions = {}): Promise<Tensor<'float32'>> {
    this.#alive();
    const prompts = typeof prompt === 'string' ? [prompt] : prompt;
    const encoded = await this.#prompts.encode(this.components.text2 ? [prompts, prompts] : [prompts], { signal: call.signal, onProgress: progressTo(this.#onProgress, call.onProgress) });
    return encoded.embeds;
  }

  /** The request's progress callback joined to the pipeline's (the ControlNet and img2img pipelines report through it too). */
  progressOf(r: { readonly onProgress?: ProgressCallback | undefined }): ProgressCallback | undefined {
    return progressTo(this.#onProgress, r.onProgress);
  }

  /** The checked request with the model's defaults: its size, steps and guidance where the request leaves them out. */
  checkRequest(request: GenerateRequest, defaults: Partial<RequestDefaults> = {}): CheckedRequest {
    return checkRequest(request, { ...this.defaultSize, ...this.defaults, spatialFactor: this.components.vae.spatialFactor, ...defaults });
  }

  /** The images of a checked request's batch, each with its generation parameters. */
  images(rgba: Tensor, r: CheckedRequest): GeneratedImage[] {
    return generatedImages(splitImages(rgba), {
      prompts: r.prompts,
      negativePrompts: r.negativePrompts,
      guidance: r.guidance,
      numImagesPerPrompt: r.numImagesPerPrompt,
      ...(r.seed !== undefined ? { seed: r.seed } : {}),
      steps: r.steps,
      guidanceScale: r.guidanceScale,
      model: this.name,
      scheduler: this.components.schedulerClass,
      executionProvider: this.runtime.provider ?? this.runtime.name,
      dtype: this.settings.dtype,
      version: SDXS_VERSION,
      ...(this.components.lora ? { loras: this.loras } : {}),
      ...(this.components.text2 ? { sdxl: sdxlCallParameters(r.sdxl, { width: r.width, height: r.height }) } : {}),
    });
  }

  /** The LoRA adapters applied, with their current scales (in the order given at load). */
  get loras(): readonly AppliedLora[] {
    const applied = this.components.lora ?? [];
    return this.#loraScales ? applied.map((a, i) => ({ ...a, scale: this.#loraScales![i]! })) : applied;
  }

  /**
   * Change the LoRA adapters' scales, one per adapter in the order given at load (0 turns one off), without rebuilding
   * any graph or session: as diffusers' `set_adapters(names, adapter_weights)`. Needs `loraMode: 'nodes'`. Calls and
   * graph runs that start afterwards use the new scales.
   *
   * @example
   * const pipe = await StableDiffusionPipeline.fromPretrained(model, { lora: [{ path: 'style.safetensors' }], loraMode: 'nodes' });
   * pipe.setLoraScales([0.5]); // half strength, same sessions
   */
  setLoraScales(scales: readonly number[]): void {
    this.#alive();
    const n = this.components.lora?.length ?? 0;
    if (!this.#loraScales) {
      throw new Error(n === 0 ? 'setLoraScales: this pipeline was loaded without LoRA adapters' : "setLoraScales: the adapters are merged into the weights; load with loraMode: 'nodes' to switch their scales");
    }
    if (scales.length !== n) throw new RangeError(`setLoraScales: give ${n} scale${n === 1 ? '' : 's'} (one per adapter, in load order), got ${scales.length}`);
    scales.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`setLoraScales: scale ${i} must be a finite number, got ${String(v)}`);
    });
    this.#loraScales = [...scales];
  }

  /** Components, parameter counts, dtypes, scheduler: what `sdxs info` prints. */
  info(): PipelineInfo {
    return pipelineInfo(this.components, this.runtime, this.settings, this.#sessions.stats);
  }

  /**
   * Generate images, as `pipe(prompt, num_inference_steps=steps, guidance_scale=…, generator=…)` in diffusers.
   *
   * @example
   * const { images, seed } = await pipe.generate({ prompt: ['a cat', 'a dog'], seed: 0, numImagesPerPrompt: 2 });
   * const { latents } = await pipe.generate({ prompt: 'a cat', seed: 0, steps: 25, guidanceScale: 5, output: 'latents' });
   */
  generate(request: GenerateRequest & { readonly output: 'latents' }): Promise<GenerateResult & { readonly latents: GenerateLatents }>;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.#alive();
    const side = this.unetSide;
    return composeGenerate(
      this,
      this.checkRequest(request),
      {
        oneStep: { kind: 'one-step', components: IMAGE_COMPONENTS, build: (step, shape) => oneStepGraph(side, this.components.vae, step, shape, this.settings) },
        unetStep: { kind: 'unet-step', components: UNET_COMPONENTS, key: (shape) => ({ ...shape }), build: (shape) => unetStepGraph(side, shape, this.settings) },
        dirs: this.componentDirs,
      },
      this.#fuse,
    );
  }

  /**
   * Image-to-image for one-step models, as diffusers' StableDiffusionImg2ImgPipeline with the same folder: the
   * image encoded, noised to `strength`, one denoising step, decoded — one graph (see img2img.ts for strength).
   *
   * @example
   * const { images } = await pipe.img2img({ prompt: 'a watercolor', image: photo, strength: 0.6, seed: 0 });
   */
  img2img(request: Img2ImgRequest): Promise<GenerateResult> {
    this.#alive();
    return img2img(this, request);
  }

  /**
   * Check every tensor the graphs read (text encoder, U-Net, decoder) against the model's files — names, shapes,
   * dtypes — without creating a session; throws a CheckpointError naming what is missing or wrong. Resolves to the
   * number of tensors checked.
   *
   * @example
   * await pipe.checkWeights(); // 1,190
   */
  async checkWeights(): Promise<number> {
    this.#alive();
    const c = this.components;
    const f = c.vae.spatialFactor;
    const size = this.defaultSize ?? { width: 8 * f, height: 8 * f };
    const shape: ImageGraphShape = { batch: 1, latentHeight: size.height / f, latentWidth: size.width / f, guidance: false };
    const decodeShape = { batch: 1, latentHeight: shape.latentHeight, latentWidth: shape.latentWidth };
    return checkGraphWeights(
      [
        ...(c.text2
          ? [
              { build: () => textEncoderGraph(c.textConfig, c.tokenizer.maxLength, this.settings, { hidden: 'penultimate' }), components: TEXT_COMPONENTS },
              { build: () => textEncoderGraph(c.text2!.config, c.tokenizer.maxLength, this.settings, { hidden: 'penultimate', textEmbeds: true }), components: TEXT_2_COMPONENTS },
            ]
          : [{ build: () => textEncoderGraph(c.textConfig, c.tokenizer.maxLength, this.settings), components: TEXT_COMPONENTS }]),
        { build: () => unetStepGraph(this.unetSide, shape, this.settings), components: UNET_COMPONENTS },
        { build: () => decodeGraph(c.vae, decodeShape, this.settings), components: VAE_COMPONENTS },
      ],
      allWeights(c),
    );
  }

  /** Release the sessions and close the weight files. The pipeline cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#sessions.dispose();
    await closeWeights(Object.values(allWeights(this.components)));
  }

  /**
   * Run `fn` with the session of graph `kind` (built, or taken from the graph cache, on first use), keyed by
   * `shape` (every build option beyond the pipeline's settings) and the configs and weights of `components`.
   * The entry point for pipelines built on this one (ControlNet, img2img): they add graphs, this one runs them.
   *
   * @example
   * const out = await pipe.runGraph('decode', shape, () => decodeGraph(vae, shape, pipe.settings), VAE_COMPONENTS, (s) => s.run({ latents }, ['rgba']));
   */
  runGraph<T>(kind: string, shape: object, build: () => Graph, components: readonly ComponentPrefix[], fn: (s: Session) => Promise<T>, onProgress?: ProgressCallback): Promise<T> {
    this.#alive();
    return this.#use(kind, shape, build, components, fn, onProgress ?? this.#onProgress);
  }

  #alive(): void {
    if (this.#disposed) throw new Error('StableDiffusionPipeline: used after dispose()');
  }

  /**
   * What every U-Net graph of the request is fed (encode_prompt, repeated per image): encoder_hidden_states
   * [negatives × N, prompts × N] with guidance, else prompts × N; for SDXL also text_embeds and time_ids (`mode`
   * picks img2img's defaults for the negative time ids).
   *
   * @example
   * const { encoderHiddenStates, textEmbeds, timeIds } = await pipe.conditioning(pipe.checkRequest({ prompt: 'a cat' }));
   */
  async conditioning(r: CheckedRequest, mode: 'text-to-image' | 'img2img' = 'text-to-image'): Promise<Conditioning> {
    this.#alive();
    return requestConditioning(this.components, this.#prompts, { ...r, onProgress: progressTo(this.#onProgress, r.onProgress) }, mode);
  }

  /** Where each component's weights are, for errors: `<model>/<folder>`. */
  get componentDirs(): Readonly<Record<'unet' | 'vae' | 'text_encoder', string>> {
    const w = this.components.weights;
    const id = this.components.source.id;
    return { unet: `${id}/${w.unet.dir}`, vae: `${id}/${w.vae.dir}`, text_encoder: `${id}/${w.text_encoder.dir}` };
  }

  /** The U-Net and what conditions it, as the image graphs take it (SDXL: the added text_embeds and time ids too). */
  get unetSide(): UNetSide {
    const c = this.components;
    return { config: c.unetConfig, contextDim: crossAttentionDim(c.unetConfig), contextLength: c.tokenizer.maxLength, added: addedConditionShape(c.text2) };
  }

  #keyParts(kind: string, extra: object, components: readonly ComponentPrefix[]): GraphKeyParts {
    const c = this.components;
    const configs: Record<string, unknown> = {};
    const weights: Record<string, readonly WeightFileIdentity[]> = {};
    const adapters: Record<string, NonNullable<GraphKeyParts['adapters']>[string]> = {};
    const all = allWeights(c);
    for (const { component } of components) {
      const w = Object.entries(all).find(([name]) => name === component)?.[1];
      if (!w) throw new Error(`no weights loaded for component ${component}`);
      weights[component] = w.identity;
      // Adapter nodes take their scales as an input: the graph is the same whatever the scales.
      if (w.lora) adapters[component] = w.lora.mode === 'nodes' ? w.lora.adapters.map((a) => ({ ...a, scale: 'input' as const })) : w.lora.adapters;
      const extra = c.extra?.[component];
      configs[component] =
        component === 'unet'
          ? c.unetConfig
          : component === 'vae'
            ? { className: c.vae.className, config: c.vae.config }
            : extra
              ? { className: extra.className, config: extra.config }
              : component === 'text_encoder_2'
                ? c.text2?.config
                : c.textConfig;
    }
    // The text encoders are always float32: their keys leave the dtype out, so float16 pipelines share them.
    const { dtype, ...rest } = this.settings;
    const settings = components === TEXT_COMPONENTS || components === TEXT_2_COMPONENTS ? rest : { dtype, ...rest };
    return { kind, configs, weights, ...(Object.keys(adapters).length ? { adapters } : {}), options: { ...settings, ...extra } };
  }

  /** Run `fn` with the session of a graph (built, or taken from the cache, on first use). */
  #use<T>(kind: string, shape: object, build: () => Graph, components: readonly ComponentPrefix[], fn: (s: Session) => Promise<T>, onProgress: ProgressCallback | undefined): Promise<T> {
    return this.#sessions.use({ parts: this.#keyParts(kind, shape, components), components, build }, fn, onProgress);
  }
}
