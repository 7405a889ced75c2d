/**
 * Dynamic batching in one process. Jobs wait in a bounded FIFO queue; the oldest job decides the next run: every
 * waiting job with the same batch key joins it, oldest first, up to `maxBatch` images. A run starts when it is
 * full or when its oldest job has waited `batchWaitMs`, and one run is in flight at a time (ONNX Runtime already
 * uses every core for one run; two would only contend). Jobs that arrive during a run are batched for the next.
 */
import { badRequest, cancelled, asServeError, queueFull, ServeError } from './errors.js';
import type { BatchEvent, Engine, EngineStatus, SubmitOptions } from './engine.js';
import type { ImageJob, ImageJobResult } from './job.js';
import type { ServedModel } from './models.js';
import { batchKey, encodeResults, renderImageJob, renderTextBatch, resolveJob, type Rendered, type ResolvedJob, type RunContext } from './run-batch.js';

export interface LocalEngineOptions {
  /** Most images in one run (default 8). */
  readonly maxBatch?: number;
  /** Longest a job waits for others to join its run, in ms (default 10). */
  readonly batchWaitMs?: number;
  /** Most requests waiting; more are refused with 429 (default 64, as stable-diffusion.cpp). */
  readonly maxQueue?: number;
  readonly version?: string;
}

interface Pending {
  readonly job: ResolvedJob;
  readonly model: ServedModel;
  readonly key: string | undefined;
  readonly images: number;
  readonly enqueuedAt: number;
  readonly signal?: AbortSignal;
  readonly resolve: (r: ImageJobResult) => void;
  readonly reject: (e: ServeError) => void;
  onAbort?: () => void;
}

export class LocalEngine implements Engine {
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly maxBatch: number;
  readonly batchWaitMs: number;
  readonly maxQueue: number;
  readonly #context: RunContext;
  readonly #listeners: ((b: BatchEvent) => void)[] = [];
  readonly #queue: Pending[] = [];
  #running = 0;
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Average run time, for Retry-After. */
  #avgRunMs = 0;
  /** Runs stopped because every job in them was cancelled. */
  #cancelledRuns = 0;

  constructor(models: readonly ServedModel[], options: LocalEngineOptions = {}) {
    if (models.length === 0) throw new RangeError('LocalEngine: no models to serve');
    this.models = new Map(models.map((m) => [m.name, m]));
    this.maxBatch = options.maxBatch ?? 8;
    this.batchWaitMs = options.batchWaitMs ?? 10;
    this.maxQueue = options.maxQueue ?? 64;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1 || this.maxBatch > 64) throw new RangeError(`maxBatch must be an integer in [1, 64], got ${this.maxBatch}`);
    if (!(this.batchWaitMs >= 0)) throw new RangeError(`batchWaitMs must be ≥ 0, got ${this.batchWaitMs}`);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) throw new RangeError(`maxQueue must be an integer ≥ 1, got ${this.maxQueue}`);
    this.#context = { version: options.version ?? '0.0.0' };
  }

  /** Call `listener` after every run. */
  onBatch(listener: (b: BatchEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** The model a job names (the first served model when it names none). */
  model(name: string | undefined): ServedModel {
    const first = this.models.values().next().value as ServedModel;
    if (name === undefined || name === '') return first;
    const m = this.models.get(name);
    if (!m) throw badRequest(`unknown model ${JSON.stringify(name)}; this server has ${[...this.models.keys()].map((k) => JSON.stringify(k)).join(', ')}`);
    return m;
  }

  submit(job: ImageJob, options: SubmitOptions = {}): Promise<ImageJobResult> {
    if (this.#closed) return Promise.reject(new ServeError(503, 'the server is shutting down'));
    let model: ServedModel;
    try {
      model = this.model(job.model);
    } catch (e) {
      return Promise.reject(asServeError(e));
    }
    if (this.#queue.length >= this.maxQueue) {
      const retry = Math.max(1, Math.ceil(((this.#queue.length / this.maxBatch + 1) * this.#avgRunMs) / 1000));
      return Promise.reject(queueFull(this.#queue.length, retry));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const resolved = resolveJob({ ...job, model: model.name }, model);
    if (resolved.seeds.length > this.maxBatch && !resolved.init && !resolved.control) {
      return Promise.reject(badRequest(`${resolved.seeds.length} images in one request; this server runs at most ${this.maxBatch} per batch (--max-batch)`));
    }
    return new Promise<ImageJobResult>((resolve, reject) => {
      const p: Pending = { job: resolved, model, key: batchKey(resolved), images: resolved.seeds.length, enqueuedAt: performance.now(), resolve, reject, ...(signal ? { signal } : {}) };
      if (signal) {
        // A job still waiting leaves the queue at once. A running batch stops when every job in it is gone (#run).
        p.onAbort = () => {
          const i = this.#queue.indexOf(p);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            reject(abortError(signal));
          }
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.#queue.push(p);
      this.#schedule();
    });
  }

  async status(): Promise<EngineStatus> {
    return { queued: this.#queue.length, running: this.#running, maxQueue: this.maxQueue, cancelledRuns: this.#cancelledRuns };
  }

  /** Refuse new jobs and wait for the queue to drain. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#queue.length > 0 || this.#busy) await new Promise((r) => setTimeout(r, 5));
  }

  /** Start the next run now if it is ready, else when its oldest job has waited long enough. */
  #schedule(): void {
    if (this.#busy || this.#queue.length === 0) return;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const head = this.#queue[0]!;
    const batch = this.#batchOf(head);
    const images = batch.reduce((n, p) => n + p.images, 0);
    const waited = performance.now() - head.enqueuedAt;
    if (head.key === undefined || images >= this.maxBatch || waited >= this.batchWaitMs) {
      for (const p of batch) this.#queue.splice(this.#queue.indexOf(p), 1);
      void this.#run(batch);
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, this.batchWaitMs - waited);
  }

  /** The head job and the waiting jobs that can share its run, oldest first. */
  #batchOf(head: Pending): Pending[] {
    const batch: Pending[] = [head];
    let images = head.images;
    if (head.key !== undefined) {
      for (const p of this.#queue) {
        if (p === head || p.key !== head.key || images + p.images > this.maxBatch) continue;
        batch.push(p);
        images += p.images;
        if (images === this.maxBatch) break;
      }
    }
    return batch;
  }

  async #run(batch: Pending[]): Promise<void> {
    this.#busy = true;
    this.#running = batch.length;
    const now = performance.now();
    const queueMs = batch.map((p) => now - p.enqueuedAt);
    const model = batch[0]!.model;
    const jobs = batch.map((p) => p.job);
    // When every job of the batch is gone (clients left, times ran out), the run stops: between steps in process,
    // at once on an isolated runtime (`sdxs serve --isolate`), whose worker process is killed.
    const stop = new AbortController();
    const onAbort = () => {
      if (batch.every((p) => p.signal?.aborted)) stop.abort(cancelled());
    };
    for (const p of batch) p.signal?.addEventListener('abort', onAbort, { once: true });
    let rendered: Rendered;
    try {
      rendered = batch[0]!.key === undefined ? await renderImageJob(model, jobs[0]!, stop.signal) : await renderTextBatch(model, jobs, stop.signal);
    } catch (e) {
      if (stop.signal.aborted) this.#cancelledRuns++;
      const err = asServeError(e);
      batch.forEach((p) => settle(p, () => p.reject(err)));
      this.#release();
      return;
    } finally {
      for (const p of batch) p.signal?.removeEventListener('abort', onAbort);
    }
    // The next run starts now; this one's PNGs are encoded while it runs.
    this.#release();
    this.#avgRunMs = this.#avgRunMs === 0 ? rendered.ms : 0.8 * this.#avgRunMs + 0.2 * rendered.ms;
    const event: BatchEvent = { model: model.name, images: rendered.images.length, jobs: batch.length, ms: rendered.ms };
    for (const l of this.#listeners) l(event);
    try {
      const out = await encodeResults(model, jobs, rendered, queueMs, this.#context);
      batch.forEach((p, i) => settle(p, () => p.resolve(out[i]!)));
    } catch (e) {
      const err = asServeError(e);
      batch.forEach((p) => settle(p, () => p.reject(err)));
    }
  }

  #release(): void {
    this.#busy = false;
    this.#running = 0;
    this.#schedule();
  }
}

function settle(p: Pending, fn: () => void): void {
  if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
  if (p.signal?.aborted) p.reject(abortError(p.signal));
  else fn();
}

/** The abort's reason when it is a ServeError (a timeout), else "cancelled". */
function abortError(signal: AbortSignal): ServeError {
  return signal.reason instanceof ServeError ? signal.reason : cancelled();
}
