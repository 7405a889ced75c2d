/**
 * `pnpm bench anchor [--anchor DIR] [--runs 8]` — the project's SDXS-512 graphs against the perf anchor: the same
 * networks exported by torch.onnx (diffusers, opset 17, float32, static 512² shapes) and run by the same
 * onnxruntime-node with the same session options. Both sessions are open in this process and their runs alternate
 * (anchor, ours, anchor, ours …), so a busy neighbour or a slower moment of the machine hits both alike; the rows
 * are medians and the ratios ours / anchor. The fused row is what a user waits for: the project's one-step graph
 * (U-Net + Euler step + tiny decoder + RGBA) plus its text encoder, against the anchor's U-Net + decoder alone.
 *
 * The anchor is development material (../shared/perf-anchor, never shipped); without it the suite says so and
 * returns nothing. Its weights file is written once into the OS temp folder (prepare.mjs, 1.26 GB).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { bindSynthetic, toOnnx } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { buildStage, syntheticNetworks } from '../models/stages.js';
import { buildNetwork } from '../perf/networks.js';
import { median } from '../stats.js';
import { option, positiveInt } from '../suite-options.js';

export const ANCHOR_USAGE = 'anchor options: --anchor DIR (default ../shared/perf-anchor) --runs 8';

const DEFAULT_ANCHOR = fileURLToPath(new URL('../../../../../shared/perf-anchor/', import.meta.url));

export interface AnchorRow {
  readonly what: string;
  readonly anchor_ms: number;
  readonly ours_ms: number;
  /** ours / anchor. */
  readonly ratio: number;
}

export interface AnchorResult {
  readonly runs: number;
  readonly rows: AnchorRow[];
}

const f32 = (dims: number[]) => new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.1), dims);
const toOrt = (feeds: Record<string, Tensor>) => Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.dtype as 'float32', v.data as Float32Array, [...v.shape])]));
const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: availableParallelism() };

interface Runner {
  run(): Promise<number>;
  release(): Promise<void>;
}

async function runner(model: string | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Runner> {
  const s = await ort.InferenceSession.create(model as never, options);
  await s.run(feeds); // warm-up
  return {
    run: async () => {
      const t = performance.now();
      await s.run(feeds);
      return performance.now() - t;
    },
    release: () => s.release(),
  };
}

/** `sides` run in turn, `runs` rounds; the median of each. */
async function alternate(sides: Runner[], runs: number): Promise<number[]> {
  const times = sides.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) for (const [i, s] of sides.entries()) times[i]!.push(await s.run());
  return times.map(median);
}

async function ours(net: 'unet' | 'decoder' | 'step'): Promise<Runner> {
  const { graph, feeds } = buildNetwork(net, 512, {});
  bindSynthetic(graph, 0);
  return runner(toOnnx(graph), toOrt(feeds));
}

export async function runAnchor(log: (s: string) => void, args: readonly string[] = []): Promise<AnchorResult | undefined> {
  const source = option(args, '--anchor') ?? DEFAULT_ANCHOR;
  const runs = positiveInt(args, '--runs', 8);
  if (!existsSync(join(source, 'prepare.mjs'))) {
    log(`  no perf anchor at ${source} (development material beside the checkout): skipped`);
    return undefined;
  }
  const dir = join(tmpdir(), 'sdxs-perf-anchor');
  if (!existsSync(join(dir, 'unet.weights'))) execFileSync(process.execPath, [join(source, 'prepare.mjs'), dir], { stdio: 'ignore' });
  const anchorUnet = () => runner(join(dir, 'unet.onnx'), { sample: f32([1, 4, 64, 64]), timestep: new ort.Tensor('int64', BigInt64Array.from([999n]), [1]), encoder_hidden_states: f32([1, 77, 768]) });
  const anchorDecoder = () => runner(join(dir, 'dec.onnx'), { latent_sample: f32([1, 4, 64, 64]) });
  const rows: AnchorRow[] = [];
  const row = (what: string, anchor: number, mine: number) => {
    rows.push({ what, anchor_ms: anchor, ours_ms: mine, ratio: mine / anchor });
    log(`  ${what}: anchor ${anchor.toFixed(0)} ms, sdxs ${mine.toFixed(0)} ms — ${(mine / anchor).toFixed(3)}×`);
  };
  log(`  torch.onnx export (${source}) vs the project's graphs, 512², float32, ${options.intraOpNumThreads} threads, ${runs} alternating runs`);
  {
    const sides = [await anchorUnet(), await ours('unet')];
    const [a, b] = await alternate(sides, runs);
    row('U-Net', a!, b!);
    await Promise.all(sides.map((s) => s.release()));
  }
  {
    const sides = [await anchorDecoder(), await ours('decoder')];
    const [a, b] = await alternate(sides, runs);
    row('tiny decoder', a!, b!);
    await Promise.all(sides.map((s) => s.release()));
  }
  {
    // The anchor's two graphs against the fused one-step graph and the text encoder: four sessions, one round each.
    const te = await buildStage(syntheticNetworks(), 'text_encoder', { batch: 1, width: 512, height: 512, target: 'cpu', seed: 0 });
    const sides = [await anchorUnet(), await anchorDecoder(), await ours('step'), await runner(toOnnx(te.graph), toOrt(te.feeds))];
    const [u, d, step, text] = await alternate(sides, runs);
    row('one image: fused one-step graph + text encoder vs U-Net + decoder', u! + d!, step! + text!);
    log(`    (sdxs: fused graph ${step!.toFixed(0)} ms + text encoder ${text!.toFixed(0)} ms; anchor: U-Net ${u!.toFixed(0)} ms + decoder ${d!.toFixed(0)} ms)`);
    await Promise.all(sides.map((s) => s.release()));
  }
  return { runs, rows };
}
