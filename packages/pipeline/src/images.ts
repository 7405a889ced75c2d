/**
 * The images a pipeline returns: RGBA pixels that know how they were made, and write themselves as PNG with
 * the generation parameters in it (A1111's `parameters` text, which A1111, ComfyUI, InvokeAI and civitai read,
 * and sdxs's exact JSON record) — in Node and in the browser, with no image library of the caller's.
 */
import { a1111Parameters, encodeJpeg, encodePng, encodeWebp, sdxsParameters, type ImageParameters, type ImageSdxlParameters } from '@sdxs/image';
import type { RawImage } from '@sdxs/tensor';

/** JPEG and WebP: `quality` 0–100 (default 90); the parameters go into the EXIF UserComment, as A1111 writes them. */
export interface ToLossyOptions {
  readonly quality?: number;
  /** Write the parameters (default true). */
  readonly metadata?: boolean;
}

export interface ToPngOptions {
  /** Write the `parameters` and `sdxs` text chunks (default true). */
  readonly metadata?: boolean;
  /** zlib level 0–9 (default 6). */
  readonly level?: number;
}

/** One generated image: `width × height` RGBA bytes (ImageData's layout) and what produced them. */
export class GeneratedImage implements RawImage {
  readonly width: number;
  readonly height: number;
  /** RGBA, row-major; a view into the batch's buffer (copy it to keep it apart). */
  readonly data: Uint8ClampedArray;
  /** Prompt, seed, steps, guidance, size, model, scheduler, provider, dtype: what `infotext` and `record` print. */
  readonly parameters: ImageParameters;

  constructor(image: RawImage, parameters: ImageParameters) {
    this.width = image.width;
    this.height = image.height;
    this.data = image.data;
    this.parameters = parameters;
  }

  /** AUTOMATIC1111's infotext: the prompt, `Negative prompt: …`, then `Steps: 1, Sampler: …, Seed: …`. */
  get infotext(): string {
    return a1111Parameters(this.parameters);
  }

  /** The exact record stored as the PNG's `sdxs` chunk (the seed as a decimal string: it may exceed 2^53). */
  get record(): Record<string, unknown> {
    return JSON.parse(sdxsParameters(this.parameters)) as Record<string, unknown>;
  }

  /**
   * The image as a PNG file, with `parameters` (A1111's infotext) and `sdxs` (the JSON record) text chunks.
   *
   * @example
   * await fs.writeFile('cat.png', images[0].toPng());
   */
  toPng(options: ToPngOptions = {}): Uint8Array {
    const text: [string, string][] = options.metadata === false ? [] : [['parameters', this.infotext], ['sdxs', sdxsParameters(this.parameters)]];
    return encodePng(this, { text, ...(options.level !== undefined ? { level: options.level } : {}) });
  }

  /**
   * The image as a JPEG (MozJPEG) with A1111's infotext as the EXIF UserComment.
   *
   * @example
   * await fs.writeFile('cat.jpg', await images[0].toJpeg({ quality: 85 }));
   */
  toJpeg(options: ToLossyOptions = {}): Promise<Uint8Array> {
    return encodeJpeg(this, { ...(options.quality !== undefined ? { quality: options.quality } : {}), ...(options.metadata === false ? {} : { comment: this.infotext }) });
  }

  /**
   * The image as a WebP (libwebp, lossy; `lossless: true` keeps every pixel) with A1111's infotext as the EXIF
   * UserComment.
   *
   * @example
   * await fs.writeFile('cat.webp', await images[0].toWebp());
   */
  toWebp(options: ToLossyOptions & { readonly lossless?: boolean } = {}): Promise<Uint8Array> {
    return encodeWebp(this, {
      ...(options.quality !== undefined ? { quality: options.quality } : {}),
      ...(options.lossless ? { lossless: true } : {}),
      ...(options.metadata === false ? {} : { comment: this.infotext }),
    });
  }

  /**
   * A `Blob` of the image file (PNG by default; metadata included), for download links and `fetch` bodies in the
   * browser (Node has Blob too).
   *
   * @example
   * link.href = URL.createObjectURL(await image.toBlob());
   * const small = await image.toBlob('image/webp', { quality: 80 });
   */
  async toBlob(type: 'image/png' | 'image/jpeg' | 'image/webp' = 'image/png', options: ToLossyOptions = {}): Promise<Blob> {
    const bytes = type === 'image/png' ? this.toPng(options) : type === 'image/jpeg' ? await this.toJpeg(options) : type === 'image/webp' ? await this.toWebp(options) : undefined;
    if (!bytes) throw new TypeError(`toBlob: type must be image/png, image/jpeg or image/webp, got ${JSON.stringify(type)}`);
    return new Blob([bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer], { type });
  }

  /**
   * An `ImageBitmap` for drawing on a canvas (browsers and workers; Node has no createImageBitmap).
   *
   * @example
   * ctx.drawImage(await image.toImageBitmap(), 0, 0);
   */
  toImageBitmap(): Promise<ImageBitmap> {
    if (typeof createImageBitmap !== 'function' || typeof ImageData !== 'function') {
      return Promise.reject(new TypeError('toImageBitmap needs a browser or a worker (createImageBitmap); in Node use toPng() or the RGBA data'));
    }
    return createImageBitmap(new ImageData(new Uint8ClampedArray(this.data), this.width, this.height));
  }
}

/** What every image of one call shares; each adds its place in the batch. */
export type CallParameters = Omit<ImageParameters, 'batchSize' | 'batchIndex' | 'width' | 'height' | 'prompt' | 'negativePrompt' | 'sdxl'> & {
  /** One per prompt, in order. */
  readonly prompts: readonly string[];
  /** SDXL: the size conditioning, and prompt_2 / negative_prompt_2 one per prompt where given. */
  readonly sdxl?: Omit<ImageSdxlParameters, 'prompt2' | 'negativePrompt2'> & { readonly prompts2?: readonly string[]; readonly negativePrompts2?: readonly string[] };
  /** One per prompt; only used when guidance is on. */
  readonly negativePrompts: readonly string[];
  readonly guidance: boolean;
  readonly numImagesPerPrompt: number;
};

/** One image's SDXL parameters: prompt_2 only where it differs from the prompt, negative_prompt_2 only with guidance. */
function sdxlOf(s: NonNullable<CallParameters['sdxl']>, i: number, prompt: string, guidance: boolean): ImageSdxlParameters {
  const { prompts2, negativePrompts2, ...sizes } = s;
  const prompt2 = prompts2?.[i];
  const negative2 = negativePrompts2?.[i];
  return { ...sizes, ...(prompt2 && prompt2 !== prompt ? { prompt2 } : {}), ...(guidance && negative2 ? { negativePrompt2: negative2 } : {}) };
}

/** The batch's images (prompt-major, as the graphs return them) with their parameters. */
export function generatedImages(images: readonly RawImage[], p: CallParameters): GeneratedImage[] {
  const { prompts, negativePrompts, guidance, numImagesPerPrompt, sdxl, ...common } = p;
  return images.map((image, i) => {
    const prompt = Math.floor(i / numImagesPerPrompt);
    const negative = negativePrompts[prompt];
    return new GeneratedImage(image, {
      ...common,
      prompt: prompts[prompt] ?? '',
      ...(guidance && negative ? { negativePrompt: negative } : {}),
      ...(sdxl ? { sdxl: sdxlOf(sdxl, prompt, prompts[prompt] ?? '', guidance) } : {}),
      width: image.width,
      height: image.height,
      batchSize: images.length,
      batchIndex: i + 1,
    });
  });
}
