// The `grad` kind's two licensed departures from "within 1e-4 of its own scale" — structurally zero gradients and ReLU
// subgradient choices — must never let a wrong gradient through. Fast tests on small graphs and a tiny synthetic
// decoder; two on the shared U-Net case with a tampered reference.
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoencoderTiny } from '@sdxs/decoder';
import { Add, conv2d, Graph, grad, groupNorm, linear, Mul, Params, ReduceSum, Reshape, Unsqueeze, type Value } from '@sdxs/graph';
import { Generator, Tensor } from '@sdxs/tensor';
import { openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { buildUNetGraph, parseUNetConfig } from '@sdxs/unet';
import { compareTensors } from '../golden/compare.js';
import { runComponent } from '../golden/component.js';
import { caseFile } from '../golden/links.js';
import { kinkStages, maskFeeds, maskRelus, nearZeroInputs, reluNodes, searchSubgradients, type KinkPlan, type NearZero } from '../golden/grad/kinks.js';
import { openCaseSession } from '../golden/grad/session.js';
import { proveZeroGradient, structurallyZeroParams } from '../golden/grad/structural-zero.js';
import { loadCase, runCase } from '../golden/run.js';

const GOLDEN = fileURLToPath(new URL('../../../shared/golden/', import.meta.url));
const haveGolden = existsSync(join(GOLDEN, 'grad-unet-sdxs512', 'case.json'));
const TRAINING = { attention: 'decomposed', groupNorm: 'instance-norm' } as const;

/** conv → [+ extra] → GroupNorm(groups) → conv, on a [1, 4, 5, 5] input. */
function normNet(groups: number, options: { lowering?: 'instance-norm' | 'decomposed'; between?: (h: Value, g: Graph) => Value; after?: (y: Value, h: Value) => Value } = {}) {
  const g = new Graph({ lowering: { groupNorm: options.lowering ?? 'instance-norm' } });
  const p = new Params(g);
  const x = g.input('x', 'float32', [1, 4, 5, 5]);
  let h = conv2d(p.child('conv1'), x, 4, 4, 3, { padding: 1 });
  if (options.between) h = options.between(h, g);
  let y = groupNorm(h, groups, p.child('norm').param('weight', [4]), p.child('norm').param('bias', [4]));
  if (options.after) y = options.after(y, h);
  return { g, out: conv2d(p.child('conv2'), y, 4, 4, 3, { padding: 1 }) };
}

describe('structural-zero proof', () => {
  it('proves the bias before a one-channel-per-group norm zero, and nothing else of the net', () => {
    const { g, out } = normNet(4);
    expect([...structurallyZeroParams(g, out).keys()]).toEqual(['conv1.bias']);
    expect(proveZeroGradient(g, out, 'conv1.bias').detail).toMatch(/cancelled by .*InstanceNormalization/);
  });

  it('rejects parameters whose gradient is not zero by structure', () => {
    // Two channels per group: a per-channel constant changes the group's mean unevenly and is not removed.
    const two = normNet(2);
    expect(proveZeroGradient(two.g, two.out, 'conv1.bias').zero).toBe(false);
    // The bias also reaches the output around the norm.
    const leak = normNet(4, { after: (y, h) => Add(y, h) });
    expect(proveZeroGradient(leak.g, leak.out, 'conv1.bias').zero).toBe(false);
    // Scaled per position before the norm: no longer constant over H and W.
    const ramp = new Tensor('float32', [1, 1, 5, 5], Float32Array.from({ length: 25 }, (_, i) => 1 + i / 25));
    const scaled = normNet(4, { between: (h, g) => Mul(h, g.constant(ramp)) });
    expect(proveZeroGradient(scaled.g, scaled.out, 'conv1.bias').zero).toBe(false);
    // The decomposed GroupNorm lowering is not recognised: its parameters keep the strict check.
    const decomposed = normNet(4, { lowering: 'decomposed' });
    expect(structurallyZeroParams(decomposed.g, decomposed.out).size).toBe(0);
    for (const p of ['conv1.weight', 'norm.weight', 'norm.bias', 'conv2.weight', 'conv2.bias']) expect(proveZeroGradient(normNet(4).g, normNet(4).out, p).zero, p).toBe(false);
  });

  it('proves a time-embedding projection broadcast over H and W zero, not one that varies over them', () => {
    const build = (spatial: boolean) =>
      normNet(4, {
        between: (h, g) => {
          const temb = g.input('temb', 'float32', [1, 6]);
          const t = linear(new Params(g).child('time_emb_proj'), temb, 6, spatial ? 4 * 25 : 4);
          return Add(h, spatial ? Reshape(t, [1, 4, 5, 5]) : Unsqueeze(t, [2, 3]));
        },
      });
    const flat = build(false);
    expect([...structurallyZeroParams(flat.g, flat.out).keys()].sort()).toEqual(['conv1.bias', 'time_emb_proj.bias', 'time_emb_proj.weight']);
    const varying = build(true);
    expect([...structurallyZeroParams(varying.g, varying.out).keys()]).toEqual(['conv1.bias']);
  });

  it.skipIf(!haveGolden)('finds exactly the 11 zero gradients of the SDXS-512 U-Net layout', async () => {
    const dir = join(GOLDEN, 'grad-unet-sdxs512');
    const config = parseUNetConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), 'config.json');
    const { graph } = buildUNetGraph(config, { lowering: TRAINING, batch: 2, height: 16, width: 16, sequenceLength: 8, timestep: 'batch' });
    const zero = [...structurallyZeroParams(graph, graph.outputs[0]!).keys()].sort();
    // The analysis of packages/distill/test/golden-grad.test.ts, by hand: conv1's bias and the time embedding projection
    // of the 32-channel resnets (before norm2), the last resnet's conv2 and shortcut biases (before conv_norm_out).
    const byHand = /^(down_blocks\.0\.resnets\.0|up_blocks\.2\.resnets\.[01])\.(conv1\.bias|time_emb_proj\.(weight|bias))$|^up_blocks\.2\.resnets\.1\.(conv2|conv_shortcut)\.bias$/;
    expect(zero.length).toBe(11);
    expect(zero.filter((p) => !byHand.test(p))).toEqual([]);
    expect(zero).not.toContain('down_blocks.0.resnets.0.conv2.bias');
    expect(zero).not.toContain('up_blocks.2.resnets.0.conv2.bias');
  });
});

describe('zero tolerance (compare.ts)', () => {
  const t = (...v: number[]) => new Tensor('float32', [v.length], Float32Array.from(v));
  const tol = { relative: 1e-4, zero: { scale: 10, of: 'grad.m.*' } };
  it('passes noise on both sides and fails a value above noise on either side', () => {
    const quiet = compareTensors('g', t(3e-6, -1e-6), t(-2e-6, 1e-6), tol);
    expect(quiet.ok).toBe(true);
    expect(quiet.noise).toBeCloseTo(3e-6, 12);
    expect(compareTensors('g', t(3e-3, 0), t(1e-6, 0), tol).ok).toBe(false);
    expect(compareTensors('g', t(1e-6, 0), t(0, 2e-3), tol).ok).toBe(false);
    expect(compareTensors('g', t(NaN, 0), t(0, 0), tol).ok).toBe(false);
  });
});

describe('kink search', () => {
  const z = (relu: string, index: number, ulps: number): NearZero => ({ relu, index, coords: [index], x: -ulps * 1e-8, rms: 1, ulps });
  // A fake "backward pass": output o<i> passes when exactly the flips in `want` are made (as a ReLU stage would).
  const plan = (pool: NearZero[], witnesses = ['w']): KinkPlan => ({ stages: [{ relus: ['r'], pool, witnesses }], unaffected: ['u'] });
  const failing = (want: string) => (flips: readonly NearZero[], names: readonly string[]) =>
    names.filter((n) => n !== 'u' && flips.map((f) => f.index).sort().join() !== want);

  it('keeps our subgradients when the witnesses pass and never evaluates', async () => {
    let evaluations = 0;
    const r = await searchSubgradients(plan([z('r', 1, 2)]), [], async (f) => (evaluations++, f), failing(''));
    expect(r).toMatchObject({ ok: true, flips: [], evaluations: 0 });
    expect(evaluations).toBe(0);
  });

  it('finds the flips that explain the witnesses, nearest first', async () => {
    const r = await searchSubgradients(plan([z('r', 1, 2), z('r', 2, 5), z('r', 3, 9)]), [], async (f) => f, failing('2,3'));
    expect(r.ok).toBe(true);
    expect(r.flips.map((f) => f.index)).toEqual([2, 3]);
    expect(r.evaluations).toBe(3 + 3); // three singles, then pairs (1,2), (1,3), (2,3)
  });

  it('fails when no choice explains the witnesses, when a stage has too many candidates, and for an unaffected miss', async () => {
    const none = await searchSubgradients(plan([z('r', 1, 2), z('r', 2, 5)]), [], async (f) => f, failing('9'));
    expect(none.ok).toBe(false);
    expect(none.reason).toMatch(/no choice of the other subgradient/);
    const many = await searchSubgradients(plan(Array.from({ length: 9 }, (_, i) => z('r', i, i))), [], async (f) => f, failing('1'));
    expect(many).toMatchObject({ ok: false, evaluations: 0 });
    expect(many.reason).toMatch(/9 ReLU inputs within rounding of zero, more than 8: no combinations tried/);
    const unaffected = await searchSubgradients(plan([z('r', 1, 2)]), [], async (f) => f, (_f, names) => names.filter((n) => n === 'u'));
    expect(unaffected).toMatchObject({ ok: false, evaluations: 0 });
    expect(unaffected.reason).toMatch(/u miss\(es\) and no near-zero ReLU input lies downstream of them: not a kink/);
  });

  it('marks positions within 64·2⁻²⁴·rms of zero, nearest first', () => {
    const x = new Tensor('float32', [1, 1, 2, 2], Float32Array.from([1, -1, 3e-6, -1e-7]));
    const found = nearZeroInputs('r', x);
    expect(found.map((f) => [f.index, f.coords])).toEqual([[3, [0, 0, 1, 1]]]);
    expect(found[0]!.ulps).toBeCloseTo(2.373, 2); // 1e-7 / (2⁻²⁴ · √(2/4))
  });
});

// A tiny TAESD-shaped decoder with random weights, one of whose ReLU inputs is made zero up to rounding by shifting the
// bias before it; references are our own gradients with our subgradients (plain) or with that one flipped (as a
// reference whose forward pass rounded it to the other sign would be).
describe('grad kind on a tiny decoder with a ReLU input at zero', () => {
  let dir = '';
  const latents = new Generator(1).randn([1, 4, 4, 4]);
  const upstream = new Generator(2).randn([1, 3, 32, 32]);
  let plain = new Map<string, Tensor>();
  let flipped = new Map<string, Tensor>();
  let kink: NearZero | undefined;

  const config = {
    _class_name: 'AutoencoderTiny', in_channels: 3, out_channels: 3, encoder_block_out_channels: [8, 8, 8, 8], decoder_block_out_channels: [8, 8, 8, 8],
    act_fn: 'relu', upsample_fn: 'nearest', latent_channels: 4, upsampling_scaling_factor: 2, num_encoder_blocks: [1, 1, 1, 1], num_decoder_blocks: [1, 1, 1, 1],
    latent_magnitude: 3, latent_shift: 0.5, force_upcast: false, scaling_factor: 1.0, shift_factor: 0.0, block_out_channels: [8, 8, 8, 8],
  };
  const decoder = () => {
    const g = new Graph({ name: 'tiny', lowering: TRAINING });
    const x = g.input('latents', 'float32', [1, 4, 4, 4]);
    return { g, x, out: AutoencoderTiny.fromConfig(config, 'config.json').decode(new Params(g), x) };
  };
  const bind = { ignore: [/^encoder\./] };

  /** The last ReLU's input and the bias added right before it. */
  async function probeLastRelu() {
    const { g } = decoder();
    const relu = reluNodes(g).at(-1)!;
    const add = g.nodes.find((n) => n.outputs.includes(relu.inputs[0]!))!;
    const conv = g.nodes.find((n) => n.opType === 'Conv' && add.inputs.some((i) => n.outputs.includes(i)) && n.inputs[2])!;
    g.output(g.value(relu.inputs[0]!), 'x');
    const x = (await runComponent(await loadCase(dir), g, { latents }, () => bind)).get('x')!;
    return { relu: relu.name, bias: conv.inputs[2]!, x };
  }

  /** Our gradients, with the subgradient at `flips` inverted (none: equal to the plain graph's up to rounding). */
  async function gradients(flips: readonly NearZero[], x: Tensor): Promise<Map<string, Tensor>> {
    const { g, x: input, out } = decoder();
    const masks = maskRelus(g, [reluNodes(g).at(-1)!.name]);
    const seed = g.input('upstream', 'float32', [1, 3, 32, 32]);
    const params = [...g.parameterNames].map((n) => g.value(n));
    const grads = grad(out, [...params, input], { seed });
    g.output(Reshape(ReduceSum(Mul(out, seed), undefined, false), [1]), 'loss');
    params.forEach((p, i) => g.output(grads[i]!, `grad.${p.name}`));
    g.output(grads[params.length]!, 'grad_input.latents');
    const session = await openCaseSession(await loadCase(dir), g, bind);
    try {
      const feeds = maskFeeds(new Map([[[...masks.keys()][0]!, x]]), masks, flips);
      return new Map(Object.entries(await session.run({ latents, upstream, ...feeds })));
    } finally {
      await session.dispose();
    }
  }

  async function writeCase(outputs: Map<string, Tensor>) {
    await writeSafetensorsFile(join(dir, 'outputs.safetensors'), outputs);
    return runCase(dir);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sdxs-grad-kink-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'case.json'), JSON.stringify({ kind: 'grad', component: 'vae-tiny' }));
    await writeSafetensorsFile(join(dir, 'inputs.safetensors'), new Map([['latents', latents], ['upstream', upstream]]));
    const { g } = decoder();
    const weights = new Map<string, Tensor>();
    [...g.parameterNames].forEach((name, i) => {
      const shape = g.initializers.get(name)!.shape;
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      const t = new Generator(100 + i).randn(shape);
      const scale = shape.length === 1 ? 0.1 : 1 / Math.sqrt(fanIn);
      for (let k = 0; k < t.data.length; k++) t.data[k] = t.data[k]! * scale;
      weights.set(name, t);
    });
    const model = join(dir, 'model.safetensors');
    await writeSafetensorsFile(model, weights);
    // Shift the bias of one channel so that one position of the last ReLU's input lands at zero up to rounding.
    const before = await probeLastRelu();
    const index = 16 * 32 + 16; // channel 0, row 16, column 16 of [1, 8, 32, 32]
    const bias = weights.get(before.bias)!;
    f32(bias)[0] = Math.fround(f32(bias)[0]! - f32(before.x)[index]!);
    await writeSafetensorsFile(model, weights);
    const after = await probeLastRelu();
    kink = nearZeroInputs(after.relu, after.x).find((n) => n.index === index);
    expect(kink, 'the shifted position is within rounding of zero').toBeDefined();
    plain = await gradients([], after.x);
    flipped = await gradients([kink!], after.x);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the kink path is not taken when the plain check passes', async () => {
    const report = await writeCase(plain);
    expect(report.status).toBe('pass');
    expect(report.notes).toEqual([]);
  });

  it('a reference with the other sign at the near-zero input passes only with that one subgradient flipped, and says so', async () => {
    const report = await writeCase(flipped);
    expect(report.status).toBe('pass');
    expect(report.notes.join('\n')).toMatch(/1 of them evaluated with the other subgradient/);
    expect(report.notes.join('\n')).toContain(`input[${kink!.coords.join(',')}]`);
    // Not a loophole around the plain check: the flip matters beyond the tolerance.
    const conv4 = [...flipped.keys()].find((n) => /layers\.\d+\.conv\.4\.bias$/.test(n) && compareTensors(n, plain.get(n)!, flipped.get(n)!, { relative: 1e-4 }).ok === false);
    expect(conv4).toBeDefined();
  });

  it('a deliberately wrong gradient still fails, whether or not a kink could affect it', async () => {
    // Upstream of the near-zero ReLU: the search runs, and no subgradient choice explains the bump.
    const r1 = await writeCase(bumped(flipped, 'grad_input.latents', 5, 1e-3));
    expect(r1.status).toBe('fail');
    expect(r1.comparisons.filter((c) => !c.ok).map((c) => c.output)).toContain('grad_input.latents');
    expect(r1.notes.join('\n')).toMatch(/does not explain the misses: .*no choice of the other subgradient.*: grad_input\.latents still miss\)/);

    // The last conv's bias lies downstream of every ReLU: no subgradient choice can change it, so nothing is tried.
    const last = [...plain.keys()].filter((n) => /^grad\.decoder\.layers\.\d+\.bias$/.test(n)).sort((a, b) => layer(b) - layer(a))[0]!;
    const r2 = await writeCase(bumped(plain, last, 0, 1e-3));
    expect(r2.status).toBe('fail');
    expect(r2.comparisons.filter((c) => !c.ok).map((c) => c.output)).toEqual([last]);
    expect(r2.notes.join('\n')).toMatch(/not a kink \(0 evaluation/);
  });
});

function f32(t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`expected float32, got ${t.dtype}`);
  return t.data;
}

const layer = (name: string) => Number(/layers\.(\d+)/.exec(name)?.[1] ?? -1);

/** `outputs` with element `index` of `name` moved by `by` times that output's scale. */
function bumped(outputs: ReadonlyMap<string, Tensor>, name: string, index: number, by: number): Map<string, Tensor> {
  const t = outputs.get(name)!;
  const scale = Math.max(...t.toArray().map(Math.abs));
  const data = Float32Array.from(f32(t));
  data[index] = data[index]! + by * scale;
  return new Map(outputs).set(name, new Tensor('float32', t.shape, data));
}

describe.skipIf(!haveGolden)('grad kind on the shared U-Net case with a tampered reference', () => {
  it('fails a strict gradient off by 2e-4 of its scale and a structurally zero one that is not noise', async () => {
    const src = join(GOLDEN, 'grad-unet-sdxs512');
    const dir = mkdtempSync(join(tmpdir(), 'sdxs-grad-unet-'));
    try {
      // Link the real files (the shared folder's own links are relative text files: links.ts).
      for (const f of ['case.json', 'config.json', 'inputs.safetensors', 'model.safetensors']) symlinkSync(caseFile(src, f), join(dir, f));
      const ref = await openSafetensorsFile(join(src, 'outputs.safetensors'));
      const outputs = new Map<string, Tensor>();
      for (const n of ref.names()) outputs.set(n, await ref.read(n));
      await ref.close();
      const zeroName = 'grad.down_blocks.0.resnets.0.time_emb_proj.bias';
      const tampered = bumped(outputs, 'grad.conv_in.bias', 0, 2e-4);
      // A structurally zero reference set to 1e-3 of its module's largest gradient (grad.down_blocks.0.resnets.0.*
      // reaches ~15): far above rounding noise, though still tiny next to the module.
      const z = tampered.get(zeroName)!;
      tampered.set(zeroName, new Tensor('float32', z.shape, Float32Array.from(f32(z), (v, i) => (i === 0 ? 1.5e-2 : v))));
      await writeSafetensorsFile(join(dir, 'outputs.safetensors'), tampered);
      const report = await runCase(dir);
      expect(report.status).toBe('fail');
      expect(report.comparisons.filter((c) => !c.ok).map((c) => c.output).sort()).toEqual(['grad.conv_in.bias', zeroName]);
      expect(report.notes.join('\n')).toMatch(/no ReLU in the graph/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
