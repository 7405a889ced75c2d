/**
 * Failures a route turns into an HTTP status: each carries the status and, for 429, when to come back. They cross
 * Redis as JSON (a worker's failure reaches the waiting request with its status intact).
 */

export class ServeError extends Error {
  readonly status: number;
  /** Seconds, for Retry-After (429, 503). */
  readonly retryAfter?: number;

  constructor(status: number, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ServeError';
    this.status = status;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }

  /** The error as a job's failure reason: JSON a {@link ServeError.fromReason} reads back. */
  toReason(): string {
    return JSON.stringify({ sdxs: 1, status: this.status, message: this.message });
  }

  /** A failure reason from a worker: a ServeError's own, or any other text (then a 500). */
  static fromReason(reason: string): ServeError {
    try {
      const r: unknown = JSON.parse(reason);
      if (typeof r === 'object' && r !== null && 'sdxs' in r && 'status' in r && 'message' in r && typeof r.status === 'number' && typeof r.message === 'string') {
        return new ServeError(r.status, r.message);
      }
    } catch {
      // not one of ours: a crash's message
    }
    return new ServeError(500, reason);
  }
}

/** 400: the request cannot be run as given (a field out of range, an unknown model…). */
export const badRequest = (message: string): ServeError => new ServeError(400, message);

/** 429: the queue is full. */
export const queueFull = (pending: number, retryAfter: number): ServeError =>
  new ServeError(429, `the queue is full (${pending} requests waiting); retry after ${retryAfter} s`, retryAfter);

/** 504: the request's time ran out before its images were made. */
export const timedOut = (ms: number): ServeError => new ServeError(504, `the request timed out after ${ms} ms`);

/** 499 (nginx's "client closed request"): the client went away; nobody reads this, it only ends the job. */
export const cancelled = (): ServeError => new ServeError(499, 'the client closed the request');

/**
 * A pipeline's refusal (a RangeError or TypeError naming the field) is the client's fault: 400. Anything else is
 * the server's: 500.
 */
export function asServeError(e: unknown): ServeError {
  if (e instanceof ServeError) return e;
  if (e instanceof RangeError || e instanceof TypeError) return badRequest(e.message);
  return new ServeError(500, e instanceof Error ? e.message : String(e));
}
