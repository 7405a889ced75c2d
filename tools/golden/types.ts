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
}

export interface KindResult {
  /** What the project computed, under the case's own output names. */
  readonly outputs: ReadonlyMap<string, Tensor>;
  readonly tolerance: Tolerance | ((output: string) => Tolerance);
}

/** Runs the project's implementation on one case. */
export type KindRunner = (c: GoldenCase) => Promise<KindResult>;
