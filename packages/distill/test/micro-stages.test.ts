// The micro model's training stages at toy widths: each model's loss falls on a fixed batch in a few steps, and a
// stage run stopped and resumed ends with the same weights as one uninterrupted run.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIPTokenizer, parseCLIPTextConfig } from '@sdxs/clip';
import { AutoencoderKL } from '@sdxs/decoder';
import { COLORS, imagesToTensor, shapeSample, SHAPES, SHAPES_CLASSIFIER_CONFIG } from '@sdxs/shapes';
import { Generator, Tensor } from '@sdxs/tensor';
import { parseUNetConfig } from '@sdxs/unet';
import { loadSafetensorsFile } from '@sdxs/tensor/node';
import {
  bindRandom,
  evaluatorTrainingGraph,
  labelledBatch,
  microTextEncoderConfig,
  microTokenizerFiles,
  MICRO_UNET,
  MICRO_VAE,
  runVaeStage,
  teacherTrainingGraph,
  textEncoderTrainingGraph,
  vaeTrainingGraph,
} from '../src/index.js';
import { lossesOn, runtime, sameBits } from './_helpers.js';

/** The VAE's layout at toy width: the same four stages (8× down), 8 channels. */
const TOY_VAE = AutoencoderKL.fromConfig({ ...MICRO_VAE, block_out_channels: [8, 8, 8, 8], norm_num_groups: 4 }).config;


const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('micro model stages', () => {
  it('the evaluator classifier: cross-entropy falls on a fixed batch', async () => {
    const { graph, loss } = evaluatorTrainingGraph(SHAPES_CLASSIFIER_CONFIG, 8);
    bindRandom(graph, new Generator(0), { gain: Math.SQRT2 });
    const losses = await lossesOn(graph, loss, labelledBatch(SHAPES_CLASSIFIER_CONFIG, 0, 0, 8), 12, 3e-3);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
  });

  it('the VAE: reconstruction loss falls on a fixed batch', async () => {
    const { graph, loss } = vaeTrainingGraph(TOY_VAE, 2, 1e-5);
    bindRandom(graph, new Generator(0), { gain: Math.SQRT2 });
    const gen = new Generator(1);
    const batch = { image: imagesToTensor([shapeSample(0, 0).image, shapeSample(0, 1).image]), noise: gen.randn([2, 4, 8, 8]) };
    const losses = await lossesOn(graph, loss, batch, 12, 3e-3);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
  });

  it('the teacher: text encoder and U-Net trained together, ε-loss falls on a fixed batch', async () => {
    const files = microTokenizerFiles();
    const tok = CLIPTokenizer.fromFiles(files);
    const text = parseCLIPTextConfig({ ...microTextEncoderConfig(tok, files.size), hidden_size: 16, intermediate_size: 32, num_attention_heads: 2, num_hidden_layers: 1 }, 'toy text');
    const unet = parseUNetConfig({ ...MICRO_UNET, block_out_channels: [16, 16, 16], norm_num_groups: 4, cross_attention_dim: 16, attention_head_dim: 2 }, 'toy unet');
    const { graph, loss } = teacherTrainingGraph(text, unet, 2, 8, 4);
    bindRandom(graph, new Generator(0));
    const gen = new Generator(2);
    const batch = {
      input_ids: tok.call([shapeSample(0, 0).caption, ''], { maxLength: 24 }).inputIds,
      sample: gen.randn([2, 4, 8, 8]),
      timestep: new Tensor('float32', [2], Float32Array.of(10, 700)),
      noise: gen.randn([2, 4, 8, 8]),
      loss_weight: new Tensor('float32', [2, 1, 1, 1], Float32Array.of(1, 1)),
    };
    const losses = await lossesOn(graph, loss, batch, 12, 3e-3);
    expect(losses.at(-1)!).toBeLessThan(0.7 * losses[0]!);
  });

  it('the text encoder: the attribute probes\' loss falls on a fixed batch of captions', async () => {
    const files = microTokenizerFiles();
    const tok = CLIPTokenizer.fromFiles(files);
    const text = parseCLIPTextConfig({ ...microTextEncoderConfig(tok, files.size), hidden_size: 16, intermediate_size: 32, num_attention_heads: 2, num_hidden_layers: 1 }, 'toy text');
    const { graph, loss } = textEncoderTrainingGraph(text, 8);
    bindRandom(graph, new Generator(0));
    const samples = Array.from({ length: 8 }, (_, i) => shapeSample(0, i, { size: 8 }));
    const hot = (n: number, idx: (i: number) => number) => new Tensor('float32', [8, n], Float32Array.from({ length: 8 * n }, (_, k) => (k % n === idx(Math.floor(k / n)) ? 1 : 0)));
    const batch = {
      input_ids: tok.call(samples.map((s) => s.caption), { maxLength: 24 }).inputIds,
      shape_label: hot(3, (i) => SHAPES.indexOf(samples[i]!.attributes.shape)),
      color_label: hot(8, (i) => COLORS.indexOf(samples[i]!.attributes.color)),
      background_label: hot(8, (i) => COLORS.indexOf(samples[i]!.attributes.background)),
    };
    const losses = await lossesOn(graph, loss, batch, 15, 1e-2);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
  });

  it('a stage stopped and resumed ends bit-identical to an uninterrupted run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sdxs-micro-'));
    dirs.push(root);
    const quiet = { log: () => {} };
    const base = { runtime, config: TOY_VAE, batch: 2, steps: 4, logEvery: 100, checkpointEvery: 0 };
    await runVaeStage({ ...base, out: join(root, 'straight') }, quiet);
    await runVaeStage({ ...base, steps: 4, out: join(root, 'split'), minutes: 1e-9 }, quiet); // stops after one step
    const partial = await readdir(join(root, 'split'));
    expect(partial).toContain('checkpoint-000001');
    const resumed = await runVaeStage({ ...base, out: join(root, 'split'), resume: true }, quiet);
    expect(resumed.step).toBe(4);
    const a = (await loadSafetensorsFile(join(root, 'straight', 'checkpoint-000004', 'vae', 'diffusion_pytorch_model.safetensors'))).tensors;
    const b = (await loadSafetensorsFile(join(root, 'split', 'checkpoint-000004', 'vae', 'diffusion_pytorch_model.safetensors'))).tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, t] of a) expect(sameBits(t.data as Float32Array, b.get(k)!.data as Float32Array), k).toBe(true);
  });
});
