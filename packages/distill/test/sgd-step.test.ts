// Evidence that the step is the right update: one SGD step on a 2-layer MLP against the update computed by hand
// (forward and backward written out in float64).
import { describe, expect, it } from 'vitest';
import { Add, Graph, MatMul, Params, Relu, Transpose } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { makeTrainable, mseLoss, sgd, Trainer, type UpdateMode } from '../src/index.js';
import { normal, relError, runtime } from './_helpers.js';

const [N, I, H, O] = [5, 3, 4, 2];

/** y = W2·relu(W1·x + b1) + b2 with torch.nn.Linear's [out, in] weights. */
function buildMlp() {
  const g = new Graph();
  const x = g.input('x', 'float32', [N, I]);
  const t = g.input('target', 'float32', [N, O]);
  const p = new Params(g);
  const lin = (name: string, v: ReturnType<Graph['input']>, out: number, inF: number) =>
    Add(MatMul(v, Transpose(p.child(name).param('weight', [out, inF]), [1, 0])), p.child(name).param('bias', [out]));
  const y = lin('fc2', Relu(lin('fc1', x, H, I)), O, H);
  return { g, loss: mseLoss(y, t) };
}

/** The same step by hand: forward, backward of mean((y − t)²), p − lr·(g + λp). */
function handStep(w: Record<string, Tensor>, x: Tensor, t: Tensor, lr: number, wd: number): Record<string, number[]> {
  const W1 = w['fc1.weight']!.data;
  const b1 = w['fc1.bias']!.data;
  const W2 = w['fc2.weight']!.data;
  const b2 = w['fc2.bias']!.data;
  const gW1 = new Array(H * I).fill(0);
  const gb1 = new Array(H).fill(0);
  const gW2 = new Array(O * H).fill(0);
  const gb2 = new Array(O).fill(0);
  for (let n = 0; n < N; n++) {
    const pre = Array.from({ length: H }, (_, h) => Number(b1[h]) + Array.from({ length: I }, (_, i) => Number(W1[h * I + i]) * Number(x.data[n * I + i])).reduce((a, b) => a + b));
    const hid = pre.map((v) => Math.max(v, 0));
    for (let o = 0; o < O; o++) {
      const y = Number(b2[o]) + hid.reduce((a, v, h) => a + Number(W2[o * H + h]) * v, 0);
      const dy = (2 * (y - Number(t.data[n * O + o]))) / (N * O);
      gb2[o] += dy;
      for (let h = 0; h < H; h++) {
        gW2[o * H + h] += dy * hid[h]!;
        if (pre[h]! > 0) {
          const dh = dy * Number(W2[o * H + h]);
          gb1[h] += dh;
          for (let i = 0; i < I; i++) gW1[h * I + i] += dh * Number(x.data[n * I + i]);
        }
      }
    }
  }
  const grads: Record<string, number[]> = { 'fc1.weight': gW1, 'fc1.bias': gb1, 'fc2.weight': gW2, 'fc2.bias': gb2 };
  return Object.fromEntries(Object.entries(grads).map(([k, gr]) => [k, gr.map((v, j) => Number(w[k]!.data[j]) - lr * (v + wd * Number(w[k]!.data[j])))]));
}

describe('one SGD step on a 2-layer model', () => {
  for (const update of ['host', 'graph'] as UpdateMode[]) {
    it(`equals the hand-computed update (${update} update)`, async () => {
      const { g, loss } = buildMlp();
      const init: Record<string, Tensor> = {
        'fc1.weight': normal([H, I], 1, 0.5),
        'fc1.bias': normal([H], 2, 0.1),
        'fc2.weight': normal([O, H], 3, 0.5),
        'fc2.bias': normal([O], 4, 0.1),
      };
      for (const [k, v] of Object.entries(init)) g.bind(k, v);
      const x = normal([N, I], 5);
      const target = normal([N, O], 6);
      const [lr, wd] = [0.1, 0.01];
      const trainer = await Trainer.create({ runtime, graph: g, loss, trainable: makeTrainable(g, () => true), optimizer: sgd({ lr, weightDecay: wd }), update });
      const r = await trainer.step({ x, target });
      expect(r.skipped).toBe(false);
      expect(r.step).toBe(1);
      const expected = handStep(init, x, target, lr, wd);
      for (const [k, v] of Object.entries(expected)) {
        const got = trainer.params().get(k)!.data;
        // float32 arithmetic against a float64 reference: a few ulps of the parameters' scale.
        expect(relError(got, v), k).toBeLessThan(1e-6);
        // The step moved every parameter (the update is not vacuous).
        expect(relError(got, Array.from(init[k]!.data, Number)), k).toBeGreaterThan(1e-4);
      }
      await trainer.dispose();
    });
  }
});
