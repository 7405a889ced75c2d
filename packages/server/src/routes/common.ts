/** What every image route shares: the job's signal (client gone, time out), sizes, seeds, and the engine call. */
import type { FastifyReply } from 'fastify';
import type { Engine } from '../engine.js';
import { badRequest, cancelled, timedOut } from '../errors.js';
import type { ImageJob, ImageJobResult } from '../job.js';
import type { RequestLimits } from '../limits.js';

export interface RouteContext {
  readonly engine: Engine;
  readonly limits: RequestLimits;
  /** Per-request time limit, in ms. */
  readonly timeoutMs: number;
  readonly modelNames: () => readonly string[];
}

/**
 * Submit a job; aborted when the client disconnects (the response closes before it is written) or the request's
 * time runs out.
 */
export async function runJob(ctx: RouteContext, job: ImageJob, reply: FastifyReply): Promise<ImageJobResult> {
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort(cancelled());
  };
  reply.raw.on('close', onClose);
  const timer = setTimeout(() => abort.abort(timedOut(ctx.timeoutMs)), ctx.timeoutMs);
  try {
    return await ctx.engine.submit(job, { signal: abort.signal });
  } finally {
    clearTimeout(timer);
    reply.raw.off('close', onClose);
  }
}

/** A side in pixels: a multiple of 8 within the limit. */
export function checkSide(field: string, v: number | undefined, limits: RequestLimits): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 8 || v > limits.maxSide) throw badRequest(`"${field}" must be an integer from 8 to ${limits.maxSide}, got ${v}`);
  if (v % 8 !== 0) throw badRequest(`"${field}" must be a multiple of 8, got ${v}`);
  return v;
}

export function checkImages(field: string, n: number, limits: RequestLimits): number {
  if (!Number.isInteger(n) || n < 1 || n > limits.maxImages) throw badRequest(`"${field}" must be from 1 to ${limits.maxImages} images per request, got ${n}`);
  return n;
}

/** JSON-schema fragments shared by the routes' body schemas. */
export const seedSchema = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]{1,20}$' }] } as const;
