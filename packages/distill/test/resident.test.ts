// One session for the whole run, no graph rebuild per step, parameters and state updated in place (host update).
import { describe, expect, it } from 'vitest';
import { Graph, MatMul } from '@sdxs/graph';
import type { Runtime } from '@sdxs/tensor';
import { adamw, makeTrainable, mseLoss, Trainer } from '../src/index.js';
import { normal, runtime } from './_helpers.js';

describe('resident training state', () => {
  it('creates one session and reuses the same parameter and state arrays across steps', async () => {
    let sessions = 0;
    const counting: Runtime = { name: runtime.name, createSession: (m, o) => (sessions++, runtime.createSession(m, o)) };
    const g = new Graph();
    const x = g.input('x', 'float32', [4, 3]);
    g.parameter('w', 'float32', [3, 2]);
    g.bind('w', normal([3, 2], 1));
    const loss = mseLoss(MatMul(x, g.value('w')), g.input('t', 'float32', [4, 2]));
    const trainer = await Trainer.create({ runtime: counting, graph: g, loss, trainable: makeTrainable(g, ['w']), optimizer: adamw({ lr: 0.1 }) });
    const w = trainer.params().get('w')!.data;
    const before = w.slice();
    for (let i = 0; i < 3; i++) await trainer.step({ x: normal([4, 3], 2 + i), t: normal([4, 2], 9 + i) });
    expect(sessions).toBe(1);
    expect(trainer.params().get('w')!.data).toBe(w);
    expect(Array.from(w)).not.toEqual(Array.from(before));
    expect(trainer.state().slots.get('exp_avg.w')!.data.some((v) => v !== 0)).toBe(true);
    await trainer.dispose();
  });
});
