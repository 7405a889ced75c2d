// The one-step stages of the SDXS recipe at toy widths: the block-removed student inherits its teacher's weights,
// the feature-matching and MSE losses fall, the sketch ControlNet starts as a no-op (zero convolutions) and learns,
// and both stages run end to end from in-memory teacher, pairs and data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clipTextModel, CLIPTokenizer, parseCLIPTextConfig } from '@sdxs/clip';
import { parseControlNetConfig } from '@sdxs/control';
import { AutoencoderKL } from '@sdxs/decoder';
import { Graph, Params, toOnnx, type Value } from '@sdxs/graph';
import { shapeSample } from '@sdxs/shapes';
import { Generator, Tensor } from '@sdxs/tensor';
import { parseUNetConfig, unet2DCondition } from '@sdxs/unet';
import {
  adamw,
  bindRandom,
  blockRemovedConfig,
  bindInherited,
  makeTrainable,
  microTextEncoderConfig,
  microTokenizerFiles,
  MICRO_UNET,
  MICRO_VAE,
  oneStepTrainingGraph,
  runDiffInstructStage,
  runOneStepStage,
  runSketchStage,
  sketchControlNetConfig,
  sketchTensor,
  sketchTrainingGraph,
  Trainer,
  type MicroModel,
} from '../src/index.js';
import { featureFeeds, oneStepTimesteps } from '../src/micro/one-step-graph.js';
import { lossesOn, runtime } from './_helpers.js';

const files = microTokenizerFiles();
const tok = CLIPTokenizer.fromFiles(files);
const TEXT = parseCLIPTextConfig({ ...microTextEncoderConfig(tok, files.size), hidden_size: 16, intermediate_size: 32, num_attention_heads: 2, num_hidden_layers: 1 }, 'toy text');
const TEACHER = parseUNetConfig({ ...MICRO_UNET, block_out_channels: [16, 16, 16], norm_num_groups: 4, cross_attention_dim: 16, attention_head_dim: 2 }, 'toy unet');
const VAE = AutoencoderKL.fromConfig({ ...MICRO_VAE, block_out_channels: [8, 8, 8, 8], norm_num_groups: 4 }).config;

/** Random weights for a model built by `build` (bound by bindRandom, read back from the graph). */
function randomWeights(build: (g: Graph) => void, seed: number): Map<string, Tensor<'float32'>> {
  const g = new Graph({ name: 'weights' });
  build(g);
  bindRandom(g, new Generator(seed));
  const out = new Map<string, Tensor<'float32'>>();
  for (const name of g.parameterNames) out.set(name, g.initializers.get(name)!.data as Tensor<'float32'>);
  return out;
}

function toyTeacher(): MicroModel {
  const unet = randomWeights((g) => {
    unet2DCondition(new Params(g), TEACHER, { sample: g.input('x', 'float32', [1, 4, 8, 8]), timestep: g.input('t', 'float32', [1]), encoderHiddenStates: g.input('c', 'float32', [1, 24, TEXT.hidden_size]) });
  }, 1);
  const text = randomWeights((g) => {
    clipTextModel(g, g.input('input_ids', 'int64', [1, 24]), TEXT);
  }, 2);
  const vae = randomWeights((g) => {
    const model = new AutoencoderKL(VAE);
    const { mean } = model.encode(new Params(g), g.input('image', 'float32', [1, 3, 64, 64]));
    model.decode(new Params(g), mean);
  }, 3);
  return { dir: 'toy-teacher', textEncoder: { config: TEXT, weights: text }, unet: { config: TEACHER, weights: unet }, vae: { config: VAE, weights: vae } };
}


const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('one-step stages', () => {
  const teacher = toyTeacher();
  const student = blockRemovedConfig(TEACHER);
  const captions = [shapeSample(0, 0).caption, shapeSample(0, 1).caption];
  const gen = new Generator(5);
  const pairBatch = (): Record<string, Tensor> => ({
    input_ids: tok.call(captions, { maxLength: 24 }).inputIds,
    noise: gen.randn([2, 4, 8, 8]),
    timestep: oneStepTimesteps(2),
    latents: gen.randn([2, 4, 8, 8]),
  });

  it('block removal: no mid block, one layer per block; the student keeps every teacher tensor whose key and shape survive', () => {
    expect(student.mid_block_type).toBeNull();
    expect(student.layers_per_block).toBe(1);
    const { graph } = oneStepTrainingGraph(TEXT, TEACHER, student, 2, 8, { loss: 'mse', mseWeight: 0 });
    const { inherited, fresh } = bindInherited(graph, teacher.unet.weights, { select: (n) => !n.startsWith('text_model.') });
    expect(inherited).toContain('down_blocks.0.resnets.0.conv1.weight');
    expect(inherited).toContain('down_blocks.0.attentions.0.proj_in.weight');
    expect(inherited).toContain('conv_out.weight');
    expect(inherited.some((n) => n.startsWith('mid_block.'))).toBe(false);
    expect(inherited.some((n) => n.startsWith('down_blocks.0.resnets.1.'))).toBe(false);
    for (const n of inherited) expect(graph.initializers.get(n)!.data, n).toBeDefined();
    for (const n of fresh) expect(graph.initializers.get(n)!.data, n).toBeUndefined();
    // Bound values are copies of the teacher's, not the same arrays (training must not change the teacher).
    const a = graph.initializers.get('conv_in.weight')!.data as Tensor<'float32'>;
    expect(a.data).toEqual(teacher.unet.weights.get('conv_in.weight')!.data);
    expect(a.data).not.toBe(teacher.unet.weights.get('conv_in.weight')!.data);
  });

  for (const loss of ['feature-matching', 'mse'] as const) {
    it(`the one-step student's ${loss} loss falls on a fixed batch of pairs`, async () => {
      const { graph, loss: l } = oneStepTrainingGraph(TEXT, TEACHER, student, 2, 8, { loss, mseWeight: 0.25 });
      bindInherited(graph, teacher.textEncoder.weights, { select: (n) => n.startsWith('text_model.') });
      bindInherited(graph, teacher.unet.weights, { prefix: 'teacher.' });
      const { fresh } = bindInherited(graph, teacher.unet.weights, { select: (n) => !n.startsWith('text_model.') && !n.startsWith('teacher.') });
      bindRandom(graph, new Generator(0), { filter: (n) => fresh.includes(n) });
      const batch = { ...pairBatch(), ...(loss === 'mse' ? {} : featureFeeds(gen, [2, 4, 8, 8], [20, 400])) };
      const losses = await lossesOn(graph, l, batch, 10, 3e-3, (n) => !n.startsWith('text_model.') && !n.startsWith('teacher.'));
      expect(losses.at(-1)!).toBeLessThan(0.7 * losses[0]!);
    });
  }

  it('the sketch ControlNet starts as a no-op (zero convolutions) and its loss falls', async () => {
    const studentWeights = randomWeights((g) => {
      unet2DCondition(new Params(g), student, { sample: g.input('x', 'float32', [1, 4, 8, 8]), timestep: g.input('t', 'float32', [1]), encoderHiddenStates: g.input('c', 'float32', [1, 24, 16]) });
    }, 7);
    const controlnet = sketchControlNetConfig(student);
    expect(controlnet.mid_block_type).toBe('UNetMidBlock2D');
    const samples = [shapeSample(0, 0), shapeSample(0, 1)];
    const batch: Record<string, Tensor> = {
      ...pairBatch(),
      controlnet_cond: sketchTensor(samples.map((s) => s.sketch)),
      conditioning_scale: new Tensor('float32', [], Float32Array.of(1)),
      ...featureFeeds(gen, [2, 4, 8, 8], [20, 400]),
    };
    const build = () => {
      const built = sketchTrainingGraph({ text: TEXT, teacher: TEACHER, student, controlnet }, 2, 8, 0.25);
      bindInherited(built.graph, teacher.textEncoder.weights, { select: (n) => n.startsWith('text_model.') });
      bindInherited(built.graph, teacher.unet.weights, { prefix: 'teacher.' });
      bindInherited(built.graph, studentWeights, { prefix: 'unet.' });
      return built;
    };
    // With its zero convolutions at zero the ControlNet adds nothing: the student's x0 as without it.
    const plain = oneStepTrainingGraph(TEXT, TEACHER, student, 2, 8, { loss: 'mse', mseWeight: 0 });
    bindInherited(plain.graph, teacher.textEncoder.weights, { select: (n) => n.startsWith('text_model.') });
    bindInherited(plain.graph, studentWeights, { select: (n) => !n.startsWith('text_model.') });
    const { graph, loss } = build();
    bindInherited(graph, studentWeights, { prefix: 'controlnet.' });
    for (const name of [...graph.parameterNames].filter((n) => /^controlnet\.(controlnet_down_blocks|controlnet_mid_block|controlnet_cond_embedding\.conv_out)\./.test(n))) {
      graph.bind(name, Tensor.zeros('float32', graph.initializers.get(name)!.shape));
    }
    bindRandom(graph, new Generator(8), { filter: (n) => n.startsWith('controlnet.') });
    const plainSession = await runtime.createSession(toOnnx(plain.graph));
    const { latent_mse: want } = await plainSession.run({ input_ids: batch['input_ids']!, noise: batch['noise']!, timestep: batch['timestep']!, latents: batch['latents']! }, ['latent_mse']);
    await plainSession.dispose();
    const trainer = await Trainer.create({ runtime, graph, loss, trainable: makeTrainable(graph, /^controlnet\./), optimizer: adamw({ lr: 3e-3, weightDecay: 0 }), metrics: ['latent_mse'] });
    const losses: number[] = [];
    try {
      const first = await trainer.step(batch);
      expect((first.metrics['latent_mse']!.data as Float32Array)[0]).toBeCloseTo((want!.data as Float32Array)[0]!, 4);
      losses.push(first.loss);
      for (let i = 0; i < 9; i++) losses.push((await trainer.step(batch)).loss);
    } finally {
      await trainer.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
  });

  it('both stages run end to end: checkpoints, EMA weights under diffusers keys, a ControlNet config diffusers accepts', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sdxs-one-step-'));
    dirs.push(root);
    const quiet = { log: () => {} };
    const n = 8;
    const pairs = { noise: gen.randn([n, 4, 8, 8]), latents: gen.randn([n, 4, 8, 8]), captions: Array.from({ length: n }, (_, i) => shapeSample(0, i).caption), settings: {} };
    const one = await runOneStepStage({ runtime, out: join(root, 'one-step'), teacher, pairs, batch: 2, steps: 2, logEvery: 100, checkpointEvery: 0 }, quiet);
    expect(one.finished).toBe(true);
    expect(one.inherited).toBeGreaterThan(0);
    expect([...one.weights.keys()].every((k) => !k.startsWith('text_model.') && !k.startsWith('teacher.'))).toBe(true);
    expect(one.weights.has('conv_in.weight')).toBe(true);
    const sketch = await runSketchStage({ runtime, out: join(root, 'sketch'), teacher, student: { config: one.student, weights: one.weights }, batch: 2, steps: 2, logEvery: 100, checkpointEvery: 0 }, quiet);
    expect(sketch.finished).toBe(true);
    expect(sketch.weights.has('controlnet_mid_block.weight')).toBe(true);
    expect([...sketch.weights.keys()].some((k) => k.startsWith('controlnet.'))).toBe(false);
    const reparsed = parseControlNetConfig(JSON.parse(JSON.stringify(sketch.config)), 'roundtrip');
    expect(reparsed.conditioning_embedding_out_channels).toEqual([16, 32, 48, 64]);
  });

  it('Diff-Instruct: with the online model equal to the teacher and no guidance the score difference vanishes; guidance makes it move; both networks step', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sdxs-di-'));
    dirs.push(root);
    const studentWeights = randomWeights((g) => {
      unet2DCondition(new Params(g), student, { sample: g.input('x', 'float32', [1, 4, 8, 8]), timestep: g.input('t', 'float32', [1]), encoderHiddenStates: g.input('c', 'float32', [1, 24, 16]) });
    }, 9);
    const n = 8;
    const pairs = { noise: gen.randn([n, 4, 8, 8]), latents: gen.randn([n, 4, 8, 8]), captions: Array.from({ length: n }, (_, i) => shapeSample(0, i).caption), settings: {} };
    const run = async (guidance: number, out: string) => {
      const r = await runDiffInstructStage({ runtime, out: join(root, out), teacher, student: { config: student, weights: studentWeights }, pairs, batch: 2, steps: 2, guidance, logEvery: 100, checkpointEvery: 0 }, { log: () => {} });
      const { readFile } = await import('node:fs/promises');
      const lines = (await readFile(join(root, out, 'train_log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      return { r, steps: lines.filter((l) => typeof l['step'] === 'number' && 'loss' in l) };
    };
    const same = await run(1, 'g1');
    expect(same.r.finished).toBe(true);
    // Zero up to rounding: the teacher runs on [x_t; x_t] with its uncond half, the online model on x_t alone.
    expect(Number(same.steps[0]!['di_loss'])).toBeLessThan(1e-9);
    expect(Number(same.steps[0]!['online_loss'])).toBeGreaterThan(0);
    const guided = await run(5, 'g5');
    expect(Number(guided.steps[0]!['di_loss'])).toBeGreaterThan(1e-4);
    expect(guided.r.weights.has('conv_in.weight')).toBe(true);
  });
});
