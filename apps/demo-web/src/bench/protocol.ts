// The bench entry by path: the root tsconfig maps `@sdxs/<package>` only, not subpaths like @sdxs/runtime-web/bench.
import type { BenchNetworks, BenchOptions, BenchResult } from '../../../../packages/runtime-web/src/bench.js';

/** What the bench page asks its worker to measure. */
export interface BenchInput {
  readonly networks: BenchNetworks;
  readonly options: BenchOptions;
  /** WebAssembly threads (default: the cores, the page being cross-origin isolated). */
  readonly threads?: number;
}

export type BenchReply = { readonly type: 'log'; readonly line: string } | { readonly type: 'done'; readonly result: BenchResult; readonly threads: number } | { readonly type: 'error'; readonly message: string };
