// The act_fn activations against their torch definitions, computed here in double precision.
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, activate, type Activation } from '@sdxs/decoder';
import { Graph, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';

/** erf by its Taylor series (ample for |x| ≤ 5 in double precision); ±1 beyond 6, where 1 − erf < 1e−17. */
function erf(x: number): number {
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const REFERENCE: Record<Activation, (x: number) => number> = {
  relu: (x) => Math.max(0, x),
  silu: (x) => x / (1 + Math.exp(-x)),
  swish: (x) => x / (1 + Math.exp(-x)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  mish: (x) => x * Math.tanh(Math.log1p(Math.exp(x))),
};

describe('activate', () => {
  const xs = [-100, -20, -4, -1.5, -0.3, 0, 0.25, 1, 2.5, 4, 30, 100];

  it.each(ACTIVATIONS.map((a) => [a]))('%s matches torch’s definition', async (name) => {
    const g = new Graph();
    g.output(activate(g.input('x', 'float32', [xs.length]), name), 'y');
    const session = await createNodeRuntime().createSession(toOnnx(g));
    try {
      const { y } = await session.run({ x: new Tensor('float32', [xs.length], Float32Array.from(xs)) });
      const got = y!.toArray();
      xs.forEach((x, i) => {
        const want = REFERENCE[name](x);
        // A few float32 ulps of the result (or of 1 near zero).
        expect(Math.abs(got[i]! - want), `${name}(${x}) = ${got[i]}, expected ${want}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
      });
    } finally {
      await session.dispose();
    }
  });
});
