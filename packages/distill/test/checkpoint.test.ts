// Checkpoints: resuming gives bit for bit the steps an uninterrupted run takes; the weights folder loads back.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoencoderTiny } from '@sdxs/decoder';
import { bindCheckpoint, Graph, linear, Params, toOnnx } from '@sdxs/graph';
import { Generator, type Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { adamw, addLoRA, CHECKPOINT_FILES, mergeLoRA, mseLoss, checkpointName, latestCheckpoint, loadCheckpoint, makeTrainable, saveCheckpoint, Trainer, type UpdateMode } from '../src/index.js';
import { distillGraph, STUDENT } from './_decoder.js';
import { normal, runtime, sameBits } from './_helpers.js';

const root = mkdtempSync(join(tmpdir(), 'sdxs-distill-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function trainer(update: UpdateMode) {
  const d = await distillGraph(2, 4, 7);
  const t = await Trainer.create({
    runtime,
    graph: d.graph,
    loss: d.loss,
    trainable: makeTrainable(d.graph, /^decoder\./),
    optimizer: adamw({ lr: 1e-2 }),
    clipGradNorm: 1,
    ema: { decay: 0.9 },
    lossScaling: { initScale: 2 ** 10, growthInterval: 2 },
    update,
  });
  return t;
}

const batch = (gen: Generator) => ({ latents: gen.randn([2, 4, 4, 4]) });

describe('checkpoints', () => {
  for (const update of ['host', 'graph'] as UpdateMode[]) {
    it(`resume gives the same next steps as not stopping, bit for bit (${update} update)`, async () => {
      const dir = join(root, update);
      const a = await trainer(update);
      const gen = new Generator(99);
      for (let i = 0; i < 3; i++) await a.step(batch(gen));
      const weights = new Map<string, Tensor>(a.params());
      const ckpt = join(dir, checkpointName(a.stepCount));
      await saveCheckpoint(ckpt, { component: 'vae', config: STUDENT, weights, trainer: a.state(), rng: gen.getState(), meta: { note: 'test' } });
      const lossesA: number[] = [];
      for (let i = 0; i < 3; i++) lossesA.push((await a.step(batch(gen))).loss);

      expect(await latestCheckpoint(dir)).toBe(ckpt);
      const loaded = await loadCheckpoint(ckpt);
      expect(loaded.meta).toEqual({ note: 'test' });
      expect(loaded.trainer.step).toBe(3);
      const b = await trainer(update);
      b.load(loaded.trainer);
      const gen2 = new Generator().setState(loaded.rng!);
      const lossesB: number[] = [];
      for (let i = 0; i < 3; i++) lossesB.push((await b.step(batch(gen2))).loss);
      expect(lossesB).toEqual(lossesA);
      expect(b.lossScale).toBe(a.lossScale);
      for (const [k, v] of a.params()) expect(sameBits(b.params().get(k)!.data, v.data), k).toBe(true);
      for (const [k, v] of a.emaParams()!) expect(sameBits(b.emaParams()!.get(k)!.data, v.data), k).toBe(true);
      for (const [k, v] of a.state().slots) expect(sameBits(b.state().slots.get(k)!.data, v.data), k).toBe(true);
      await a.dispose();
      await b.dispose();
    });
  }

  it('writes a diffusers component folder that bindCheckpoint loads, and stores trained weights once', async () => {
    const t = await trainer('host');
    await t.step(batch(new Generator(5)));
    const dir = join(root, 'export', checkpointName(1));
    await saveCheckpoint(dir, { component: 'vae', config: STUDENT, weights: t.params(), trainer: t.state() });
    expect(readdirSync(dir).sort()).toEqual([CHECKPOINT_FILES.state, 'vae']);
    expect(readdirSync(join(dir, 'vae')).sort()).toEqual([CHECKPOINT_FILES.config, CHECKPOINT_FILES.weights]);
    // Parameters live in the weights file only; the state file holds optimizer state under torch's names.
    const state = await openSafetensorsFile(join(dir, CHECKPOINT_FILES.state));
    expect(state.names().some((n) => n.startsWith('param.'))).toBe(false);
    expect(state.names()).toContain('optimizer.exp_avg.decoder.layers.0.weight');
    await state.close();
    const vae = AutoencoderTiny.fromConfig((await loadCheckpoint(dir)).config);
    const { graph } = vae.decoderGraph({ batch: 2, height: 4, width: 4 });
    const file = await openSafetensorsFile(join(dir, 'vae', CHECKPOINT_FILES.weights));
    await bindCheckpoint(graph, [file], { ignore: [/^encoder\./] });
    await file.close();
    for (const [k, v] of t.params()) {
      const bound = graph.initializers.get(k)!.data;
      expect(bound && 'dtype' in bound && sameBits(bound.data as Float32Array, v.data), k).toBe(true);
    }
    const s = await runtime.createSession(toOnnx(graph));
    const out = await s.run({ latents: new Generator(1).randn([2, 4, 4, 4]) });
    expect(out['sample']!.shape).toEqual([2, 3, 32, 32]);
    await s.dispose();
    await t.dispose();
  });

  it('LoRA runs: merged weights for the component, adapters in pytorch_lora_weights.safetensors, resumed from there', async () => {
    const make = async () => {
      const g = new Graph();
      const x = g.input('x', 'float32', [3, 4]);
      const y = linear(new Params(g).child('attn').child('to_q'), x, 4, 4, false);
      g.bind('attn.to_q.weight', normal([4, 4], 1));
      const lora = addLoRA(g, { rank: 2, generator: new Generator(3) });
      const loss = mseLoss(y, g.input('t', 'float32', [3, 4]));
      return { lora, trainer: await Trainer.create({ runtime, graph: g, loss, trainable: lora.params, optimizer: adamw({ lr: 0.1 }) }) };
    };
    const { lora, trainer } = await make();
    const data = { x: normal([3, 4], 2), t: normal([3, 4], 3) };
    await trainer.step(data);
    const frozen = new Map<string, Tensor>([['attn.to_q.weight', normal([4, 4], 1)]]);
    const dir = join(root, 'lora', checkpointName(1));
    await saveCheckpoint(dir, { component: 'unet', config: {}, weights: mergeLoRA(frozen, trainer.params(), lora), adapters: trainer.params(), trainer: trainer.state() });
    const loaded = await loadCheckpoint(dir);
    expect([...loaded.adapters!.keys()].sort()).toEqual(['attn.to_q.lora_A.weight', 'attn.to_q.lora_B.weight']);
    expect(sameBits(loaded.weights.get('attn.to_q.weight')!.data as Float32Array, frozen.get('attn.to_q.weight')!.data as Float32Array)).toBe(false);
    const again = await make();
    again.trainer.load(loaded.trainer);
    await trainer.step(data);
    await again.trainer.step(data);
    for (const [k, v] of trainer.params()) expect(sameBits(again.trainer.params().get(k)!.data, v.data), k).toBe(true);
    await trainer.dispose();
    await again.trainer.dispose();
  });
});
