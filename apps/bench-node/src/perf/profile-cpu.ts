/**
 * `pnpm exec tsx apps/bench-node/src/perf/profile-cpu.ts [options]` — where the CPU time of the TypeScript-built
 * SDXS-512 graphs goes, held against the machine's own MatMul roofline measured in the same process.
 *
 * For each network (full-size U-Net at a 64² latent, tiny decoder at 512², synthetic weights) it prints the median
 * run, the process CPU time per run, achieved GFLOP/s as a fraction of a plain 2048² MatMul's (measured right
 * before and after the network, so a neighbour's load shows as a drift between the two), and onnxruntime's
 * profiler view: time per op type and the slowest nodes. Options try lowering and session choices without editing
 * code, so the numbers behind packages/graph/src/lowering.ts can be re-run on a quiet machine:
 *
 *   --nets unet,decoder,step   which graphs (default unet,decoder; step is the pipeline's fused one-step graph)
 *   --size 512                 image size in pixels (the latent is 1/8)
 *   --runs 3                   timed runs after one warm-up
 *   --lowering groupNorm=decomposed,attention=contrib-mha   composite implementations (lowering.ts IMPLS)
 *   --opt all|extended|basic|disabled                       graph optimization level
 *   --threads 2                intra-op threads (default onnxruntime's: one per core)
 *   --config key=value,...     session config entries, e.g. session.set_denormal_as_zero=1
 *   --mem-pattern on|off       onnxruntime's memory pattern (default on)
 *   --profile on|off           onnxruntime's profiler (default on; off times without its bookkeeping)
 *   --json FILE                write the results
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindSynthetic, toOnnx, type Graph, type LoweringOverrides } from '@sdxs/graph';
import { createNodeRuntime, type NodeRuntimeOptions } from '@sdxs/runtime-node';
import { Generator, Tensor } from '@sdxs/tensor';
import { describeMachine } from '../machine.js';
import { countFlops } from '../models/flops.js';
import { buildNetwork, type Net } from './networks.js';
import { parseProfileArgs, type ProfileArgs } from './profile-args.js';
import { summariseProfile, type ProfileSummary } from './ort-profile.js';
import { matmulRoofline, rate, timeSession, type Rate, type Timed } from './timing.js';

interface NetResult {
  net: Net;
  gflop: number;
  session_ms: number;
  time: Timed & Rate;
  /** The MatMul roofline measured just before and just after this network. */
  peak_before: Timed & Rate;
  peak_after: Timed & Rate;
  /** GFLOP/s over the mean of the two MatMul measurements. */
  fraction_of_peak: number;
  /** The same with FLOP per CPU second: steadier on a shared machine when the thread pool does not spin. */
  cpu_fraction_of_peak: number;
  /** Conv and MatMul-family kernels alone, GFLOP/s (profiled time, counted FLOPs). */
  conv_gflops?: number;
  matmul_gflops?: number;
  profile?: ProfileSummary;
  /** Non-finite values in the output: synthetic weights that overflow would time a different computation. */
  nonfinite: number;
}

function runtimeOptions(args: ProfileArgs, profilePrefix: string | undefined): NodeRuntimeOptions {
  const extra = Object.keys(args.config).length ? { extra: { session: args.config } } : {};
  return {
    graphOptimizationLevel: args.opt,
    ...(args.threads === undefined ? {} : { intraOpThreads: args.threads }),
    ortSessionOptions: {
      enableMemPattern: args.memPattern,
      ...extra,
      ...(profilePrefix === undefined ? {} : { enableProfiling: true, profileFilePrefix: profilePrefix }),
    },
  };
}

/** Kernels that do a network's arithmetic; the rest (norms, activations, layout) is what lowering choices move. */
function isGemmLike(op: string): boolean {
  return /Conv|MatMul|Gemm|Attention/.test(op);
}

/** FLOPs per kernel family from our graph, and the profiled time of the kernels onnxruntime made of them. */
function familyGflops(byOpFlops: Record<string, number>, profile: ProfileSummary, family: 'conv' | 'matmul'): number | undefined {
  const flop = family === 'conv' ? (byOpFlops.Conv ?? 0) : (byOpFlops.MatMul ?? 0) + (byOpFlops.Gemm ?? 0);
  const is = family === 'conv' ? (op: string) => /Conv/.test(op) : (op: string) => isGemmLike(op) && !/Conv/.test(op);
  const ms = profile.byOp.filter((o) => is(o.op)).reduce((s, o) => s + o.ms, 0);
  return flop && ms ? flop / 1e9 / (ms / 1000) : undefined;
}

async function measureNet(net: Net, args: ProfileArgs, log: (s: string) => void): Promise<NetResult> {
  const { graph, feeds } = buildNetwork(net, args.size, args.lowering);
  const flops = countFlops(graph);
  bindSynthetic(graph, 0);
  const bytes = toOnnx(graph);
  const dir = args.profile ? await mkdtemp(join(tmpdir(), `sdxs-profile-${net}-`)) : undefined;
  const plain = createNodeRuntime(runtimeOptions(args, undefined));
  try {
    const runtime = createNodeRuntime(runtimeOptions(args, dir && join(dir, net)));
    const peakBefore = await matmulRoofline(plain, args.peakRuns);
    const t = performance.now();
    const session = await runtime.createSession(bytes, { label: net });
    const sessionMs = performance.now() - t;
    const warm = await session.run(feeds);
    let nonfinite = 0;
    for (const v of Object.values(warm)) for (const x of v.toArray()) if (!Number.isFinite(x)) nonfinite++;
    const gflop = flops.total / 1e9;
    // The warm-up run above already happened: time from the first run on.
    const timed = await timeSession(session, feeds, args.runs, 0);
    const time = { ...timed, ...rate(gflop, timed) };
    await session.dispose();
    const peakAfter = await matmulRoofline(plain, args.peakRuns);
    const result: NetResult = {
      net,
      gflop,
      session_ms: sessionMs,
      time,
      peak_before: peakBefore,
      peak_after: peakAfter,
      fraction_of_peak: time.gflops / ((peakBefore.gflops + peakAfter.gflops) / 2),
      cpu_fraction_of_peak: time.gflop_per_cpu_s / ((peakBefore.gflop_per_cpu_s + peakAfter.gflop_per_cpu_s) / 2),
      nonfinite,
    };
    if (dir) {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
      if (files.length !== 1) throw new Error(`${net}: expected one profile file in ${dir}, found ${files.length}`);
      const profile = await summariseProfile(join(dir, files[0]!), args.runs, args.top);
      result.profile = profile;
      const conv = familyGflops(flops.byOp, profile, 'conv');
      const mm = familyGflops(flops.byOp, profile, 'matmul');
      if (conv !== undefined) result.conv_gflops = conv;
      if (mm !== undefined) result.matmul_gflops = mm;
    }
    report(result, log);
    return result;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function report(r: NetResult, log: (s: string) => void): void {
  const f = (x: number, d = 0) => x.toFixed(d);
  const t = r.time;
  log(
    `${r.net}: ${f(r.gflop, 1)} GFLOP; session ${f(r.session_ms)} ms; median ${f(t.median_ms)} ms [${t.samples_ms.map((s) => f(s)).join(', ')}], CPU ${f(t.cpu_ms)} ms/run` +
      (r.nonfinite ? `; WARNING ${r.nonfinite} non-finite outputs` : ''),
  );
  log(
    `  wall: ${f(t.gflops)} GFLOP/s = ${f(100 * r.fraction_of_peak, 1)}% of MatMul (${f(r.peak_before.gflops)} before, ${f(r.peak_after.gflops)} after); ` +
      `CPU: ${f(t.gflop_per_cpu_s)} GFLOP/CPU-s = ${f(100 * r.cpu_fraction_of_peak, 1)}% of MatMul (${f(r.peak_before.gflop_per_cpu_s)}, ${f(r.peak_after.gflop_per_cpu_s)})`,
  );
  const p = r.profile;
  if (!p) return;
  const rest = p.byOp.filter((o) => !isGemmLike(o.op)).reduce((s, o) => s + o.ms, 0);
  log(
    `  profile over ${p.runs} runs: model_run ${f(p.runMs)} ms, kernels ${f(p.kernelMs)} ms, of which not Conv/MatMul/attention ${f(rest)} ms (${f((100 * rest) / p.kernelMs, 1)}%)` +
      (r.conv_gflops === undefined ? '' : `; Conv kernels ${f(r.conv_gflops)} GFLOP/s`) +
      (r.matmul_gflops === undefined ? '' : `; MatMul/attention kernels ${f(r.matmul_gflops)} GFLOP/s`),
  );
  for (const o of p.byOp) if (o.share >= 0.001) log(`  ${o.op.padEnd(28)} ${f(o.ms, 1).padStart(9)} ms ${f(100 * o.share, 1).padStart(5)}%  ${f(o.nodes)} nodes`);
  log('  slowest nodes:');
  for (const n of p.topNodes) log(`    ${f(n.ms, 1).padStart(8)} ms  ${n.op.padEnd(20)} ${n.name}`);
}

async function main(argv: string[]): Promise<void> {
  const args = parseProfileArgs(argv);
  const machine = describeMachine();
  const log = (s: string) => console.log(s);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; ${JSON.stringify({ ...args, json: undefined })}`);
  const results: NetResult[] = [];
  for (const net of args.nets) results.push(await measureNet(net, args, log));
  if (args.json) await writeFile(args.json, JSON.stringify({ machine, args, results }, null, 2) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`profile-cpu: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
