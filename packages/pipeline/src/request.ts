/**
 * `generate()` arguments, checked before any work: sizes the graphs cannot take or that would exhaust
 * memory are refused with the field named, as diffusers' `check_inputs` does (and a little stricter).
 */
import { Generator, GeneratorList, type NormalSource, type Seed } from '@sdxs/tensor';
import { throwIfAborted } from './call.js';
import type { ProgressCallback } from './progress.js';
import { checkSdxlFields, type CheckedSdxlFields, type SdxlRequestFields } from './sdxl-request.js';

/** Limits of one call. */
export const MAX_SIDE = 4096;
export const MAX_BATCH = 64;
export const MAX_STEPS = 1000;
/**
 * Longest prompt, in characters (gpt-image-1's limit). CLIP reads the first 77 tokens, a few hundred characters;
 * a megabyte of text is a mistake or an attack, refused rather than tokenized (RELIABILITY.md item 21).
 */
export const MAX_PROMPT_CHARS = 32_000;
/** Images × pixels per call (64 images of 1024²): the float output alone is 12 bytes a pixel. */
export const MAX_BATCH_PIXELS = 64 * 1024 * 1024;

export interface GenerateRequest extends SdxlRequestFields {
  /** One prompt or several (each gives `numImagesPerPrompt` images). Long prompts are truncated to 77 tokens. */
  readonly prompt: string | readonly string[];
  /** Used with guidance (guidanceScale > 1): one for all prompts or one per prompt; default "". */
  readonly negativePrompt?: string | readonly string[];
  /**
   * Seed of a fresh `torch.Generator().manual_seed(seed)`-equivalent generator. Not with `generator`. Without
   * either, a random seed is drawn (and returned with the images, so the run can be repeated).
   */
  readonly seed?: Seed;
  /**
   * A generator to draw from (its stream continues, as with diffusers' `generator=`), or one per image (diffusers'
   * list of generators: image i gets the noise of a batch-of-one run with generator i). Not with `seed`.
   */
  readonly generator?: Generator | readonly Generator[];
  /** num_inference_steps; default the model's (LoadOptions.defaults), else 1 (SDXS, SD-Turbo). */
  readonly steps?: number;
  /** guidance_scale; default the model's, else 0 (no guidance). Classifier-free guidance is on above 1, as in diffusers. */
  readonly guidanceScale?: number;
  /** Image size in pixels; default the U-Net's sample_size × the VAE's scale factor. */
  readonly width?: number;
  readonly height?: number;
  /** Images per prompt (default 1). */
  readonly numImagesPerPrompt?: number;
  /** Also return the float image diffusers returns for `output_type="np"`. */
  readonly float?: boolean;
  /**
   * `'image'` (default), or `'latents'`: the sampling loop's starting noise and final latents, no decode (diffusers'
   * `output_type="latent"`, plus the noise): the teacher's noise → latents pairs for distillation. One step then runs
   * the unfused path (U-Net graph, scheduler step in TypeScript), since the fused graph ends in pixels.
   */
  readonly output?: 'image' | 'latents';
  /**
   * Ends the call: checked before and after every graph run (text encoder, each step, the fused one-step graph,
   * decode) and handed to the run itself. An aborted call rejects with the signal's reason (an AbortError) and
   * returns no images; the pipeline stays usable. On the isolated Node runtime (`isolate: true`) a graph run in
   * flight stops at once (its worker process is killed). In process, onnxruntime-node runs a graph synchronously
   * and cannot be stopped: the run finishes, and an abort signalled meanwhile from a timer or a socket is only seen
   * at the next check — after the last run (the one fused graph of a one-step call) there is none, and the call
   * returns its images.
   */
  readonly signal?: AbortSignal;
  /** This call's progress (encode, each step with its timing, decode; builds and sessions made for it), besides the pipeline's. */
  readonly onProgress?: ProgressCallback;
}

/** A request with every default applied and every field checked. */
export interface CheckedRequest {
  readonly prompts: readonly string[];
  /** One per prompt; empty strings when none were given. */
  readonly negativePrompts: readonly string[];
  /** Whether the request gave a negative prompt ("" counts): SDXL's force_zeros_for_empty_prompt applies when not. */
  readonly negativeGiven: boolean;
  /** SDXL's prompt_2, size and crop conditioning, as given (an SD folder refuses them). */
  readonly sdxl: CheckedSdxlFields;
  /** Where the noise comes from: one generator, or one per image. */
  readonly generator: NormalSource;
  /** The seed the generator was made from; undefined when the caller passed a generator. */
  readonly seed?: bigint;
  readonly steps: number;
  readonly guidanceScale: number;
  /** guidanceScale > 1. */
  readonly guidance: boolean;
  readonly width: number;
  readonly height: number;
  readonly numImagesPerPrompt: number;
  /** prompts × numImagesPerPrompt. */
  readonly batch: number;
  readonly float: boolean;
  readonly output: 'image' | 'latents';
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
}

export interface RequestDefaults {
  /** Default size; undefined when the model does not say (the request must then give it). */
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  /** Pixels per latent: sizes must be multiples of it. */
  readonly spatialFactor: number;
  /** num_inference_steps and guidance_scale when the request leaves them out (default 1 and 0: SDXS). */
  readonly steps?: number | undefined;
  readonly guidanceScale?: number | undefined;
}

function bad(field: string, message: string): never {
  throw new RangeError(`generate: "${field}" ${message}`);
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(field, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) bad(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function strings(field: string, v: unknown): string[] {
  const list: unknown[] = typeof v === 'string' ? [v] : Array.isArray(v) ? v : bad(field, 'must be a string or a list of strings');
  if (list.length === 0) bad(field, 'must not be an empty list');
  list.forEach((s, i) => {
    const name = list.length === 1 && typeof v === 'string' ? field : `${field}[${i}]`;
    if (typeof s !== 'string') bad(name, `must be a string, got ${typeof s}`);
    if (s.length > MAX_PROMPT_CHARS) bad(name, `is ${s.length} characters; at most ${MAX_PROMPT_CHARS} (CLIP reads the first 77 tokens)`);
  });
  return list as string[];
}

/**
 * Apply defaults and check every field of a generate request.
 *
 * @example
 * checkRequest({ prompt: 'a cat', seed: 0 }, { width: 512, height: 512, spatialFactor: 8 });
 */
export function checkRequest(r: GenerateRequest, d: RequestDefaults): CheckedRequest {
  if (typeof r !== 'object' || r === null) throw new TypeError('generate: expected a request object');
  const prompts = strings('prompt', r.prompt);
  if (prompts.length > MAX_BATCH) bad('prompt', `has ${prompts.length} prompts; at most ${MAX_BATCH} per call`);
  const numImagesPerPrompt = int('numImagesPerPrompt', r.numImagesPerPrompt ?? 1, 1, MAX_BATCH);
  const batch = prompts.length * numImagesPerPrompt;
  if (batch > MAX_BATCH) bad('numImagesPerPrompt', `gives ${prompts.length} × ${numImagesPerPrompt} = ${batch} images; at most ${MAX_BATCH} per call`);
  const side = (field: 'width' | 'height', v: number | undefined, fallback: number | undefined): number => {
    if (v === undefined && fallback === undefined) bad(field, "is required: the U-Net's config.json has no sample_size");
    const x = int(field, v ?? fallback, d.spatialFactor, MAX_SIDE);
    if (x % d.spatialFactor !== 0) bad(field, `must be a multiple of ${d.spatialFactor} (the VAE's scale factor), got ${x}`);
    return x;
  };
  const width = side('width', r.width, d.width);
  const height = side('height', r.height, d.height);
  if (batch * width * height > MAX_BATCH_PIXELS) {
    bad('numImagesPerPrompt', `× width × height is ${batch} × ${width} × ${height}, over ${MAX_BATCH_PIXELS} pixels per call`);
  }
  const steps = int('steps', r.steps ?? d.steps ?? 1, 1, MAX_STEPS);
  const guidanceScale = r.guidanceScale ?? d.guidanceScale ?? 0;
  if (typeof guidanceScale !== 'number' || !Number.isFinite(guidanceScale) || guidanceScale < 0) {
    bad('guidanceScale', `must be a finite number ≥ 0, got ${JSON.stringify(guidanceScale)}`);
  }
  // A negative prompt (and SDXL's second prompts): one for all prompts or one per prompt.
  const perPrompt = (field: string, v: unknown): string[] => {
    const list = strings(field, v);
    if (list.length !== 1 && list.length !== prompts.length) bad(field, `has ${list.length} entries for ${prompts.length} prompts; give one, or one per prompt`);
    return list.length === 1 ? prompts.map(() => list[0]!) : list;
  };
  const negativePrompts = r.negativePrompt !== undefined ? perPrompt('negativePrompt', r.negativePrompt) : prompts.map(() => '');
  const sdxl = checkSdxlFields(r, perPrompt);
  const output = r.output ?? 'image';
  if (output !== 'image' && output !== 'latents') bad('output', `must be 'image' or 'latents', got ${JSON.stringify(output)}`);
  if (output === 'latents' && r.float === true) bad('float', `is for images; "output" 'latents' returns no image`);
  if (r.seed !== undefined && r.generator !== undefined) bad('seed', 'and "generator" cannot both be given');
  let generator: NormalSource | undefined;
  if (Array.isArray(r.generator)) {
    const list: readonly unknown[] = r.generator;
    if (list.length !== batch) bad('generator', `is a list of ${list.length} generators for ${batch} images; give one per image`);
    list.forEach((g, i) => {
      if (!(g instanceof Generator)) bad(`generator[${i}]`, 'must be a Generator from @sdxs/tensor');
    });
    generator = new GeneratorList(r.generator as readonly Generator[]);
  } else if (r.generator !== undefined) {
    if (!(r.generator instanceof Generator)) bad('generator', 'must be a Generator from @sdxs/tensor, or a list of them');
    generator = r.generator as Generator;
  }
  let seed: bigint | undefined;
  if (generator === undefined) {
    // A random seed below 2^53 when none is given: diffusers would draw from torch's global RNG.
    let fresh: Generator;
    try {
      fresh = new Generator(r.seed ?? Math.floor(Math.random() * 2 ** 53));
    } catch (e) {
      bad('seed', e instanceof Error ? e.message : String(e));
    }
    seed = fresh.initialSeed();
    generator = fresh;
  }
  if (r.onProgress !== undefined && typeof r.onProgress !== 'function') bad('onProgress', `must be a function, got ${typeof r.onProgress}`);
  throwIfAborted(r.signal);
  return {
    prompts,
    negativePrompts,
    negativeGiven: r.negativePrompt !== undefined,
    sdxl,
    generator,
    ...(seed !== undefined ? { seed } : {}),
    steps,
    guidanceScale,
    guidance: guidanceScale > 1,
    width,
    height,
    numImagesPerPrompt,
    batch,
    float: r.float === true,
    output,
    ...(r.signal ? { signal: r.signal } : {}),
    ...(r.onProgress ? { onProgress: r.onProgress } : {}),
  };
}
