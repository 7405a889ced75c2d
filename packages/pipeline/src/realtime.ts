/**
 * Real-time image conditioning: a drawing app pushes a control image per stroke, far faster than a model can
 * render. Rendering every frame would queue work and let latency grow without bound; instead at most one
 * frame is in flight and only the newest waiting frame is kept, so a frame waits for at most one render
 * before its own, and the last frame pushed is always rendered. (StreamDiffusion's stream batch makes the
 * opposite trade — throughput over latency — which suits video, not a pen.)
 */
import type { ControlPixelsOptions, Pixels } from '@sdxs/control';
import type { RawImage, Seed } from '@sdxs/tensor';

/** One rendered frame. */
export interface RealtimeFrame<T> {
  readonly value: T;
  /** 1-based, in push order. */
  readonly frameId: number;
  /** From `push` to the result being ready. */
  readonly latencyMs: number;
  /** The render alone. */
  readonly renderMs: number;
  /** Frames pushed since the previous delivered one that were skipped (never rendered, or superseded before delivery). */
  readonly dropped: number;
}

/** Counts so far. */
export interface RealtimeStats {
  pushed: number;
  rendered: number;
  delivered: number;
  dropped: number;
}

type Waiter<T> = { resolve: (r: IteratorResult<RealtimeFrame<T>>) => void; reject: (e: unknown) => void };

/**
 * The scheduling of a real-time stream, independent of what renders: `push` inputs, read `frames`. At most one
 * `render` runs at a time; a push while one runs replaces the waiting input; an undelivered result is replaced
 * by a newer one. A render error ends the stream and is thrown to the reader.
 *
 * @example
 * const loop = new LatestFrameLoop((x: number) => slowSquare(x));
 * for (let i = 0; i < 20; i++) loop.push(i); // renders 0 and 19
 * for await (const f of loop.frames) if (f.frameId === 20) break;
 */
export class LatestFrameLoop<I, O> {
  readonly stats: RealtimeStats = { pushed: 0, rendered: 0, delivered: 0, dropped: 0 };
  readonly #render: (input: I, frameId: number) => Promise<O>;
  #pending: { input: I; frameId: number; pushedAt: number } | undefined;
  #inFlight: Promise<void> | undefined;
  #ready: RealtimeFrame<O> | undefined;
  #waiters: Waiter<O>[] = [];
  #lastDelivered = 0;
  #closed = false;
  #error: { error: unknown } | undefined;

  constructor(render: (input: I, frameId: number) => Promise<O>) {
    this.#render = render;
  }

  /** Queue `input` as the newest frame (replacing one still waiting); returns its frame id. */
  push(input: I): number {
    if (this.#error) throw this.#error.error;
    if (this.#closed) throw new Error('realtime: push after close()');
    const frameId = ++this.stats.pushed;
    this.#pending = { input, frameId, pushedAt: performance.now() };
    this.#pump();
    return frameId;
  }

  /** Stop: the waiting frame is discarded, the one in flight finishes (and is delivered); then `frames` ends. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pending = undefined;
    await this.#inFlight;
    this.#settle();
  }

  /** The results, newest first when the reader is slow; one reader. */
  get frames(): AsyncIterable<RealtimeFrame<O>> {
    return { [Symbol.asyncIterator]: () => ({ next: () => this.#next(), return: async () => (await this.close(), { done: true, value: undefined }) }) };
  }

  #pump(): void {
    if (this.#inFlight || !this.#pending || this.#closed) return;
    this.#inFlight = this.#cycle().then(() => {
      this.#inFlight = undefined;
      this.#pump();
      this.#settle();
    });
  }

  /** Render the newest waiting frame. */
  async #cycle(): Promise<void> {
    // A runtime that computes on this thread (onnxruntime-node does) holds back the events that arrived during
    // the last render; yield once so they push first and the frame taken is really the newest.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    const job = this.#pending;
    this.#pending = undefined;
    if (!job || this.#closed) return;
    const start = performance.now();
    try {
      const value = await this.#render(job.input, job.frameId);
      this.stats.rendered++;
      const now = performance.now();
      this.#offer({ value, frameId: job.frameId, latencyMs: now - job.pushedAt, renderMs: now - start, dropped: 0 });
    } catch (error) {
      this.#error ??= { error };
      this.#closed = true;
      this.#pending = undefined;
    }
  }

  #offer(frame: RealtimeFrame<O>): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ done: false, value: this.#deliver(frame) });
    else this.#ready = frame;
  }

  #deliver(frame: RealtimeFrame<O>): RealtimeFrame<O> {
    const dropped = frame.frameId - this.#lastDelivered - 1;
    this.#lastDelivered = frame.frameId;
    this.stats.delivered++;
    this.stats.dropped += dropped;
    return { ...frame, dropped };
  }

  #next(): Promise<IteratorResult<RealtimeFrame<O>>> {
    if (this.#ready) {
      const frame = this.#ready;
      this.#ready = undefined;
      return Promise.resolve({ done: false, value: this.#deliver(frame) });
    }
    if (this.#error) return Promise.reject(this.#error.error);
    if (this.#closed && !this.#inFlight) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Wake readers once nothing more can come: with the error, or the end. */
  #settle(): void {
    if (!this.#closed || this.#inFlight || this.#ready) return;
    for (const w of this.#waiters.splice(0)) {
      if (this.#error) w.reject(this.#error.error);
      else w.resolve({ done: true, value: undefined });
    }
  }
}

/** The request of every frame of a ControlNet stream (the control image comes with each push). */
export interface RealtimeOptions {
  readonly prompt: string;
  readonly negativePrompt?: string;
  /** One seed for all frames (default: drawn once), so the picture changes only where the control image does. */
  readonly seed?: Seed;
  readonly steps?: number;
  readonly guidanceScale?: number;
  /** Output size (default the model's); control images of other sizes are resized to it. */
  readonly width?: number;
  readonly height?: number;
  /** `controlnet_conditioning_scale` (default 1); change it with `update` without rebuilding anything. */
  readonly controlScale?: number;
  readonly controlMode?: ControlPixelsOptions['mode'];
  readonly controlOptions?: Omit<ControlPixelsOptions, 'mode'>;
}

/** What a stream renders each frame with: the options, seed and size fixed. */
export type ResolvedRealtimeOptions = RealtimeOptions & { readonly seed: Seed; readonly width: number; readonly height: number };

/** A rendered image of a stream. */
export interface RealtimeImage {
  readonly image: RawImage;
  readonly frameId: number;
  readonly latencyMs: number;
  readonly renderMs: number;
  readonly dropped: number;
}

export interface RealtimeStream {
  /** Queue a control image (replacing one still waiting); returns its frame id. */
  push(image: Pixels): number;
  /** Change the prompt, scale, mode… for frames rendered from now on (not the size). */
  update(changes: Partial<Omit<RealtimeOptions, 'width' | 'height'>>): void;
  /** Rendered frames; a stale one is skipped, never queued. */
  readonly images: AsyncIterable<RealtimeImage>;
  readonly stats: Readonly<RealtimeStats>;
  close(): Promise<void>;
}

/**
 * A {@link RealtimeStream} over `render`, which turns one control image into one image under the current options.
 *
 * @example
 * const stream = createRealtimeStream({ prompt: 'a cat', seed: 0, width: 512, height: 512 }, (image, o) => renderOne(image, o));
 */
export function createRealtimeStream(options: ResolvedRealtimeOptions, render: (image: Pixels, options: ResolvedRealtimeOptions) => Promise<RawImage>): RealtimeStream {
  let current = options;
  // Each frame renders with the options current when it starts: update() never disturbs a render in flight.
  const loop = new LatestFrameLoop<Pixels, RawImage>((image) => render(image, current));
  const images: AsyncIterable<RealtimeImage> = {
    [Symbol.asyncIterator]: () => {
      const inner = loop.frames[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await inner.next();
          if (r.done) return { done: true, value: undefined };
          const { value, ...rest } = r.value;
          return { done: false, value: { image: value, ...rest } };
        },
        return: async () => (await loop.close(), { done: true, value: undefined }),
      };
    },
  };
  return {
    push: (image) => loop.push(image),
    update: (changes) => {
      const bad = Object.keys(changes).filter((k) => k === 'width' || k === 'height');
      if (bad.length) throw new RangeError(`realtime: update() cannot change ${bad.join(' or ')}; open a new stream for another size`);
      current = { ...current, ...changes };
    },
    images,
    stats: loop.stats,
    close: () => loop.close(),
  };
}
