/**
 * The request fields only SDXL folders read, and the time ids they become — diffusers' `StableDiffusionXLPipeline`
 * (`prompt_2`, `negative_prompt_2`, `original_size`, `crops_coords_top_left`, `target_size` and their negative
 * counterparts; `_get_add_time_ids`) and `StableDiffusionXLImg2ImgPipeline` (whose negative time ids default
 * differently, see {@link sdxlTimeIds}). Sizes are objects here rather than diffusers' (height, width) tuples, so
 * the order cannot be mistaken; the time ids keep diffusers' order.
 */
import type { CallParameters } from './images.js';

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

export interface CropCoords {
  readonly top: number;
  readonly left: number;
}

/** SDXL-only fields of a generate request; an SD folder refuses them. */
export interface SdxlRequestFields {
  /** The second text encoder's prompt (`prompt_2`); default (and when ""): `prompt`. */
  readonly prompt2?: string | readonly string[];
  /** `negative_prompt_2`; default (and when ""): `negativePrompt`. */
  readonly negativePrompt2?: string | readonly string[];
  /** `original_size` (micro-conditioning: the size the training image had); default the output size. */
  readonly originalSize?: ImageSize;
  /** `crops_coords_top_left` (where the training crop began); default { top: 0, left: 0 }. */
  readonly cropsCoordsTopLeft?: CropCoords;
  /** `target_size`; default the output size. */
  readonly targetSize?: ImageSize;
  /** The negative rows' time ids; text-to-image uses them only when both sizes are given (as diffusers). */
  readonly negativeOriginalSize?: ImageSize;
  readonly negativeCropsCoordsTopLeft?: CropCoords;
  readonly negativeTargetSize?: ImageSize;
}

/** The SDXL fields of a checked request, prompts expanded to one per prompt. */
export interface CheckedSdxlFields extends Omit<SdxlRequestFields, 'prompt2' | 'negativePrompt2'> {
  readonly prompts2?: readonly string[];
  readonly negativePrompts2?: readonly string[];
}

const SIZES = ['originalSize', 'targetSize', 'negativeOriginalSize', 'negativeTargetSize'] as const;
const CROPS = ['cropsCoordsTopLeft', 'negativeCropsCoordsTopLeft'] as const;

function bad(field: string, message: string): never {
  throw new RangeError(`generate: "${field}" ${message}`);
}

function count(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 1 << 20) bad(field, `must be an integer from ${min} to ${1 << 20}, got ${JSON.stringify(v)}`);
  return v;
}

function pair<K extends string>(field: string, v: unknown, keys: readonly [K, K], min: number): Record<K, number> {
  if (typeof v !== 'object' || v === null) bad(field, `must be { ${keys.join(', ')} }, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, count(`${field}.${k}`, o[k], min)])) as Record<K, number>;
}

/**
 * Check the SDXL fields of `r`; `expand(field, value)` turns a prompt field into one string per prompt (the
 * negative prompt's rule). Any field present is returned, absent ones stay absent.
 *
 * @example
 * checkSdxlFields({ prompt: 'a cat', targetSize: { width: 1024, height: 768 } }, expand); // { targetSize: { width: 1024, height: 768 } }
 */
export function checkSdxlFields(r: SdxlRequestFields, expand: (field: string, v: unknown) => string[]): CheckedSdxlFields {
  const out: Record<string, unknown> = {};
  if (r.prompt2 !== undefined) out.prompts2 = expand('prompt2', r.prompt2);
  if (r.negativePrompt2 !== undefined) out.negativePrompts2 = expand('negativePrompt2', r.negativePrompt2);
  for (const f of SIZES) if (r[f] !== undefined) out[f] = pair(f, r[f], ['width', 'height'], 1);
  for (const f of CROPS) if (r[f] !== undefined) out[f] = pair(f, r[f], ['top', 'left'], 0);
  return out as CheckedSdxlFields;
}

/** The names of the SDXL fields a checked request has (an SD folder refuses them). */
export function sdxlFieldsGiven(f: CheckedSdxlFields): string[] {
  return Object.keys(f).map((k) => (k === 'prompts2' ? 'prompt2' : k === 'negativePrompts2' ? 'negativePrompt2' : k));
}

/**
 * `add_time_ids` and `negative_add_time_ids` of one request: original_size + crops_coords_top_left + target_size,
 * each (height, width) / (top, left), sizes defaulting to the output's. Text-to-image (and ControlNet) repeat the
 * positive ids for the negative rows unless both negative sizes are given; img2img (StableDiffusionXLImg2ImgPipeline)
 * defaults each negative field alone: the sizes to the positive ones, the crop to (0, 0).
 *
 * @example
 * sdxlTimeIds({}, { width: 1024, height: 768 }, 'text-to-image'); // { positive: [768, 1024, 0, 0, 768, 1024], negative: same }
 */
export function sdxlTimeIds(f: CheckedSdxlFields, size: ImageSize, mode: 'text-to-image' | 'img2img'): { positive: number[]; negative: number[] } {
  const ids = (o: ImageSize, c: CropCoords, t: ImageSize) => [o.height, o.width, c.top, c.left, t.height, t.width];
  const origin = { top: 0, left: 0 };
  const original = f.originalSize ?? size;
  const target = f.targetSize ?? size;
  const positive = ids(original, f.cropsCoordsTopLeft ?? origin, target);
  if (mode === 'img2img') return { positive, negative: ids(f.negativeOriginalSize ?? original, f.negativeCropsCoordsTopLeft ?? origin, f.negativeTargetSize ?? target) };
  const own = f.negativeOriginalSize && f.negativeTargetSize ? ids(f.negativeOriginalSize, f.negativeCropsCoordsTopLeft ?? origin, f.negativeTargetSize) : positive;
  return { positive, negative: own };
}

/**
 * What an SDXL image's metadata records: the size conditioning in effect (defaults filled in) and the second prompts
 * as given, one per prompt.
 *
 * @example
 * sdxlCallParameters({}, { width: 1024, height: 1024 }); // { originalSize: { width: 1024, height: 1024 }, cropsCoordsTopLeft: { top: 0, left: 0 }, targetSize: … }
 */
export function sdxlCallParameters(f: CheckedSdxlFields, size: ImageSize): NonNullable<CallParameters['sdxl']> {
  return {
    originalSize: f.originalSize ?? size,
    cropsCoordsTopLeft: f.cropsCoordsTopLeft ?? { top: 0, left: 0 },
    targetSize: f.targetSize ?? size,
    ...(f.prompts2 ? { prompts2: f.prompts2 } : {}),
    ...(f.negativePrompts2 ? { negativePrompts2: f.negativePrompts2 } : {}),
  };
}
