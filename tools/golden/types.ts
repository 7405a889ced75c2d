import type { Tensor } from '@sdxs/tensor';

/** A golden case folder as described in ../shared/golden/README.md. */
export interface GoldenCase {
  /** Absolute path of the case folder. */
  readonly dir: string;
  readonly name: string;
  readonly kind: string;
  /** Parsed case.json. */
  readonly spec: Readonly<Record<string, unknown>>;
}

/** How close an output must be: `maxAbs ≤ absolute` and `maxAbs / scale ≤ relative`, whichever is given. */
export interface Tolerance {
  /** Error relative to the reference's scale (its largest magnitude). */
  relative?: number;
  absolute?: number;
  /** Require identical bits (RNG). */
  exact?: boolean;
  /**
   * The exact value is zero, proven by the kind (e.g. tools/golden/grad/structural-zero.ts), so the reference and the
   * computed value are both rounding noise and their own scale means nothing: instead of comparing them, both must be
   * within `relative` of `scale`, the scale of what they are rounding noise of (`of` says what that is).
   */
  zero?: { readonly scale: number; readonly of: string };
}

export interface KindResult {
  /** What the project computed, under the case's own output names. */
  readonly outputs: ReadonlyMap<string, Tensor>;
  readonly tolerance: Tolerance | ((output: string) => Tolerance);
  /** What the report should say besides the per-output lines (e.g. how a gradient check treated ReLU kinks). */
  readonly notes?: readonly string[];
}

/** Runs the project's implementation on one case. */
export type KindRunner = (c: GoldenCase) => Promise<KindResult>;
