// ControlNetModel behaviours beyond the golden case, on its tiny config with synthetic weights: channel order,
// guess mode, global pooling, the UNetMidBlock2D variant, the graph's names and the errors that name what is wrong.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Generator, Tensor, type ByteSource, type ModelSource } from '@sdxs/tensor';
import { bindSynthetic, Graph, GraphError, Params, toOnnx } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import {
  buildControlNetGraph,
  controlNetModel,
  guessModeScales,
  loadControlNet,
  parseControlNetConfig,
  toUNetResidualFeeds,
  type ControlNetConfig,
  type ControlNetGraphOptions,
} from '@sdxs/control';
import { compareTensors } from '../../../tools/golden/compare.js';
import { caseFile } from '../../../tools/golden/links.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const JSON_CONFIG = (): Record<string, unknown> => JSON.parse(readFileSync(caseFile(`${GOLDEN}controlnet-sdxs512`, 'config.json'), 'utf8'));
const configWith = (over: Record<string, unknown> = {}): ControlNetConfig => parseControlNetConfig({ ...JSON_CONFIG(), ...over }, 'controlnet/config.json');

// Latents 8×8, so the control image is 64×64 (three stride-2 steps in the embedding); 8 tokens of context.
const SHAPE = { batch: 1, height: 8, width: 8, sequenceLength: 8, timestep: 'scalar' } as const;

function feeds(seed: number): Record<string, Tensor> {
  const g = new Generator(seed);
  return {
    sample: g.randn([1, 4, 8, 8]),
    timestep: new Tensor('float32', [], Float32Array.of(999)),
    encoder_hidden_states: g.randn([1, 8, 32]),
    // A control image in [0, 1].
    controlnet_cond: new Tensor('float32', [1, 3, 64, 64], (g.randn([1, 3, 64, 64]).data as Float32Array).map((v) => 0.5 + 0.5 * Math.tanh(v))),
  };
}

/** Build, bind deterministic weights (by parameter name) and run once. */
async function run(config: ControlNetConfig, options: Partial<ControlNetGraphOptions>, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const { graph } = buildControlNetGraph(config, { ...SHAPE, ...options });
  bindSynthetic(graph, 7);
  const session = await createNodeRuntime().createSession(toOnnx(graph));
  try {
    return await session.run(inputs);
  } finally {
    await session.dispose();
  }
}

/** torch.flip(x, dims=[1]) of an NCHW float32 tensor. */
function flipChannels(t: Tensor): Tensor {
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  const plane = h * w;
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) out.set(src.subarray((b * c + k) * plane, (b * c + k + 1) * plane), (b * c + (c - 1 - k)) * plane);
  return new Tensor('float32', t.shape, out);
}

const scale = (v: number) => new Tensor('float32', [], Float32Array.of(v));

describe('ControlNetModel', () => {
  it('controlnet_conditioning_channel_order "bgr" flips the control image (torch.flip on channels)', async () => {
    const x = feeds(1);
    const bgr = await run(configWith({ controlnet_conditioning_channel_order: 'bgr' }), {}, { ...x, conditioning_scale: scale(1) });
    const rgb = await run(configWith(), {}, { ...x, controlnet_cond: flipChannels(x['controlnet_cond']!), conditioning_scale: scale(1) });
    const plain = await run(configWith(), {}, { ...x, conditioning_scale: scale(1) });
    expect(Object.keys(bgr)).toHaveLength(7);
    for (const name of Object.keys(bgr)) {
      expect(compareTensors(name, bgr[name]!, rgb[name]!, { exact: true }).mismatched).toBe(0);
    }
    // …and the flip matters: the same image through the rgb model differs.
    expect(compareTensors('down.0', bgr['down_block_res_samples.0']!, plain['down_block_res_samples.0']!, { exact: true }).mismatched).toBeGreaterThan(0);
  });

  it('guess mode scales the residuals by logspace(-1, 0, n + 1) · conditioning_scale, in float32', async () => {
    const s = guessModeScales(8);
    expect(s[0]).toBe(Math.fround(0.1));
    expect(s[7]).toBe(1);
    for (let i = 1; i < 8; i++) expect(s[i]!).toBeGreaterThan(s[i - 1]!);
    for (let i = 0; i < 8; i++) expect(Math.abs(s[i]! - 10 ** (-1 + i / 7)) / s[i]!).toBeLessThan(1e-7);

    const x = feeds(2);
    const plain = await run(configWith(), {}, { ...x, conditioning_scale: scale(1) });
    const guess = await run(configWith(), { guessMode: true }, { ...x, conditioning_scale: scale(0.8) });
    const names = [...Array(6).keys()].map((i) => `down_block_res_samples.${i}`).concat('mid_block_res_sample');
    expect(guessModeScales(names.length)).toHaveLength(7);
    const k = guessModeScales(names.length).map((v) => Math.fround(v * Math.fround(0.8)));
    names.forEach((name, i) => {
      const base = plain[name]!.data as Float32Array;
      const want = new Tensor('float32', plain[name]!.shape, base.map((v) => Math.fround(v * k[i]!)));
      expect(compareTensors(name, guess[name]!, want, { exact: true }).mismatched).toBe(0);
    });
  });

  it('conditioning_scale: a graph input, or a number fixed at build time, multiplies every residual', async () => {
    const x = feeds(3);
    const byInput = await run(configWith(), {}, { ...x, conditioning_scale: scale(0.5) });
    const fixed = await run(configWith(), { conditioningScale: 0.5 }, x);
    const unit = await run(configWith(), { conditioningScale: 1 }, x);
    for (const name of Object.keys(unit)) {
      expect(compareTensors(name, byInput[name]!, fixed[name]!, { exact: true }).mismatched).toBe(0);
      const half = new Tensor('float32', unit[name]!.shape, (unit[name]!.data as Float32Array).map((v) => Math.fround(v * 0.5)));
      expect(compareTensors(name, fixed[name]!, half, { exact: true }).mismatched).toBe(0);
    }
  });

  it('global_pool_conditions averages every residual over H and W (and ignores guess mode)', async () => {
    const x = feeds(4);
    const full = await run(configWith(), {}, { ...x, conditioning_scale: scale(1) });
    const pooled = await run(configWith({ global_pool_conditions: true }), { guessMode: true }, { ...x, conditioning_scale: scale(1) });
    for (const name of Object.keys(full)) {
      const [n, c, h, w] = full[name]!.shape as [number, number, number, number];
      expect(pooled[name]!.shape).toEqual([n, c, 1, 1]);
      const src = full[name]!.data as Float32Array;
      const mean = new Float32Array(n * c).map((_, k) => src.subarray(k * h * w, (k + 1) * h * w).reduce((a, b) => a + b, 0) / (h * w));
      const cmp = compareTensors(name, pooled[name]!, new Tensor('float32', [n, c, 1, 1], mean), { relative: 1e-5 });
      expect(cmp.ok).toBe(true);
    }
  });

  it('mid_block_type "UNetMidBlock2D" is one resnet (num_layers=0, no attention)', async () => {
    const config = configWith({ mid_block_type: 'UNetMidBlock2D' });
    const { graph } = buildControlNetGraph(config, SHAPE);
    const mid = [...graph.initializers.keys()].filter((k) => k.startsWith('mid_block.'));
    expect(mid.every((k) => k.startsWith('mid_block.resnets.0.'))).toBe(true);
    expect(mid.sort()).toEqual(
      ['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'norm1.bias', 'norm1.weight', 'norm2.bias', 'norm2.weight', 'time_emb_proj.bias', 'time_emb_proj.weight'].map((s) => `mid_block.resnets.0.${s}`),
    );
    const out = await run(config, {}, { ...feeds(5), conditioning_scale: scale(1) });
    expect(out['mid_block_res_sample']!.shape).toEqual([1, 128, 2, 2]);
  });

  it('graph names: diffusers argument names in, diffusers output names out, mapped onto the U-Net graph inputs', () => {
    const built = buildControlNetGraph(configWith(), SHAPE);
    expect(built.inputs).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale']);
    expect(built.outputs).toEqual([...Array(6).keys()].map((i) => `down_block_res_samples.${i}`).concat('mid_block_res_sample'));
    expect(buildControlNetGraph(configWith(), { ...SHAPE, conditioningScale: 0.8 }).inputs).not.toContain('conditioning_scale');
    const t = scale(0);
    expect(Object.keys(toUNetResidualFeeds({ 'down_block_res_samples.0': t, 'down_block_res_samples.11': t, mid_block_res_sample: t, other: t }))).toEqual([
      'down_block_additional_residuals.0',
      'down_block_additional_residuals.11',
      'mid_block_additional_residual',
    ]);
  });

  it('shape errors name the input and the sizes', () => {
    const config = configWith();
    const build = (cond: [number, number, number, number], scaleShape: number[] = []) => {
      const g = new Graph();
      controlNetModel(new Params(g), config, {
        sample: g.input('sample', 'float32', [1, 4, 8, 8]),
        timestep: g.input('timestep', 'float32', []),
        encoderHiddenStates: g.input('ehs', 'float32', [1, 8, 32]),
        controlnetCond: g.input('cond', 'float32', cond),
        conditioningScale: g.input('s', 'float32', scaleShape),
      });
    };
    expect(() => build([1, 3, 32, 64])).toThrow(GraphError);
    expect(() => build([1, 3, 32, 64])).toThrow(/controlnet_cond is \[1, 3, 32, 64\]: its embedding is 4 high, the sample 8; give a control image 8× the latent size/);
    expect(() => build([1, 1, 64, 64])).toThrow(/controlnet_cond must be \[batch, 3, height, width\], got \[1, 1, 64, 64\]/);
    expect(() => build([1, 3, 64, 64], [1])).toThrow(/conditioning_scale must be a float32 scalar \[\], got float32 \[1\]/);
    expect(() => build([1, 3, 64, 64])).not.toThrow();
  });

  it('loadControlNet names the file of a config it refuses', async () => {
    const json = JSON.stringify({ ...JSON_CONFIG(), mid_block_type: null });
    const source: ModelSource = {
      id: 'mem://sketch',
      exists: async (p) => p === 'controlnet/config.json',
      readText: async () => json,
      open: async (): Promise<ByteSource> => {
        throw new Error('no weights in this test');
      },
    };
    await expect(loadControlNet(source, 'controlnet', SHAPE)).rejects.toThrow(/^mem:\/\/sketch\/controlnet\/config\.json: mid_block_type: null is not a ControlNet mid block/);
  });
});
