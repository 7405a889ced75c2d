/** Where a route's jobs run: in this process (LocalEngine) or on workers behind Redis (QueueEngine). */
import type { ImageJob, ImageJobResult } from './job.js';

/** One finished batched run: what the metrics record. */
export interface BatchEvent {
  readonly model: string;
  readonly images: number;
  readonly jobs: number;
  readonly ms: number;
}

export interface SubmitOptions {
  /** Aborted when the client goes away or the request's time runs out: a job still waiting is dropped. */
  readonly signal?: AbortSignal;
}

export interface EngineStatus {
  /** Requests waiting (not yet running). */
  readonly queued: number;
  /** Requests in the batch now running. */
  readonly running: number;
  readonly maxQueue: number;
  /** Runs stopped because every job in them was cancelled (engines that run batches here). */
  readonly cancelledRuns?: number;
}

export interface Engine {
  /** Run a job; rejects with a ServeError (400 bad job, 429 queue full, 499 cancelled, 504 timed out). */
  submit(job: ImageJob, options?: SubmitOptions): Promise<ImageJobResult>;
  status(): Promise<EngineStatus>;
  /** What /health adds about the engine (e.g. Redis's round trip); throws when the engine cannot serve. */
  health?(): Promise<Record<string, unknown>>;
  /** Call `listener` after every batched run this process makes (engines that run batches here). */
  onBatch?(listener: (b: BatchEvent) => void): void;
  close(): Promise<void>;
}
