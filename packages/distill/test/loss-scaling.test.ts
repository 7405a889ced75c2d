// Dynamic loss scaling with GradScaler's semantics, on a float16 model trained through float32 master weights.
import { describe, expect, it } from 'vitest';
import { Graph, MatMul, Mul } from '@sdxs/graph';
import { castTensor } from '@sdxs/tensor';
import { LossScaler, makeTrainable, mseLoss, sgd, Trainer } from '../src/index.js';
import { normal, sameBits, runtime } from './_helpers.js';

describe('LossScaler (torch.cuda.amp.GradScaler update rule)', () => {
  it('backs off on inf/NaN, grows after growthInterval clean steps, never to infinity', () => {
    const s = new LossScaler({ initScale: 8, growthInterval: 3 });
    expect(s.invScale).toBe(0.125);
    s.update(false);
    s.update(false);
    expect([s.scale, s.growthTracker]).toEqual([8, 2]);
    s.update(false);
    expect([s.scale, s.growthTracker]).toEqual([16, 0]);
    s.update(false);
    s.update(true);
    expect([s.scale, s.growthTracker]).toEqual([8, 0]);
    const big = new LossScaler({ initScale: 2 ** 127, growthInterval: 1 });
    big.update(false);
    expect(big.scale).toBe(2 ** 127);
    expect(() => new LossScaler({ backoffFactor: 1 })).toThrow(/backoffFactor/);
  });
});

describe('float16 training with dynamic loss scaling', () => {
  it('skips overflowing steps without touching the weights, and halves / doubles the scale', async () => {
    const g = new Graph();
    const x = g.input('x', 'float16', [8, 4]);
    const t = g.input('t', 'float16', [8, 2]);
    const w = g.parameter('w', 'float16', [4, 2]);
    g.bind('w', castTensor(normal([4, 2], 1), 'float16'));
    // Targets far from the output: gradients of order 10, which overflow float16 (max 65504) once scaled by 2¹⁶..2¹³.
    const loss = mseLoss(MatMul(x, w), Mul(t, 20));
    const trainable = makeTrainable(g, ['w']);
    expect(trainable[0]!.input.dtype).toBe('float32');
    expect(trainable[0]!.modelDType).toBe('float16');
    const trainer = await Trainer.create({ runtime, graph: g, loss, trainable, optimizer: sgd({ lr: 1e-3 }), lossScaling: { initScale: 2 ** 16, growthInterval: 2 } });
    const batch = { x: castTensor(normal([8, 4], 2), 'float16'), t: castTensor(normal([8, 2], 3), 'float16') };
    let skips = 0;
    let clean = 0;
    let scale = 2 ** 16;
    let tracker = 0;
    for (let i = 0; i < 10; i++) {
      const before = trainer.params().get('w')!.data.slice();
      const r = await trainer.step(batch);
      expect(r.lossScale).toBe(scale);
      const after = trainer.params().get('w')!.data;
      if (r.skipped) {
        skips++;
        expect(Number.isFinite(r.gradNorm)).toBe(false);
        expect(sameBits(after, before)).toBe(true);
        scale /= 2;
        tracker = 0;
      } else {
        clean++;
        expect(Number.isFinite(r.gradNorm)).toBe(true);
        expect(sameBits(after, before)).toBe(false);
        if (++tracker === 2) [scale, tracker] = [scale * 2, 0];
      }
      expect(trainer.lossScale).toBe(scale);
      expect(r.step).toBe(i + 1);
    }
    expect(skips).toBeGreaterThanOrEqual(2);
    expect(clean).toBeGreaterThanOrEqual(4);
    await trainer.dispose();
  });

  it('unscales: the same step as float32 without scaling, once the scale fits', async () => {
    const build = (dtype: 'float16' | 'float32') => {
      const g = new Graph();
      const x = g.input('x', dtype, [8, 4]);
      const t = g.input('t', dtype, [8, 2]);
      g.parameter('w', dtype, [4, 2]);
      const w0 = normal([4, 2], 1);
      // Both start from the same float16-representable weights.
      const w16 = castTensor(w0, 'float16');
      g.bind('w', dtype === 'float16' ? w16 : castTensor(w16, 'float32'));
      return { g, loss: mseLoss(MatMul(x, g.value('w')), t) };
    };
    const xs = castTensor(normal([8, 4], 2), 'float16');
    const ts = castTensor(normal([8, 2], 3), 'float16');
    const h = build('float16');
    const half = await Trainer.create({ runtime, graph: h.g, loss: h.loss, trainable: makeTrainable(h.g, ['w']), optimizer: sgd({ lr: 0.1 }), lossScaling: { initScale: 1024 } });
    const f = build('float32');
    const full = await Trainer.create({ runtime, graph: f.g, loss: f.loss, trainable: makeTrainable(f.g, ['w']), optimizer: sgd({ lr: 0.1 }) });
    const rh = await half.step({ x: xs, t: ts });
    const rf = await full.step({ x: castTensor(xs, 'float32'), t: castTensor(ts, 'float32') });
    expect(rh.skipped).toBe(false);
    // float16 activations: agreement to float16 precision, not float32.
    expect(Math.abs(rh.gradNorm - rf.gradNorm) / rf.gradNorm).toBeLessThan(4e-3);
    const a = half.params().get('w')!.data;
    const b = full.params().get('w')!.data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(4e-3);
    await half.dispose();
    await full.dispose();
  });
});
