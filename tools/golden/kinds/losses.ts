import { l1DownsampledLoss, mseLoss, ssim } from '@sdxs/distill';
import { Graph, grad, Reshape, toOnnx, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { readCaseInputs } from '../component.js';
import type { GoldenCase, KindResult } from '../types.js';

/** The case's losses by output name, as @sdxs/distill builds them (definitions in the case's case.json). */
const LOSSES: Readonly<Record<string, (x: Value, y: Value) => Value>> = {
  mse: mseLoss,
  l1_down8: (x, y) => l1DownsampledLoss(x, y, 8),
  ssim: (x, y) => ssim(x, y, { windowSize: 11, sigma: 1.5, dataRange: 2 }),
};

/** `losses`: each loss of (x, y) and its gradient with respect to x (`grad_x.<loss>`), in one session. */
export async function runLosses(c: GoldenCase): Promise<KindResult> {
  const inputs = await readCaseInputs(c);
  const x = inputs.get('x');
  const y = inputs.get('y');
  if (!x || !y) throw new Error(`${c.name}/inputs.safetensors: needs x and y`);
  const g = new Graph({ name: c.name });
  const xv = g.input('x', 'float32', [...x.shape]);
  const yv = g.input('y', 'float32', [...y.shape]);
  for (const [name, loss] of Object.entries(LOSSES)) {
    const l = loss(xv, yv);
    const [dx] = grad(l, [xv]);
    // torch returns 0-d losses; the case stores them as [1].
    g.output(Reshape(l, [1]), name);
    g.output(dx!, `grad_x.${name}`);
  }
  const session = await createNodeRuntime().createSession(toOnnx(g), { label: c.name });
  try {
    const out = await session.run({ x, y });
    return { outputs: new Map<string, Tensor>(Object.entries(out)), tolerance: { relative: 1e-4 } };
  } finally {
    await session.dispose();
  }
}
