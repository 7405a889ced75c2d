// Evidence that training works beyond one step: a small tiny-decoder-shaped conv net (8 channels, TAESD's layout,
// 4×4 latents → 32×32 images) distilled from a wider random teacher on latents drawn in the test.
import { describe, expect, it } from 'vitest';
import { Generator } from '@sdxs/tensor';
import { adamw, makeTrainable, Trainer } from '../src/index.js';
import { distillGraph } from './_decoder.js';
import { runtime } from './_helpers.js';

const STEPS = 100;
// Stated target: the mean loss of the last 10 steps is at most 1/2.5 of the mean of the first 5 (measured ≈ 3×).
const FACTOR = 2.5;

describe('a small conv net learns', () => {
  it(`brings the L1 (8× pooled) loss down ${FACTOR}× within ${STEPS} AdamW steps`, async () => {
    const d = await distillGraph(4, 4, 7);
    const trainer = await Trainer.create({ runtime, graph: d.graph, loss: d.loss, trainable: makeTrainable(d.graph, /^decoder\./), optimizer: adamw({ lr: 3e-3, weightDecay: 0 }) });
    const gen = new Generator(3);
    const losses: number[] = [];
    for (let i = 0; i < STEPS; i++) losses.push((await trainer.step({ latents: gen.randn([4, 4, 4, 4]) })).loss);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-10));
    expect(last * FACTOR).toBeLessThan(first);
    await trainer.dispose();
  });
});
