/**
 * The page side: a typed, promise-based handle on the generation worker. Results come back as the pipeline's
 * GeneratedImage rebuilt from the worker's pixels and parameters (so `toPng()`, `toBlob()` and `infotext` work on the
 * page) with an ImageData over the same bytes (transferred, not copied); `realtime` keeps at most one frame in flight
 * for drawing apps.
 */
import { createRealtimeStream, GeneratedImage, type RealtimeImage, type RealtimeOptions, type RealtimeStream } from '@sdxs/pipeline';
import type { GenerateTimings } from '@sdxs/pipeline';
import type { Backend } from '../backend.js';
import { SdxsWorkerError } from '../errors.js';
import { toImageData } from '../image.js';
import type { FromWorker, GeneratedMessage, LoadedInfo, LoadRequest, ToWorker, WorkerGenerateRequest, WorkerProgress } from './protocol.js';

/** What the client needs of a Worker (a MessagePort works too). */
export interface WorkerLike {
  postMessage(message: ToWorker, options?: StructuredSerializeOptions): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error', listener: (event: Event) => void): void;
  terminate?(): void;
}

/**
 * An image generated in the worker: the pipeline's GeneratedImage (pixels, `parameters`, `infotext`, `toPng()` and
 * `toBlob()` with A1111's `parameters` chunk), plus an ImageData over the same bytes and how the call went.
 *
 * @example
 * const image = await client.generate({ prompt: 'a cat', seed: 0 });
 * ctx.putImageData(image.imageData, 0, 0);
 * link.href = URL.createObjectURL(await image.toBlob()); // the PNG keeps the prompt, seed, steps…
 */
export class WorkerImage extends GeneratedImage {
  /** The pixels for a canvas (`putImageData`); shares its bytes with `data`. */
  readonly imageData: ImageData;
  readonly seed?: bigint;
  readonly timings: GenerateTimings;
  readonly backend: Backend;
  /** From the request being posted to the image arriving on the page. */
  readonly roundTripMs: number;

  constructor(message: GeneratedMessage, roundTripMs: number) {
    const imageData = toImageData(message);
    super({ width: imageData.width, height: imageData.height, data: imageData.data }, message.parameters);
    this.imageData = imageData;
    if (message.seed !== undefined) this.seed = BigInt(message.seed);
    this.timings = message.timings;
    this.backend = message.backend;
    this.roundTripMs = roundTripMs;
  }
}

/** A rendered frame of {@link SdxsClient.realtime}: its image is a WorkerImage (downloadable with its parameters). */
export interface WorkerRealtimeImage extends RealtimeImage {
  readonly image: WorkerImage;
}

/** {@link SdxsClient.realtime}'s stream: the pipeline's RealtimeStream, its frames typed as WorkerImages. */
export interface WorkerRealtimeStream extends Omit<RealtimeStream, 'images'> {
  readonly images: AsyncIterable<WorkerRealtimeImage>;
}

export interface CallOptions {
  readonly onProgress?: (event: WorkerProgress) => void;
}

interface Pending {
  readonly resolve: (message: FromWorker) => void;
  readonly reject: (error: Error) => void;
  readonly onProgress: ((event: WorkerProgress) => void) | undefined;
}

/**
 * Talk to a worker running `exposeSdxsWorker()`.
 *
 * @example
 * const client = new SdxsClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));
 * const info = await client.load({ model: '/models/sdxs/' }, { onProgress: (e) => console.log(e) });
 * const image = await client.generate({ prompt: 'a cat', seed: 0 }); // image.imageData, image.toBlob(), image.infotext
 */
export class SdxsClient {
  readonly #worker: WorkerLike;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #broken: Error | undefined;

  constructor(worker: WorkerLike) {
    this.#worker = worker;
    worker.addEventListener('message', (event) => this.#receive(event.data));
    worker.addEventListener('error', (event) => {
      // A worker that failed to start (a script blocked by CSP, a syntax error) never answers: fail every call.
      const detail = typeof ErrorEvent !== 'undefined' && event instanceof ErrorEvent && event.message ? `: ${event.message}` : '';
      this.#fail(new SdxsWorkerError({ kind: 'model-load', name: 'WorkerError', message: `the generation worker failed${detail}` }));
    });
  }

  /** Load a model (and optionally a ControlNet) in the worker; replaces any model loaded before. */
  async load(request: LoadRequest, options: CallOptions = {}): Promise<LoadedInfo> {
    const reply = await this.#call({ type: 'load', request }, options);
    if (reply.type !== 'loaded') throw new Error(`unexpected reply ${reply.type}`);
    return reply.info;
  }

  /** Generate one image. */
  async generate(request: WorkerGenerateRequest, options: CallOptions = {}): Promise<WorkerImage> {
    const t0 = performance.now();
    const reply = await this.#call({ type: 'generate', request }, options);
    if (reply.type !== 'generated') throw new Error(`unexpected reply ${reply.type}`);
    return new WorkerImage(reply.image, performance.now() - t0);
  }

  /**
   * A stream for a sketch pad: push the pad's pixels on every stroke, read images as they are ready. At most
   * one frame is in the worker and only the newest waiting one is kept (@sdxs/pipeline's realtime scheduling),
   * so latency stays near one render however fast strokes come. The seed is fixed for the stream.
   *
   * @example
   * const live = client.realtime({ prompt: 'a house', controlMode: 'sketch', controlScale: 0.8, width: 512, height: 512 });
   * pad.onchange = () => live.push(pad.imageData());
   * for await (const frame of live.images) ctx.putImageData(frame.image.imageData, 0, 0);
   */
  realtime(options: RealtimeOptions & { readonly width: number; readonly height: number }): WorkerRealtimeStream {
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 53);
    const stream = createRealtimeStream({ ...options, seed }, async (image, o) => {
      const alpha = o.controlOptions?.alpha;
      return this.generate({
        prompt: o.prompt,
        ...(o.negativePrompt !== undefined ? { negativePrompt: o.negativePrompt } : {}),
        seed: typeof o.seed === 'bigint' ? o.seed.toString() : o.seed,
        width: o.width,
        height: o.height,
        ...(o.steps !== undefined ? { steps: o.steps } : {}),
        ...(o.guidanceScale !== undefined ? { guidanceScale: o.guidanceScale } : {}),
        control: { image, mode: o.controlMode ?? 'raw', ...(o.controlScale !== undefined ? { scale: o.controlScale } : {}), ...(alpha ? { alpha } : {}) },
      });
    });
    return { ...stream, images: workerFrames(stream.images) };
  }

  /** Release the worker's sessions and model files (the worker stays up for another load). */
  async dispose(): Promise<void> {
    await this.#call({ type: 'dispose' }, {});
  }

  /** Stop the worker; pending calls fail. */
  terminate(): void {
    this.#worker.terminate?.();
    this.#fail(new SdxsWorkerError({ kind: 'generate', name: 'Terminated', message: 'the generation worker was terminated' }));
  }

  #call(message: { type: 'load'; request: LoadRequest } | { type: 'generate'; request: WorkerGenerateRequest } | { type: 'dispose' }, options: CallOptions): Promise<FromWorker> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress: options.onProgress });
      // Copied, not transferred: a control image stays the sketch pad's to draw on.
      this.#worker.postMessage({ id, ...message });
    });
  }

  #receive(message: FromWorker): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.event);
      return;
    }
    this.#pending.delete(message.id);
    if (message.type === 'error') pending.reject(new SdxsWorkerError(message.error));
    else pending.resolve(message);
  }

  #fail(error: Error): void {
    this.#broken ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

/** The stream's frames, typed as what `generate` rendered them into (the pipeline's stream knows only RawImage). */
function workerFrames(images: AsyncIterable<RealtimeImage>): AsyncIterable<WorkerRealtimeImage> {
  return {
    [Symbol.asyncIterator]: () => {
      const inner = images[Symbol.asyncIterator]();
      return {
        next: async (): Promise<IteratorResult<WorkerRealtimeImage>> => {
          const r = await inner.next();
          if (r.done) return { done: true, value: undefined };
          const { image } = r.value;
          if (!(image instanceof WorkerImage)) throw new TypeError('realtime: a frame was not rendered by SdxsClient.generate');
          return { done: false, value: { ...r.value, image } };
        },
        return: async (): Promise<IteratorResult<WorkerRealtimeImage>> => (await inner.return?.(), { done: true, value: undefined }),
      };
    },
  };
}
