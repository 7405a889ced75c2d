/**
 * An image job: what every route turns its request into, and what travels to a worker over Redis — JSON only
 * (seeds as decimal strings, since they may exceed 2^53; images as base64 PNG).
 */
import { toSeed } from '@sdxs/tensor';

/** One request's images: one prompt, one seed per image (A1111's convention: seed, seed + 1, …). */
export interface ImageJob {
  /** A served model's name. */
  readonly model: string;
  readonly prompt: string;
  /** Used with guidance only; "" for none. */
  readonly negativePrompt: string;
  /** One per image, decimal. */
  readonly seeds: readonly string[];
  /** Omitted fields take the model's defaults where the job runs. */
  readonly steps?: number;
  readonly guidanceScale?: number;
  readonly width?: number;
  readonly height?: number;
  /** img2img: the initial image as base64 PNG, JPEG or WebP, and how much of it to repaint. */
  readonly init?: { readonly png: string; readonly strength: number };
  /**
   * ControlNet: the control image as base64 PNG, JPEG or WebP, how to read it (default sketch) and the conditioning
   * scale (default the model's). Needs a served model with a ControlNet.
   */
  readonly control?: { readonly png: string; readonly mode?: 'raw' | 'sketch' | 'canny'; readonly scale?: number };
  /** The files to return (default png); JPEG and WebP carry the parameters as the EXIF UserComment. */
  readonly format?: 'png' | 'jpeg' | 'webp';
  /** JPEG and WebP quality, 0–100 (default 100, as OpenAI's output_compression). */
  readonly quality?: number;
}

/** What a job gives back. */
export interface ImageJobResult {
  /** base64 files in the job's format (PNG with A1111's `parameters` text and the `sdxs` record; JPEG/WebP with the infotext as EXIF UserComment). */
  readonly images: readonly string[];
  readonly seeds: readonly string[];
  readonly model: string;
  /** The settings the images were made with (the model's defaults applied). */
  readonly steps: number;
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
  /** Images in the batched run that made these (padding excluded). */
  readonly batchImages: number;
  /** The run's time, in ms, and when the job waited in the queue. */
  readonly runMs: number;
  readonly queueMs: number;
  /** A1111's infotext of each image. */
  readonly infotexts: readonly string[];
}

/** Largest seed: the generator takes 0 … 2^64 − 1; A1111 draws random seeds below 2^32. */
export const MAX_SEED = 2n ** 64n - 1n;

/**
 * `count` seeds from `seed` (A1111: seed, seed + 1, …); a random 32-bit start when `seed` is undefined or −1.
 * Other negative seeds are what torch.manual_seed makes of them (the int64 cast to uint64).
 *
 * @example
 * jobSeeds(42, 3); // ['42', '43', '44']
 */
export function jobSeeds(seed: number | string | bigint | undefined, count: number): string[] {
  let start: bigint;
  if (seed === undefined || seed === -1 || seed === '-1' || seed === -1n) start = BigInt(Math.floor(Math.random() * 2 ** 32));
  // torch's own rule (the int64 cast to uint64: −5 is 2^64 − 5), and its range.
  else start = toSeed(typeof seed === 'string' ? BigInt(seed) : seed);
  return Array.from({ length: count }, (_, i) => ((start + BigInt(i)) % (MAX_SEED + 1n)).toString());
}
