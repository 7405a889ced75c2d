/**
 * Running jobs on a model: compatible text-to-image jobs as one batched `generate` (each image drawn from its own
 * seed's generator, so it equals a run of that job alone), img2img jobs one by one. Batches are padded up to a
 * power of two: each batch size is its own graph and session, and padding keeps them to a handful (1, 2, 4, 8…).
 */
import { MAX_SIDE, oneStepImg2ImgSteps, type GenerateResult } from '@sdxs/pipeline';
import { a1111Parameters, decodeImage, encodeJpeg, encodePng, encodeWebp, sdxsParameters, type DecodedImage, type ImageParameters } from '@sdxs/image';
import { Generator, imageToTensor, resize, tensorToImage, type RawImage } from '@sdxs/tensor';
import { badRequest } from './errors.js';
import type { ImageJob, ImageJobResult } from './job.js';
import { defaultSize, type ServedModel } from './models.js';

/** A job with the model's defaults applied: what decides which jobs share a run. */
export interface ResolvedJob extends ImageJob {
  readonly steps: number;
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
}

export function resolveJob(job: ImageJob, model: ServedModel): ResolvedJob {
  const size = defaultSize(model);
  // img2img runs one denoising step: the fewest steps for which steps × strength reaches one (see img2img.ts).
  const initSteps = job.init && job.init.strength > 0 ? oneStepImg2ImgSteps(job.init.strength) : 1;
  return {
    ...job,
    steps: job.steps ?? (job.init ? initSteps : model.steps),
    guidanceScale: job.guidanceScale ?? model.guidanceScale,
    width: job.width ?? size.width,
    height: job.height ?? size.height,
  };
}

/** Jobs with equal keys run as one batch: same model, size, steps and guidance; img2img never batches. */
export function batchKey(job: ResolvedJob): string | undefined {
  if (job.init || job.control) return undefined;
  return JSON.stringify([job.model, job.width, job.height, job.steps, job.guidanceScale]);
}

/** The batch size a run of `images` images is padded to. */
export function paddedBatch(images: number): number {
  let b = 1;
  while (b < images) b *= 2;
  return b;
}

/** The padded batch sizes up to `maxBatch`: the graphs a server may build. */
export function batchBuckets(maxBatch: number): number[] {
  const sizes: number[] = [];
  for (let b = 1; b < maxBatch; b *= 2) sizes.push(b);
  sizes.push(paddedBatch(maxBatch));
  return sizes;
}

/** What goes into every image's metadata besides the job. */
export interface RunContext {
  readonly version: string;
}

function parametersOf(job: ResolvedJob, model: ServedModel, seed: string, index: number, context: RunContext): ImageParameters {
  return {
    prompt: job.prompt,
    ...(job.guidanceScale > 1 && job.negativePrompt ? { negativePrompt: job.negativePrompt } : {}),
    seed: BigInt(seed),
    steps: job.steps,
    guidanceScale: job.guidanceScale,
    width: job.width,
    height: job.height,
    batchSize: job.seeds.length,
    batchIndex: index + 1,
    model: model.name,
    scheduler: model.pipe.components.schedulerClass,
    executionProvider: model.executionProvider,
    dtype: model.dtype,
    version: context.version,
  };
}

/** A run's images (padding dropped) and its time: what the engine waits for before starting the next run. */
export interface Rendered {
  readonly images: readonly RawImage[];
  readonly ms: number;
}

/**
 * The jobs' results from a run: PNGs with their metadata, base64. Done after the engine has moved on to its next
 * run, so this JavaScript work overlaps ONNX Runtime's rather than adding to it.
 */
export async function encodeResults(model: ServedModel, jobs: readonly ResolvedJob[], rendered: Rendered, queueMs: readonly number[], context: RunContext): Promise<ImageJobResult[]> {
  const { images } = rendered;
  const run = { ms: rendered.ms, images: images.length };
  let k = 0;
  const results: ImageJobResult[] = [];
  for (const [j, job] of jobs.entries()) {
    const files: string[] = [];
    const infotexts: string[] = [];
    for (const [i, seed] of job.seeds.entries()) {
      const p = parametersOf(job, model, seed, i, context);
      const infotext = a1111Parameters(p);
      infotexts.push(infotext);
      const image = images[k++]!;
      const quality = job.quality ?? 100;
      const bytes =
        job.format === 'jpeg'
          ? await encodeJpeg(image, { quality, comment: infotext })
          : job.format === 'webp'
            ? await encodeWebp(image, { quality, comment: infotext })
            : encodePng(image, { text: [['parameters', infotext], ['sdxs', sdxsParameters(p)]] });
      files.push(Buffer.from(bytes).toString('base64'));
    }
    results.push({
      images: files,
      seeds: job.seeds,
      model: model.name,
      steps: job.steps,
      guidanceScale: job.guidanceScale,
      width: job.width,
      height: job.height,
      batchImages: run.images,
      runMs: run.ms,
      queueMs: queueMs[j] ?? 0,
      infotexts,
    });
  }
  return results;
}

/**
 * Render text-to-image jobs that share a {@link batchKey} as one batch, padded to a power of two.
 *
 * @example
 * const rendered = await renderTextBatch(model, [jobA, jobB]);
 */
export async function renderTextBatch(model: ServedModel, jobs: readonly ResolvedJob[], signal?: AbortSignal): Promise<Rendered> {
  const first = jobs[0];
  if (!first) return { images: [], ms: 0 };
  const prompts = jobs.flatMap((j) => j.seeds.map(() => j.prompt));
  const negatives = jobs.flatMap((j) => j.seeds.map(() => j.negativePrompt));
  const generators = jobs.flatMap((j) => j.seeds.map((s) => new Generator(BigInt(s))));
  const images = prompts.length;
  // Padding rows repeat the last prompt; their images are dropped.
  for (let i = images; i < paddedBatch(images); i++) {
    prompts.push(prompts[images - 1]!);
    negatives.push(negatives[images - 1]!);
    generators.push(new Generator(0));
  }
  const t0 = performance.now();
  const out: GenerateResult = await model.pipe.generate({
    prompt: prompts,
    negativePrompt: negatives,
    generator: generators,
    steps: first.steps,
    guidanceScale: first.guidanceScale,
    width: first.width,
    height: first.height,
    ...(signal ? { signal } : {}),
  });
  return { images: out.images.slice(0, images), ms: performance.now() - t0 };
}

/** Largest init image accepted, in pixels (the pipeline's largest side, squared): checked from the file's header. */
const MAX_INIT_PIXELS = MAX_SIDE * MAX_SIDE;

/** A job's image (PNG, JPEG or WebP, base64), decoded with its size checked from the header; `what` names it in errors. */
async function jobImage(base64: string, what: string): Promise<DecodedImage> {
  try {
    return await decodeImage(Buffer.from(base64, 'base64'), { maxPixels: MAX_INIT_PIXELS });
  } catch (e) {
    throw badRequest(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The initial image of an img2img job, decoded and resized to the job's size (A1111's "just resize"). */
async function initImage(job: ResolvedJob): Promise<RawImage> {
  const png = await jobImage(job.init!.png, 'init image');
  const image: RawImage = { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  if (png.width === job.width && png.height === job.height) return image;
  const t = resize(imageToTensor(image.data, png.width, png.height, { range: '0,1' }), job.height, job.width, 'bilinear');
  return tensorToImage(t, { range: '0,1' })[0]!;
}

/** Render one ControlNet or img2img job (each image from its own seed, as a run of that image alone). */
export async function renderImageJob(model: ServedModel, job: ResolvedJob, signal?: AbortSignal): Promise<Rendered> {
  if (job.control) return renderControlJob(model, job, job.control, signal);
  const image = await initImage(job);
  const t0 = performance.now();
  const images: RawImage[] = [];
  // One call per image: each image's noise comes from its own seed, as in a run of that image alone.
  for (const seed of job.seeds) {
    const out = await model.pipe.img2img({
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      seed: BigInt(seed),
      steps: job.steps,
      guidanceScale: job.guidanceScale,
      image,
      strength: job.init!.strength,
      ...(signal ? { signal } : {}),
    });
    images.push(out.images[0]!);
  }
  return { images, ms: performance.now() - t0 };
}

/** Render a ControlNet job: the control image resized to the job's size by the pipeline, one call per seed. */
async function renderControlJob(model: ServedModel, job: ResolvedJob, control: NonNullable<ResolvedJob['control']>, signal?: AbortSignal): Promise<Rendered> {
  const pipe = model.control;
  if (!pipe) throw badRequest(`model ${JSON.stringify(model.name)} has no ControlNet`);
  const decoded = await jobImage(control.png, 'control image');
  const image = { width: decoded.width, height: decoded.height, data: decoded.data, channels: 4 as const };
  const t0 = performance.now();
  const images: RawImage[] = [];
  for (const seed of job.seeds) {
    const out = await pipe.generate({
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      seed: BigInt(seed),
      steps: job.steps,
      guidanceScale: job.guidanceScale,
      width: job.width,
      height: job.height,
      image,
      controlMode: control.mode ?? 'sketch',
      controlScale: control.scale ?? model.controlScale ?? 1,
      ...(signal ? { signal } : {}),
    });
    images.push(out.images[0]!);
  }
  return { images, ms: performance.now() - t0 };
}
