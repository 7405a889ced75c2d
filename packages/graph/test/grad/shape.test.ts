import { describe, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import { Concat, Expand, Gather, Mul, Pad, Reshape, Resize, Slice, Split, Squeeze, Transpose, Unsqueeze } from '@sdxs/graph';
import { checkGrad } from './_check.js';

describe('grad: layout ops', () => {
  it('Reshape, Transpose, Unsqueeze, Squeeze', async () => {
    await checkGrad({ inputs: { x: { shape: [2, 3, 4] } }, build: (v) => Reshape(v['x']!, [4, -1]) });
    await checkGrad({ inputs: { x: { shape: [2, 3, 4] } }, build: (v) => Transpose(v['x']!, [2, 0, 1]) });
    await checkGrad({ inputs: { x: { shape: [2, 3] } }, build: (v) => Unsqueeze(v['x']!, [0, -1]) });
    await checkGrad({ inputs: { x: { shape: [2, 1, 3, 1] } }, build: (v) => Squeeze(v['x']!, [1]) });
    await checkGrad({ inputs: { x: { shape: [2, 1, 3, 1] } }, build: (v) => Squeeze(v['x']!) });
  });

  it('Concat (three parts, one of them read twice) and Split (one part unused)', async () => {
    await checkGrad({
      inputs: { a: { shape: [2, 3] }, b: { shape: [2, 1] }, c: { shape: [2, 4] } },
      build: (v) => Concat([v['a']!, v['b']!, v['c']!, v['a']!], 1),
    });
    await checkGrad({
      inputs: { x: { shape: [7, 2] } },
      build: (v) => {
        const [p, , r] = Split(v['x']!, [2, 3, 2], 0);
        return Mul(p!, r!);
      },
    });
    await checkGrad({ inputs: { x: { shape: [2, 9] } }, build: (v) => Concat(Split(v['x']!, 3, -1).reverse(), 0) });
  });

  it('Expand (both ways)', async () => {
    await checkGrad({ inputs: { x: { shape: [3, 1] } }, build: (v) => Expand(v['x']!, [2, 3, 4]) });
    await checkGrad({ inputs: { x: { shape: [1, 4] } }, build: (v) => Expand(v['x']!, [3, 1]) });
  });

  it('Slice: ranges, negative bounds, steps 2 and 3, reversal, several axes', async () => {
    const x = { x: { shape: [6, 7, 5] } };
    await checkGrad({ inputs: x, build: (v) => Slice(v['x']!, [1, -4], [5, Infinity], [0, 1]) });
    await checkGrad({ inputs: x, build: (v) => Slice(v['x']!, [1, 0], [6, 5], [1, 2], [2, 3]) });
    await checkGrad({ inputs: x, build: (v) => Slice(v['x']!, [-1, 5], [-Infinity, 0], [0, 1], [-1, -2]) });
    await checkGrad({ inputs: x, build: (v) => Slice(v['x']!, [4], [1], [-1], [-3]) });
  });

  it('Pad: zero padding on some axes, and negative pads (crop)', async () => {
    await checkGrad({ inputs: { x: { shape: [2, 3, 4] } }, build: (v) => Pad(v['x']!, [0, 1, 2, 0, 0, 1]) });
    await checkGrad({ inputs: { x: { shape: [2, 5] } }, build: (v) => Pad(v['x']!, [-1, 2], { axes: [1] }) });
    await checkGrad({ inputs: { x: { shape: [3, 5] } }, build: (v) => Pad(v['x']!, [1, -1, 0, -2], { value: 0.5 }) });
  });

  it('Gather: embedding rows with repeats and a negative index, a middle axis, a scalar index, int32 indices', async () => {
    const ids = new Tensor('int64', [2, 3], BigInt64Array.from([1n, 4n, 1n, 0n, -1n, 4n]));
    await checkGrad({ inputs: { e: { shape: [5, 3] }, i: { shape: [2, 3], data: ids } }, build: (v) => Gather(v['e']!, v['i']!) });
    await checkGrad({ inputs: { x: { shape: [2, 5, 3] }, i: { shape: [2, 3], data: ids } }, build: (v) => Gather(v['x']!, v['i']!, 1) });
    await checkGrad({ inputs: { x: { shape: [2, 5, 3] } }, build: (v) => Gather(v['x']!, -1, 1) });
    const ids32 = new Tensor('int32', [4], Int32Array.from([2, 2, 0, 1]));
    await checkGrad({ inputs: { x: { shape: [3, 4] }, i: { shape: [4], data: ids32 } }, build: (v) => Gather(v['x']!, v['i']!, 1) });
  });

  it('Resize nearest ×2 (the SD up-sampler) and ×3 by half-pixel, on NCHW and with one axis', async () => {
    await checkGrad({
      inputs: { x: { shape: [2, 3, 3, 4] } },
      build: (v) => Resize(v['x']!, { scales: [1, 1, 2, 2], coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }),
    });
    await checkGrad({ inputs: { x: { shape: [1, 2, 3, 2] } }, build: (v) => Resize(v['x']!, { scales: [1, 1, 3, 1] }) });
    await checkGrad({ inputs: { x: { shape: [2, 3, 4] } }, build: (v) => Resize(v['x']!, { sizes: [8], axes: [2], coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }) });
  });
});
