/** What the suite asks a child process to measure, and what comes back (over Node's IPC channel, as JSON). */
import type { LoadJob, LoadResult, WeightsJob, WeightsResult } from './load-check.js';
import type { ConfigJob, ConfigResult } from './measure-config.js';
import type { FusedJob, FusedResult } from './measure-fused.js';
import type { WriteModelJob, WriteModelResult } from './synthetic-folder.js';

export type Job = ConfigJob | FusedJob | WeightsJob | LoadJob | WriteModelJob;
export type JobResult = ConfigResult | FusedResult | WeightsResult | LoadResult | WriteModelResult;
/** The result type for a job kind. */
export type ResultOf<K extends Job['kind']> = Extract<JobResult, { kind: K }>;

/** A child's one message: its result, or its error's message. */
export type ChildReply = { ok: true; result: JobResult } | { ok: false; error: string };

export function isResultOf<K extends Job['kind']>(r: JobResult, kind: K): r is ResultOf<K> {
  return r.kind === kind;
}
