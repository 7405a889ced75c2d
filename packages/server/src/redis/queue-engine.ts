/**
 * The engine of `sdxs serve --queue redis://…`: jobs go into a BullMQ queue on Redis, any number of `sdxs worker`
 * processes (on any machines) run them, and the result comes back to the waiting request through BullMQ's queue
 * events. A job survives its worker: a worker killed mid-job stops renewing its lock, BullMQ's stalled-job check
 * moves the job back to the queue, and another worker runs it; the job completes once.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Engine, EngineStatus, SubmitOptions } from '../engine.js';
import { cancelled, queueFull, ServeError } from '../errors.js';
import type { ImageJob, ImageJobResult } from '../job.js';
import { cancelChannel, DEFAULT_QUEUE_NAME, redisConnection } from './connection.js';

export interface QueueEngineOptions {
  /** redis:// URL. */
  readonly url: string;
  /** Queue name (default sdxs-images). */
  readonly name?: string;
  /** Most jobs waiting in Redis; more get 429 (default 256). */
  readonly maxQueue?: number;
  /** Runs of a job before it fails, for crashes that are not the request's fault (default 3). */
  readonly attempts?: number;
}

export class QueueEngine implements Engine {
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly maxQueue: number;
  readonly #attempts: number;
  readonly #cancelChannel: string;
  /** Publishes the ids of jobs whose clients left (see cancelChannel). */
  readonly #publisher: Redis;

  private constructor(queue: Queue, events: QueueEvents, publisher: Redis, options: QueueEngineOptions) {
    this.queue = queue;
    this.events = events;
    this.#publisher = publisher;
    this.maxQueue = options.maxQueue ?? 256;
    this.#attempts = options.attempts ?? 3;
    this.#cancelChannel = cancelChannel(options.name ?? DEFAULT_QUEUE_NAME);
  }

  /** Connect to Redis and wait until the queue's events can be heard (a result must not be missed). */
  static async open(options: QueueEngineOptions): Promise<QueueEngine> {
    const connection = redisConnection(options.url);
    const name = options.name ?? DEFAULT_QUEUE_NAME;
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    // Every waiting request listens for its job's end on the same emitter.
    events.setMaxListeners(0);
    queue.setMaxListeners(0);
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    } catch (e) {
      await Promise.allSettled([queue.close(), events.close()]);
      throw new Error(`cannot reach Redis at ${options.url}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return new QueueEngine(queue, events, new Redis(options.url, { maxRetriesPerRequest: null }), options);
  }

  async submit(job: ImageJob, options: SubmitOptions = {}): Promise<ImageJobResult> {
    const { signal } = options;
    if (signal?.aborted) throw signal.reason instanceof ServeError ? signal.reason : cancelled();
    const waiting = await this.queue.getWaitingCount();
    if (waiting >= this.maxQueue) throw queueFull(waiting, 1);
    let added: Job | undefined;
    try {
      added = await this.queue.add('image', job, {
        attempts: this.#attempts,
        backoff: { type: 'fixed', delay: 50 },
        // Results are read through the events as they complete; keep them a little while for late readers.
        removeOnComplete: { age: 300, count: 10_000 },
        removeOnFail: { age: 3600, count: 10_000 },
      });
      const finished = added.waitUntilFinished(this.events) as Promise<ImageJobResult>;
      if (!signal) return await finished;
      return await new Promise<ImageJobResult>((resolve, reject) => {
        const onAbort = () => {
          // A job still waiting is taken out of the queue; the worker running one is told to abort it.
          void added!.remove().catch(() => undefined);
          if (added!.id !== undefined) void this.#publisher.publish(this.#cancelChannel, added!.id).catch(() => undefined);
          reject(signal.reason instanceof ServeError ? signal.reason : cancelled());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        finished.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } catch (e) {
      if (e instanceof ServeError) throw e;
      // A worker's failure reason: a ServeError's JSON (400, 500) or a crash's message.
      throw ServeError.fromReason(e instanceof Error ? e.message : String(e));
    }
  }

  async status(): Promise<EngineStatus> {
    const counts = await this.queue.getJobCounts('waiting', 'active');
    return { queued: counts.waiting ?? 0, running: counts.active ?? 0, maxQueue: this.maxQueue };
  }

  /** A round trip to Redis, for /health (throws when Redis is unreachable). */
  async health(): Promise<Record<string, unknown>> {
    const t0 = performance.now();
    await this.queue.getWaitingCount();
    return { redis: { ok: true, ms: performance.now() - t0 } };
  }

  async close(): Promise<void> {
    this.#publisher.disconnect();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
