/** Where a route's jobs run: in this process ({@link LocalEngine}) or on workers behind Redis (QueueEngine). */
import type { ImageJob, ImageJobResult } from './job.js';

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
}

export interface Engine {
  /** Run a job; rejects with a ServeError (400 bad job, 429 queue full, 499 cancelled, 504 timed out). */
  submit(job: ImageJob, options?: SubmitOptions): Promise<ImageJobResult>;
  status(): Promise<EngineStatus>;
  close(): Promise<void>;
}
