// AdamW and SGD against float64 re-implementations of torch.optim's update rules, over several steps, with the
// update in the graph and on the host; gradient clipping against clip_grad_norm_'s formula.
import { describe, expect, it } from 'vitest';
import { Add, Graph, Mul, ReduceSum, type Value } from '@sdxs/graph';
import { adamw, makeTrainable, sgd, Trainer, type Optimizer, type UpdateMode } from '../src/index.js';
import { normal, relError, runtime } from './_helpers.js';

// loss = Σ c·p + ½ Σ p², so the gradient is c + p: the optimizer is the only thing under test.
const SHAPES: Record<string, number[]> = { a: [3, 4], b: [7] };

function quadratic(): { g: Graph; loss: Value } {
  const g = new Graph();
  let loss: Value | undefined;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const p = g.parameter(name, 'float32', shape);
    g.bind(name, normal(shape, name.charCodeAt(0)));
    const c = g.input(`c.${name}`, 'float32', shape);
    const term = Add(ReduceSum(Mul(p, c), undefined, false), Mul(ReduceSum(Mul(p, p), undefined, false), 0.5));
    loss = loss ? Add(loss, term) : term;
  }
  return { g, loss: loss! };
}

type Ref = (p: number[], g: number[], state: Record<string, number[]>, step: number) => void;

function adamwRef(lr: number, b1: number, b2: number, eps: number, wd: number): Ref {
  return (p, g, s, t) => {
    const m = (s['m'] ??= p.map(() => 0));
    const v = (s['v'] ??= p.map(() => 0));
    for (let j = 0; j < p.length; j++) {
      p[j] = p[j]! * (1 - lr * wd);
      m[j] = b1 * m[j]! + (1 - b1) * g[j]!;
      v[j] = b2 * v[j]! + (1 - b2) * g[j]! * g[j]!;
      const denom = Math.sqrt(v[j]!) / Math.sqrt(1 - b2 ** t) + eps;
      p[j] = p[j]! - (lr / (1 - b1 ** t)) * (m[j]! / denom);
    }
  };
}

function sgdRef(lr: number, mu: number, damp: number, wd: number, nesterov: boolean): Ref {
  return (p, g, s, t) => {
    for (let j = 0; j < p.length; j++) {
      let d = g[j]! + wd * p[j]!;
      if (mu !== 0) {
        const buf = (s['buf'] ??= p.map(() => 0));
        buf[j] = t === 1 ? d : mu * buf[j]! + (1 - damp) * d;
        d = nesterov ? d + mu * buf[j]! : buf[j]!;
      }
      p[j] = p[j]! - lr * d;
    }
  };
}

async function compare(optimizer: Optimizer, ref: Ref, update: UpdateMode, clip?: number, steps = 4): Promise<void> {
  const { g, loss } = quadratic();
  const trainable = makeTrainable(g, () => true);
  const params: Record<string, number[]> = Object.fromEntries(trainable.map((t) => [t.name, Array.from(t.init.data)]));
  const state: Record<string, Record<string, number[]>> = Object.fromEntries(trainable.map((t) => [t.name, {}]));
  const trainer = await Trainer.create({ runtime, graph: g, loss, trainable, optimizer, update, ...(clip ? { clipGradNorm: clip } : {}) });
  for (let t = 1; t <= steps; t++) {
    const c = Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, normal(s, 100 * t + n.charCodeAt(0))]));
    const r = await trainer.step(Object.fromEntries(Object.entries(c).map(([n, v]) => [`c.${n}`, v])));
    const grads = Object.fromEntries(Object.entries(params).map(([n, p]) => [n, p.map((v, j) => v + Number(c[n]!.data[j]))]));
    const norm = Math.sqrt(Object.values(grads).flat().reduce((a, v) => a + v * v, 0));
    expect(Math.abs(r.gradNorm - norm) / norm).toBeLessThan(1e-5);
    const coef = clip ? Math.min(clip / (norm + 1e-6), 1) : 1;
    if (clip) expect(coef).toBeLessThan(1); // the test exercises clipping
    for (const [n, p] of Object.entries(params)) ref(p, grads[n]!.map((v) => v * coef), state[n]!, t);
  }
  for (const [n, p] of Object.entries(params)) expect(relError(trainer.params().get(n)!.data, p), n).toBeLessThan(2e-6);
  await trainer.dispose();
}

describe('optimizers match torch.optim semantics', () => {
  for (const update of ['host', 'graph'] as UpdateMode[]) {
    it(`AdamW (bias correction, decoupled weight decay), ${update} update`, async () => {
      await compare(adamw({ lr: 0.05, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 }), adamwRef(0.05, 0.9, 0.99, 1e-8, 0.1), update);
    });
    it(`AdamW with β1 ≥ ½ (torch.lerp's other branch) and a learning-rate schedule, ${update} update`, async () => {
      const lr = (t: number) => 0.01 * t;
      const opt = adamw({ lr, betas: [0.3, 0.9], weightDecay: 0 });
      const ref: Ref = (p, g, s, t) => adamwRef(lr(t), 0.3, 0.9, 1e-8, 0)(p, g, s, t);
      await compare(opt, ref, update);
    });
    it(`SGD with momentum and dampening, ${update} update`, async () => {
      await compare(sgd({ lr: 0.1, momentum: 0.9, dampening: 0.2, weightDecay: 0.01 }), sgdRef(0.1, 0.9, 0.2, 0.01, false), update);
    });
    it(`SGD with Nesterov momentum, ${update} update`, async () => {
      await compare(sgd({ lr: 0.1, momentum: 0.8, nesterov: true }), sgdRef(0.1, 0.8, 0, 0, true), update);
    });
    it(`gradient clipping by global norm (clip_grad_norm_), ${update} update`, async () => {
      await compare(sgd({ lr: 0.1 }), sgdRef(0.1, 0, 0, 0, false), update, 0.5);
    });
  }

  it('refuses bad hyperparameters', () => {
    expect(() => adamw({ lr: 1, betas: [1, 0.9] })).toThrow(/beta1/);
    expect(() => sgd({ lr: 1, nesterov: true })).toThrow(/Nesterov/);
  });
});
