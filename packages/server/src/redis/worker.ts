/**
 * `sdxs worker --queue redis://…`: takes jobs from the BullMQ queue and runs them on a {@link LocalEngine}, which
 * batches the jobs this worker holds at once (its concurrency is twice the batch size, so the next batch is
 * gathering while one runs). A bad job (400) fails at once without retry; a crash is retried on any worker.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { asServeError } from '../errors.js';
import type { ImageJob, ImageJobResult } from '../job.js';
import type { LocalEngine } from '../local-engine.js';
import { cancelChannel, DEFAULT_QUEUE_NAME, redisConnection } from './connection.js';

export interface QueueWorkerOptions {
  readonly url: string;
  readonly name?: string;
  /** How long a job's lock lasts without renewal, in ms: how soon a killed worker's job is taken over (default 10 s). */
  readonly lockDurationMs?: number;
  /** Times a job may be taken over from dead workers before it fails (default 3). */
  readonly maxStalledCount?: number;
  readonly onJob?: (event: { readonly id: string; readonly ms: number; readonly images: number; readonly error?: string }) => void;
}

/**
 * @example
 * const worker = await startQueueWorker(new LocalEngine([model]), { url: 'redis://127.0.0.1:6379' });
 */
export async function startQueueWorker(engine: LocalEngine, options: QueueWorkerOptions): Promise<Worker> {
  const lockDuration = options.lockDurationMs ?? 10_000;
  const worker = new Worker<ImageJob, ImageJobResult>(
    options.name ?? DEFAULT_QUEUE_NAME,
    async (job: Job<ImageJob, ImageJobResult>, _token?: string, signal?: AbortSignal) => {
      const t0 = performance.now();
      try {
        // Aborted when the server says the job's client is gone: waiting here it is dropped, running it stops.
        const result = await engine.submit(job.data, signal ? { signal } : {});
        options.onJob?.({ id: job.id ?? '', ms: performance.now() - t0, images: result.images.length });
        return result;
      } catch (e) {
        const err = asServeError(e);
        options.onJob?.({ id: job.id ?? '', ms: performance.now() - t0, images: 0, error: err.message });
        // The request's own fault will not change on another worker: fail now, with the status for the client.
        if (err.status < 500) throw new UnrecoverableError(err.toReason());
        throw new Error(err.toReason());
      }
    },
    {
      connection: redisConnection(options.url),
      concurrency: engine.maxBatch * 2,
      lockDuration,
      stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
      maxStalledCount: options.maxStalledCount ?? 3,
    },
  );
  await worker.waitUntilReady();
  // Servers publish the ids of jobs whose clients left; the worker holding one aborts it (others hold none).
  const subscriber = new Redis(options.url, { maxRetriesPerRequest: null });
  await subscriber.subscribe(cancelChannel(options.name ?? DEFAULT_QUEUE_NAME));
  subscriber.on('message', (_channel: string, id: string) => worker.cancelJob(id, 'the client is gone'));
  worker.on('closed', () => subscriber.disconnect());
  return worker;
}
