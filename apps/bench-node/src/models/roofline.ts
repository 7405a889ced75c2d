/**
 * The roofline the model numbers are held against: how fast ONNX Runtime multiplies two 2048×2048 float32
 * matrices on this machine, measured in the same run. Two forms: B as a weight (an initializer, which the CPU EP
 * pre-packs as it does every model weight) and B as an input; the peak is the faster of the two.
 */
import { Graph, MatMul, toOnnx, type Target } from '@sdxs/graph';
import { Generator, type Runtime, type Tensor } from '@sdxs/tensor';
import { median, timeRuns } from '../stats.js';

export interface MatmulPeak {
  n: number;
  /** The faster of the two forms, GFLOP/s. */
  gflops: number;
  weight_b: { median_ms: number; gflops: number };
  input_b: { median_ms: number; gflops: number };
}

async function timeMatmul(runtime: Runtime, target: Target, n: number, b: Tensor, weight: boolean, runs: number): Promise<number> {
  const g = new Graph({ name: 'matmul_roofline', target });
  const a = g.input('a', 'float32', [n, n]);
  g.output(MatMul(a, weight ? g.constant(b, 'b') : g.input('b', 'float32', [n, n])), 'y');
  const session = await runtime.createSession(toOnnx(g), { label: 'matmul roofline' });
  try {
    const feeds: Record<string, Tensor> = { a: new Generator(1).randn([n, n]) };
    if (!weight) feeds.b = b;
    return median(await timeRuns(() => session.run(feeds), runs, 2));
  } finally {
    await session.dispose();
  }
}

/**
 * Median time of an n×n MatMul (default 2048) in ONNX Runtime, as GFLOP/s (2·n³ FLOPs per run).
 *
 * @example
 * const { gflops } = await matmulPeak(createNodeRuntime(), 'cpu'); // ≈ 420 on the 2-core EPYC machines
 */
export async function matmulPeak(runtime: Runtime, target: Target, runs = 20, n = 2048): Promise<MatmulPeak> {
  const b = new Generator(0).randn([n, n]);
  const flop = 2 * n ** 3;
  const form = (ms: number) => ({ median_ms: ms, gflops: flop / (ms / 1000) / 1e9 });
  const weightB = form(await timeMatmul(runtime, target, n, b, true, runs));
  const inputB = form(await timeMatmul(runtime, target, n, b, false, runs));
  return { n, gflops: Math.max(weightB.gflops, inputB.gflops), weight_b: weightB, input_b: inputB };
}
