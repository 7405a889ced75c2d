/**
 * The generation parameters stored in each PNG: AUTOMATIC1111's `parameters` text (read by A1111, ComfyUI,
 * InvokeAI, civitai and most image browsers) and an `sdxs` JSON record with exact values.
 */

/** What produced one image. */
export interface ImageParameters {
  readonly prompt: string;
  /** Only when guidance used it. */
  readonly negativePrompt?: string;
  /** Absent when the caller drew the noise from its own generator (then no seed repeats the image). */
  readonly seed?: bigint | undefined;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
  /** Images generated together, and this one's 1-based place among them. */
  readonly batchSize: number;
  readonly batchIndex: number;
  /** Repo id or folder name. */
  readonly model: string;
  /** diffusers scheduler class. */
  readonly scheduler: string;
  readonly executionProvider: string;
  readonly dtype: string;
  readonly version: string;
  /** LoRA adapters merged into the model: file name without extension, scale, SHA-256 of the whole file. */
  readonly loras?: readonly ImageLora[] | undefined;
  /** SDXL's second prompts and size conditioning (A1111's infotext has no field for them: only the JSON record). */
  readonly sdxl?: ImageSdxlParameters | undefined;
}

/** What an SDXL image was conditioned on beyond the prompt: the time ids' sizes and the second encoder's prompts. */
export interface ImageSdxlParameters {
  /** `prompt_2` when it differed from the prompt. */
  readonly prompt2?: string;
  /** `negative_prompt_2` when given and used (guidance on). */
  readonly negativePrompt2?: string;
  readonly originalSize: { readonly width: number; readonly height: number };
  readonly cropsCoordsTopLeft: { readonly top: number; readonly left: number };
  readonly targetSize: { readonly width: number; readonly height: number };
}

/** A LoRA adapter an image was made with. */
export interface ImageLora {
  readonly name: string;
  readonly scale: number;
  readonly sha256: string;
}

/** Longest prompt stored in metadata: CLIP reads 77 tokens, so a 10 MB prompt need not be copied twice into every file. */
export const MAX_METADATA_PROMPT = 64 * 1024;

// A1111's sampler names for diffusers' scheduler classes (modules/sd_samplers_kdiffusion.py and friends).
const SAMPLER_NAMES: Readonly<Record<string, string>> = {
  EulerDiscreteScheduler: 'Euler',
  EulerAncestralDiscreteScheduler: 'Euler a',
  DDIMScheduler: 'DDIM',
  DDPMScheduler: 'DDPM',
  DPMSolverMultistepScheduler: 'DPM++ 2M',
  LCMScheduler: 'LCM',
};

/** A1111's sampler name for a scheduler class (the class name when A1111 has none). */
export function samplerName(schedulerClass: string): string {
  return SAMPLER_NAMES[schedulerClass] ?? schedulerClass;
}

/** infotext_utils.quote: values holding `,`, `:` or a newline are JSON-quoted, so the line still splits. */
function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

/** Python's str() of a float: `7.0`, `0.0`, `7.5`. */
function pyFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function clip(text: string): string {
  return text.length > MAX_METADATA_PROMPT ? text.slice(0, MAX_METADATA_PROMPT) : text;
}

/**
 * A1111's infotext (processing.create_infotext): the prompt, `Negative prompt: …` when there is one, then
 * `Key: value` pairs.
 *
 * @example
 * a1111Parameters(p); // 'a cat\nSteps: 1, Sampler: Euler, CFG scale: 0.0, Seed: 42, Size: 512x512, Model: IDKiro/sdxs-512-dreamshaper, Version: sdxs 0.1.0'
 */
export function a1111Parameters(p: ImageParameters): string {
  const pairs: [string, string][] = [
    ['Steps', String(p.steps)],
    ['Sampler', samplerName(p.scheduler)],
    ['CFG scale', pyFloat(p.guidanceScale)],
    ...(p.seed !== undefined ? ([['Seed', p.seed.toString()]] as [string, string][]) : []),
    ['Size', `${p.width}x${p.height}`],
    ['Model', p.model],
    // A1111's Lora extension: `Lora hashes: "name: <first 12 hex of the file's SHA-256>, …"` (civitai links it).
    ...(p.loras?.length ? ([['Lora hashes', p.loras.map((l) => `${l.name}: ${l.sha256.slice(0, 12)}`).join(', ')]] as [string, string][]) : []),
    ...(p.batchSize > 1 ? ([['Batch size', String(p.batchSize)], ['Batch pos', String(p.batchIndex - 1)]] as [string, string][]) : []),
    ['Version', `sdxs ${p.version}`],
  ];
  const negative = p.negativePrompt ? `\nNegative prompt: ${clip(p.negativePrompt)}` : '';
  return `${clip(p.prompt)}${negative}\n${pairs.map(([k, v]) => `${k}: ${quote(v)}`).join(', ')}`.trim();
}

/** The SDXL fields under diffusers' argument names, sizes as its (height, width) tuples. */
function sdxlRecord(s: ImageSdxlParameters): Record<string, unknown> {
  return {
    ...(s.prompt2 !== undefined ? { prompt_2: clip(s.prompt2) } : {}),
    ...(s.negativePrompt2 !== undefined ? { negative_prompt_2: clip(s.negativePrompt2) } : {}),
    original_size: [s.originalSize.height, s.originalSize.width],
    crops_coords_top_left: [s.cropsCoordsTopLeft.top, s.cropsCoordsTopLeft.left],
    target_size: [s.targetSize.height, s.targetSize.width],
  };
}

/**
 * The `sdxs` record: exact values (the seed as a decimal string, since it may exceed 2^53), ASCII-only JSON
 * so it always fits a Latin-1 tEXt chunk.
 *
 * @example
 * JSON.parse(sdxsParameters(p)).seed; // '42'
 */
export function sdxsParameters(p: ImageParameters): string {
  const record = {
    format: 1,
    generator: `sdxs ${p.version}`,
    prompt: clip(p.prompt),
    ...(p.prompt.length > MAX_METADATA_PROMPT ? { prompt_truncated_from: p.prompt.length } : {}),
    negative_prompt: p.negativePrompt === undefined ? null : clip(p.negativePrompt),
    seed: p.seed === undefined ? null : p.seed.toString(),
    steps: p.steps,
    guidance_scale: p.guidanceScale,
    width: p.width,
    height: p.height,
    batch_size: p.batchSize,
    batch_index: p.batchIndex,
    model: p.model,
    scheduler: p.scheduler,
    execution_provider: p.executionProvider,
    dtype: p.dtype,
    ...(p.loras?.length ? { loras: p.loras.map((l) => ({ name: l.name, scale: l.scale, sha256: l.sha256 })) } : {}),
    ...(p.sdxl ? { sdxl: sdxlRecord(p.sdxl) } : {}),
  };
  return JSON.stringify(record).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
