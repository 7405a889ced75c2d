// LoRA adapters as the only trainable parameters over frozen attention weights, and a frozen teacher sharing the
// student's graph.
import { describe, expect, it } from 'vitest';
import { Graph, linear, Params, Relu, stopGradient, toOnnx, type Value } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { attentionLayer } from '@sdxs/unet';
import { addLoRA, adamw, makeTrainable, mergeLoRA, mseLoss, Trainer } from '../src/index.js';
import { normal, relError, runtime } from './_helpers.js';

const LOWERING = { attention: 'decomposed', groupNorm: 'instance-norm' } as const;
const DIM = 8;
const WEIGHTS: Record<string, number[]> = {
  'attn1.to_q.weight': [DIM, DIM],
  'attn1.to_k.weight': [DIM, DIM],
  'attn1.to_v.weight': [DIM, DIM],
  'attn1.to_out.0.weight': [DIM, DIM],
  'attn1.to_out.0.bias': [DIM],
  'proj.weight': [DIM, DIM],
  'proj.bias': [DIM],
};
const frozen = new Map<string, Tensor>(Object.entries(WEIGHTS).map(([k, s], i) => [k, normal(s, 10 + i, 1 / Math.sqrt(DIM))]));

/** Self-attention over 6 tokens, then a linear layer that is not an attention projection. */
function build(weights: ReadonlyMap<string, Tensor>): { g: Graph; x: Value; y: Value } {
  const g = new Graph({ lowering: LOWERING });
  const x = g.input('x', 'float32', [2, 6, DIM]);
  const root = new Params(g);
  const h = attentionLayer(root.child('attn1'), x, undefined, { queryDim: DIM, heads: 2, dimHead: DIM / 2 });
  const y = linear(root.child('proj'), h, DIM, DIM);
  for (const [k, v] of weights) g.bind(k, v);
  return { g, x, y };
}

async function forward(g: Graph, feeds: Record<string, Tensor>, output: Value): Promise<Tensor> {
  g.output(output, 'y');
  const s = await runtime.createSession(toOnnx(g));
  try {
    return (await s.run(feeds, ['y']))['y']!;
  } finally {
    await s.dispose();
  }
}

describe('LoRA', () => {
  it('adapts only the attention projections, starts as the original model, trains, and merges back exactly', async () => {
    const x = normal([2, 6, DIM], 1);
    const target = normal([2, 6, DIM], 2);
    const plain = build(frozen);
    const original = await forward(plain.g, { x }, plain.y);

    const m = build(frozen);
    const lora = addLoRA(m.g, { rank: 2, alpha: 4 });
    expect(lora.modules.sort()).toEqual(['attn1.to_k', 'attn1.to_out.0', 'attn1.to_q', 'attn1.to_v']);
    expect(lora.scale).toBe(2);
    expect(lora.params.map((p) => p.name)).toContain('attn1.to_q.lora_B.weight');
    // The frozen weights stay initializers.
    for (const k of Object.keys(WEIGHTS)) expect(m.g.initializers.has(k)).toBe(true);
    const t = build(frozen);
    const adapters = addLoRA(t.g, { rank: 2, alpha: 4 });
    const loss = mseLoss(t.y, t.g.input('target', 'float32', [2, 6, DIM]));
    const trainer = await Trainer.create({ runtime, graph: t.g, loss, trainable: adapters.params, optimizer: adamw({ lr: 0.02, weightDecay: 0 }) });
    const first = await trainer.step({ x, target });
    let last = first;
    for (let i = 0; i < 30; i++) last = await trainer.step({ x, target });
    expect(last.loss).toBeLessThan(first.loss * 0.7);
    expect([...trainer.params().keys()].every((k) => /\.lora_[AB]\.weight$/.test(k))).toBe(true);

    // B = 0 at the start: the adapted model is the original one.
    const feeds0: Record<string, Tensor> = { x };
    for (const p of lora.params) feeds0[p.name] = p.init;
    expect(relError((await forward(m.g, feeds0, m.y)), original)).toBeLessThan(1e-7);

    // The trained adapters merged into plain weights reproduce the adapted model.
    const e = build(frozen);
    addLoRA(e.g, { rank: 2, alpha: 4 });
    const adapted = await forward(e.g, { x, ...Object.fromEntries(trainer.params()) }, e.y);
    const merged = mergeLoRA(frozen, trainer.params(), adapters);
    const p2 = build(merged);
    const out = await forward(p2.g, { x }, p2.y);
    expect(relError(out, adapted)).toBeLessThan(1e-5);
    expect(relError(out, original)).toBeGreaterThan(1e-2);
    await trainer.dispose();
  });

  it('refuses a rank of 0 and a graph without targets', () => {
    expect(() => addLoRA(build(frozen).g, { rank: 0 })).toThrow(/rank/);
    expect(() => addLoRA(build(frozen).g, { rank: 1, targets: /nothing/ })).toThrow(/no float32 linear weight/);
  });
});

describe('a frozen teacher in the student graph', () => {
  it('stays an initializer, gets no gradient, and the student learns to match it', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [16, 4]);
    const net = (p: Params) => linear(p.child('fc2'), Relu(linear(p.child('fc1'), x, 4, 8)), 8, 3);
    const teacher = net(new Params(g, 'teacher'));
    const student = net(new Params(g, 'student'));
    const shapes: Record<string, number[]> = { 'fc1.weight': [8, 4], 'fc1.bias': [8], 'fc2.weight': [3, 8], 'fc2.bias': [3] };
    let seed = 0;
    for (const who of ['teacher', 'student']) for (const [k, s] of Object.entries(shapes)) g.bind(`${who}.${k}`, normal(s, ++seed, 0.5));
    const trainable = makeTrainable(g, /^student\./);
    expect(trainable.map((p) => p.name).sort()).toEqual(Object.keys(shapes).map((k) => `student.${k}`).sort());
    for (const k of Object.keys(shapes)) expect(g.initializers.has(`teacher.${k}`)).toBe(true);
    const trainer = await Trainer.create({ runtime, graph: g, loss: mseLoss(student, stopGradient(teacher)), trainable, optimizer: adamw({ lr: 0.03, weightDecay: 0 }) });
    // The session's inputs: the data and the student's weights, nothing of the teacher; and the backward pass
    // never reads the teacher (stopGradient cuts it off).
    expect(g.inputs.map((v) => v.name).filter((n) => n.startsWith('teacher'))).toEqual([]);
    expect(g.nodes.filter((n) => n.name.startsWith('grad.') && n.inputs.some((i) => i.startsWith('teacher.')))).toEqual([]);
    const batch = () => ({ x: normal([16, 4], ++seed) });
    const first = await trainer.step(batch());
    let last = first;
    for (let i = 0; i < 60; i++) last = await trainer.step(batch());
    expect(last.loss).toBeLessThan(first.loss / 5);
    await trainer.dispose();
  });
});
