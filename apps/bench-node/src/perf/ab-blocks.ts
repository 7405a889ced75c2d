/**
 * `pnpm exec tsx apps/bench-node/src/perf/ab-blocks.ts --block transformer-640 --a attention=decomposed --b attention=contrib-mha`
 * — A/B of two lowering (or session) choices on one SDXS-512 U-Net block at its real shapes, for differences too
 * small to see in a whole U-Net run on a shared machine. The two sessions run in alternating rounds (A B, then
 * B A, …) so that a neighbour's load falls on both alike; each round's B/A ratio of process CPU time per run is
 * paired, and the median ratio over rounds is the result.
 *
 *   --block transformer-640|transformer-1280|resnet-320|resnet-640|resnet-1280   which block (channels at its stage),
 *           or unet|decoder|step: the whole network at 512² (as profile-cpu builds it; step is the fused one-step graph)
 *   --a LOWERING, --b LOWERING     lowering overrides, `key=impl,…` or `default`
 *   --a-config K=V,…, --b-config K=V,…   session config entries per side
 *   --a-model FILE, --b-model FILE   run this .onnx on that side instead of building it (the block still makes
 *                                    the inputs): compares code before and after a change to model code
 *   --save-a FILE                    write side A's model, for a later --a-model
 *   --rounds 8 --runs 3 --threads 1
 */
import { readFile, writeFile } from 'node:fs/promises';
import { bindSynthetic, Graph, Params, toOnnx, type LoweringOverrides } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { Generator, type Session, type Tensor } from '@sdxs/tensor';
import { resnetBlock2D, transformer2D } from '@sdxs/unet';
import { median } from '../stats.js';
import { buildNetwork } from './networks.js';
import { parseConfig, parseLowering } from './profile-args.js';
import { timeSession } from './timing.js';

const BLOCKS = ['transformer-640', 'transformer-1280', 'resnet-320', 'resnet-640', 'resnet-1280', 'unet', 'decoder', 'step'] as const;
type Block = (typeof BLOCKS)[number];

function isBlock(s: string): s is Block {
  return (BLOCKS as readonly string[]).includes(s);
}

/** The block at the stage of SDXS-512's U-Net (512² image, 64² latent) that has `channels`. */
function buildBlock(block: Block, lowering: LoweringOverrides): { graph: Graph; feeds: Record<string, Tensor> } {
  if (block === 'unet' || block === 'decoder' || block === 'step') {
    const built = buildNetwork(block, 512, lowering);
    bindSynthetic(built.graph, 0);
    return built;
  }
  const g = new Graph({ name: block, target: 'cpu', lowering });
  const p = new Params(g);
  const rng = new Generator(0);
  const [kind, c] = block.split('-') as [string, string];
  const channels = Number(c);
  const side = { 320: 64, 640: 32, 1280: 16 }[channels] ?? 0;
  const x = g.input('x', 'float32', [1, channels, side, side]);
  const feeds: Record<string, Tensor> = { x: rng.randn([1, channels, side, side]) };
  if (kind === 'transformer') {
    const ctx = g.input('ctx', 'float32', [1, 77, 768]);
    feeds.ctx = rng.randn([1, 77, 768]);
    const o = { channels, heads: 8, crossAttentionDim: 768, layers: 1, groups: 32, useLinearProjection: false, onlyCrossAttention: false, upcastAttention: false };
    g.output(transformer2D(p.child('t'), x, ctx, o), 'y');
  } else {
    const temb = g.input('temb', 'float32', [1, 1280]);
    feeds.temb = rng.randn([1, 1280]);
    g.output(resnetBlock2D(p.child('r'), x, temb, { inChannels: channels, outChannels: channels, tembChannels: 1280, groups: 32, eps: 1e-5 }), 'y');
  }
  bindSynthetic(g, 0);
  return { graph: g, feeds };
}

interface Side {
  lowering: LoweringOverrides;
  config: Record<string, string>;
  model?: string;
}

async function main(argv: string[]): Promise<void> {
  let block: Block = 'transformer-640';
  const a: Side = { lowering: {}, config: {} };
  const b: Side = { lowering: {}, config: {} };
  let rounds = 8;
  let runs = 3;
  let threads: number | undefined = 1;
  let saveA: string | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i]!, argv[i + 1]];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--block') {
      if (!isBlock(v)) throw new Error(`--block: ${v} is not one of ${BLOCKS.join(', ')}`);
      block = v;
    } else if (flag === '--a') a.lowering = parseLowering(flag, v);
    else if (flag === '--b') b.lowering = parseLowering(flag, v);
    else if (flag === '--a-config') a.config = parseConfig(flag, v);
    else if (flag === '--b-config') b.config = parseConfig(flag, v);
    else if (flag === '--a-model') a.model = v;
    else if (flag === '--b-model') b.model = v;
    else if (flag === '--save-a') saveA = v;
    else if (flag === '--rounds') rounds = Number(v);
    else if (flag === '--runs') runs = Number(v);
    else if (flag === '--threads') threads = v === 'default' ? undefined : Number(v);
    else throw new Error(`unknown option ${flag} (see the comment at the top of perf/ab-blocks.ts)`);
  }
  const open = async (side: Side): Promise<{ session: Session; feeds: Record<string, Tensor> }> => {
    const { graph, feeds } = buildBlock(block, side.lowering);
    const bytes = side.model === undefined ? toOnnx(graph) : new Uint8Array(await readFile(side.model));
    if (side === a && saveA !== undefined) await writeFile(saveA, bytes);
    const rt = createNodeRuntime({ ...(threads === undefined ? {} : { intraOpThreads: threads }), ortSessionOptions: { extra: { session: side.config } } });
    return { session: await rt.createSession(bytes, { label: block }), feeds };
  };
  const sides = [await open(a), await open(b)];
  for (const s of sides) await timeSession(s.session, s.feeds, 0, 2);
  const cpu: [number[], number[]] = [[], []];
  const wall: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const t = await timeSession(sides[i]!.session, sides[i]!.feeds, runs, 0);
      cpu[i as 0 | 1].push(t.cpu_ms);
      wall[i as 0 | 1].push(t.median_ms);
    }
  }
  const ratios = (xs: [number[], number[]]) => xs[1].map((v, i) => v / xs[0][i]!);
  const f = (x: number) => x.toFixed(1);
  console.log(`${block}, ${threads ?? 'default'} thread(s), ${rounds} rounds × ${runs} runs`);
  console.log(`  A ${JSON.stringify(a)}: CPU ${f(median(cpu[0]))} ms/run, wall ${f(median(wall[0]))} ms`);
  console.log(`  B ${JSON.stringify(b)}: CPU ${f(median(cpu[1]))} ms/run, wall ${f(median(wall[1]))} ms`);
  const rc = ratios(cpu).sort((x, y) => x - y);
  console.log(`  B/A CPU: median ${median(rc).toFixed(3)} [${rc.map((x) => x.toFixed(2)).join(' ')}]; wall: median ${median(ratios(wall)).toFixed(3)}`);
  for (const s of sides) await s.session.dispose();
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`ab-blocks: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
