// Gradient accumulation (micro-batches averaged = one step on the whole batch) and the EMA of weights.
import { describe, expect, it } from 'vitest';
import { Add, Graph, MatMul, Params, Tanh, Transpose } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { adamw, Ema, makeTrainable, mseLoss, Trainer, type UpdateMode } from '../src/index.js';
import { normal, relError, runtime } from './_helpers.js';

function model(batch: number) {
  const g = new Graph();
  const x = g.input('x', 'float32', [batch, 3]);
  const t = g.input('t', 'float32', [batch, 2]);
  const p = new Params(g).child('fc');
  const y = Tanh(Add(MatMul(x, Transpose(p.param('weight', [2, 3]), [1, 0])), p.param('bias', [2])));
  g.bind('fc.weight', normal([2, 3], 1));
  g.bind('fc.bias', normal([2], 2));
  return { g, loss: mseLoss(y, t) };
}

function rows(t: Tensor<'float32'>, from: number, to: number): Tensor<'float32'> {
  const w = t.shape[1]!;
  return new Tensor('float32', [to - from, w], t.data.slice(from * w, to * w));
}

describe('gradient accumulation', () => {
  for (const update of ['host', 'graph'] as UpdateMode[]) {
    it(`two micro-batches of 3 make the step of one batch of 6 (${update} update)`, async () => {
      const x = normal([6, 3], 3);
      const t = normal([6, 2], 4);
      const whole = model(6);
      const a = await Trainer.create({ runtime, graph: whole.g, loss: whole.loss, trainable: makeTrainable(whole.g, /fc/), optimizer: adamw({ lr: 0.1 }), update });
      const halves = model(3);
      const b = await Trainer.create({ runtime, graph: halves.g, loss: halves.loss, trainable: makeTrainable(halves.g, /fc/), optimizer: adamw({ lr: 0.1 }), update, accumulationSteps: 2 });
      for (let s = 0; s < 3; s++) {
        const ra = await a.step({ x, t });
        const rb = await b.step([
          { x: rows(x, 0, 3), t: rows(t, 0, 3) },
          { x: rows(x, 3, 6), t: rows(t, 3, 6) },
        ]);
        expect(Math.abs(rb.loss - ra.loss) / ra.loss).toBeLessThan(1e-6);
        expect(Math.abs(rb.gradNorm - ra.gradNorm) / ra.gradNorm).toBeLessThan(1e-5);
      }
      for (const [k, v] of a.params()) expect(relError(b.params().get(k)!.data, v.data), k).toBeLessThan(1e-5);
      await expect(b.step({ x, t })).rejects.toThrow(/2 micro-batches|accumulationSteps is 2/);
      await a.dispose();
      await b.dispose();
    });
  }
});

describe('EMA of weights (diffusers EMAModel)', () => {
  it('follows the parameters with the warm-up decay min((1+s)/(10+s), decay)', async () => {
    const m = model(4);
    const trainer = await Trainer.create({ runtime, graph: m.g, loss: m.loss, trainable: makeTrainable(m.g, /fc/), optimizer: adamw({ lr: 0.1 }), ema: { decay: 0.5 } });
    const shadow = new Map([...trainer.params()].map(([k, v]) => [k, Array.from(v.data)]));
    for (let step = 1; step <= 4; step++) {
      await trainer.step({ x: normal([4, 3], 10 + step), t: normal([4, 2], 20 + step) });
      const s = Math.max(0, step - 1);
      const decay = s <= 0 ? 0 : Math.min((1 + s) / (10 + s), 0.5);
      for (const [k, v] of trainer.params()) shadow.set(k, shadow.get(k)!.map((e, j) => e - (1 - decay) * (e - v.data[j]!)));
    }
    for (const [k, v] of trainer.emaParams()!) {
      expect(relError(v.data, shadow.get(k)!), k).toBeLessThan(1e-6);
      // The average lags the parameters.
      expect(relError(v.data, trainer.params().get(k)!.data)).toBeGreaterThan(1e-3);
    }
    expect(new Ema(new Map(), { decay: 0.9 }).decayAt(1)).toBe(0);
    expect(new Ema(new Map(), { decay: 0.9, updateAfterStep: 2 }).decayAt(4)).toBeCloseTo(2 / 11, 12);
    await trainer.dispose();
  });
});
