/** Command-line options of the `models` suite. Every option takes a value, so `main.ts` can pass them through blindly. */
import type { Target } from '@sdxs/graph';
import { isProviderName, PROVIDERS, type ProviderName } from '@sdxs/runtime-node';

/** An onnxruntime-node execution provider. */
export type Ep = ProviderName;

export interface ModelsOptions {
  /** Image sizes (square), pixels. */
  sizes: number[];
  batches: number[];
  /** Timed runs per stage after one warm-up run; the median is reported. */
  runs: number;
  ep: Ep;
  /** A diffusers folder to measure instead of the synthetic full-size SDXS-512. */
  model?: string;
  /** Also time the fused one-step graph (@sdxs/pipeline) in a child of its own; step_ms then comes from it. */
  fused: boolean;
  /**
   * The fused child's weights: read by onnxruntime from the folder's files (`files`, the pipeline's path on a
   * local folder), or filled into blobs in JS (`memory`, as in a browser) — to compare their peak RSS.
   */
  weights: 'files' | 'memory';
  /** Issue 3's load measure (U-Net read, session creation and RSS: inline vs external weights). */
  loadCheck: boolean;
  seed: number;
  /** Side of the roofline's square MatMul (default 2048; smaller only to smoke-test a slow backend). */
  matmul: number;
}

export const MODELS_USAGE =
  'models options: --sizes 256,512 --batches 1,4 --runs 10 --ep cpu|webgpu|cuda --model DIR --fused on|off --weights files|memory --load-check on|off --seed 0 --matmul 2048';

function ints(flag: string, v: string, min: number): number[] {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isSafeInteger(x) || x < min)) throw new Error(`${flag} wants integers ≥ ${min}, comma-separated; got ${v}`);
  return xs;
}

function onOff(flag: string, v: string): boolean {
  if (v !== 'on' && v !== 'off') throw new Error(`${flag} wants on or off, got ${v}`);
  return v === 'on';
}

/** The graph target for an execution provider: the lowering table is keyed by target. */
export function targetFor(ep: Ep): Target {
  return ep;
}

/**
 * Parse the suite's options; unknown options are errors.
 *
 * @example
 * parseModelsOptions(['--sizes', '256', '--runs', '2']); // { sizes: [256], batches: [1, 4], runs: 2, ep: 'cpu', … }
 */
export function parseModelsOptions(args: readonly string[]): ModelsOptions {
  const o: ModelsOptions = { sizes: [256, 512], batches: [1, 4], runs: 10, ep: 'cpu', fused: true, weights: 'files', loadCheck: true, seed: 0, matmul: 2048 };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    const v = args[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value (${MODELS_USAGE})`);
    switch (flag) {
      case '--sizes':
        o.sizes = ints(flag, v, 32);
        // Two stride-2 downsamplings of the latent (1/8 of the image) must come back to the same size.
        for (const s of o.sizes) if (s % 32) throw new Error(`--sizes: ${s} is not a multiple of 32`);
        break;
      case '--batches':
        o.batches = ints(flag, v, 1);
        break;
      case '--runs':
        o.runs = ints(flag, v, 1)[0]!;
        break;
      case '--seed':
        o.seed = ints(flag, v, 0)[0]!;
        break;
      case '--ep':
        if (!isProviderName(v)) throw new Error(`--ep: ${v} is not one of ${PROVIDERS.join(', ')}`);
        o.ep = v;
        break;
      case '--matmul':
        o.matmul = ints(flag, v, 1)[0]!;
        break;
      case '--model':
        o.model = v;
        break;
      case '--fused':
        o.fused = onOff(flag, v);
        break;
      case '--weights':
        if (v !== 'files' && v !== 'memory') throw new Error(`--weights wants files or memory, got ${v}`);
        o.weights = v;
        break;
      case '--load-check':
        o.loadCheck = onOff(flag, v);
        break;
      default:
        throw new Error(`unknown option ${flag} (${MODELS_USAGE})`);
    }
  }
  return o;
}
