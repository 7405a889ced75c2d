/**
 * Wall and CPU time of repeated session runs, and the 2048² MatMul roofline measured the same way. On a shared
 * machine the wall clock counts a neighbour's time slices too; the process CPU time (all threads) does not, so
 * FLOP per CPU-second held against the MatMul's is the steadier efficiency measure — as long as the thread
 * pool does not spin (spinning burns CPU time without work; profile-cpu reports which setting it ran with).
 */
import { Graph, MatMul, toOnnx } from '@sdxs/graph';
import { Generator, type Runtime, type Session, type Tensor } from '@sdxs/tensor';
import { median } from '../stats.js';

export interface Timed {
  samples_ms: number[];
  median_ms: number;
  /** Process CPU time per run (user + system, every thread), ms. */
  cpu_ms: number;
}

export interface Rate {
  /** FLOP per wall second at the median run, 1e9. */
  gflops: number;
  /** FLOP per CPU second, 1e9. */
  gflop_per_cpu_s: number;
}

/** Time `runs` runs of `session` (after `warmup` untimed ones). */
export async function timeSession(session: Session, feeds: Readonly<Record<string, Tensor>>, runs: number, warmup = 1): Promise<Timed> {
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    samples.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  return { samples_ms: samples, median_ms: median(samples), cpu_ms: (cpu.user + cpu.system) / 1000 / runs };
}

export function rate(gflop: number, t: Timed): Rate {
  return { gflops: gflop / (t.median_ms / 1000), gflop_per_cpu_s: gflop / (t.cpu_ms / 1000) };
}

/**
 * An n×n float32 MatMul with B as a weight (pre-packed by the CPU EP, as every model weight is), timed like the
 * networks: the roofline for them.
 *
 * @example
 * const peak = await matmulRoofline(createNodeRuntime(), 10); // peak.gflops ≈ 420 on a quiet 2-core EPYC
 */
export async function matmulRoofline(runtime: Runtime, runs: number, n = 2048): Promise<Timed & Rate> {
  const g = new Graph({ name: 'matmul_roofline', target: 'cpu' });
  const a = g.input('a', 'float32', [n, n]);
  g.output(MatMul(a, g.constant(new Generator(0).randn([n, n]), 'b')), 'y');
  const session = await runtime.createSession(toOnnx(g), { label: 'matmul roofline' });
  try {
    const t = await timeSession(session, { a: new Generator(1).randn([n, n]) }, runs, 2);
    return { ...t, ...rate((2 * n ** 3) / 1e9, t) };
  } finally {
    await session.dispose();
  }
}
