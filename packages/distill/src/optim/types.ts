import type { Value } from '@sdxs/graph';

/** A learning rate: a constant, or a function of the optimizer step being taken (1 for the first). */
export type Schedule = number | ((step: number) => number);

/** The value of a schedule at `step`. */
export function scheduleAt(s: Schedule, step: number): number {
  return typeof s === 'number' ? s : s(step);
}

/** What an optimizer's in-graph update makes of one parameter. */
export interface GraphUpdate {
  readonly param: Value;
  /** New state, in the order of `slots`. */
  readonly slots: readonly Value[];
}

/**
 * An optimizer, written twice over the same formulas: as graph nodes (the update runs inside the step's ONNX
 * Runtime session, parameters and state in, updated values out) and as an in-place loop over float32 arrays
 * (the update runs in TypeScript on the resident tensors). Per-step quantities that depend on the step or the
 * learning rate (bias corrections, decay factors) are computed in float64 on the host and fed as scalars.
 */
export interface Optimizer {
  readonly name: string;
  /** Per-parameter state tensors under torch's state_dict names (`exp_avg`, `momentum_buffer`). */
  readonly slots: readonly string[];
  /** Hyperparameters, for checkpoints and logs. */
  readonly config: Readonly<Record<string, number | boolean | string>>;
  /** The learning rate at `step` (1-based). */
  lrAt(step: number): number;
  /** The per-step scalars, by name, for `step` (1-based). */
  scalars(step: number): Readonly<Record<string, number>>;
  /** Graph nodes for one parameter's update; `s` holds the scalars as graph inputs. */
  buildUpdate(param: Value, grad: Value, slots: readonly Value[], s: Readonly<Record<string, Value>>): GraphUpdate;
  /**
   * The same update in place on float32 arrays, for the gradient `gradScale · grad` (the unscaling, averaging and
   * clipping factors, folded into the one pass over the parameters). Intermediates are float64, rounded to float32
   * where they are stored.
   */
  applyHost(param: Float32Array, grad: Float32Array, slots: readonly Float32Array[], s: Readonly<Record<string, number>>, gradScale: number): void;
}
