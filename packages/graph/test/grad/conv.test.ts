import { describe, expect, it } from 'vitest';
import { Conv, Graph, grad, type ConvAttrs } from '@sdxs/graph';
import { ConvTranspose, type ConvTransposeAttrs } from '../../src/ops/conv-transpose.js';
import { checkGrad } from './_check.js';

// [x, w, bias, attrs]: odd sizes, stride 2 with a remainder (so the input gradient needs output padding),
// asymmetric pads, dilation, groups, depthwise, 1×1, 1-D.
const cases: [number[], number[], boolean, ConvAttrs][] = [
  [[2, 3, 5, 6], [4, 3, 3, 3], true, { pads: [1, 1, 1, 1] }],
  [[1, 2, 7, 8], [3, 2, 3, 3], true, { strides: [2, 2], pads: [1, 0, 1, 1] }],
  [[2, 4, 7, 6], [6, 2, 3, 3], true, { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], group: 2 }],
  [[1, 4, 5, 5], [4, 1, 3, 3], false, { pads: [1, 1, 1, 1], group: 4 }],
  [[2, 3, 4, 5], [5, 3, 1, 1], true, {}],
  [[2, 3, 9], [2, 3, 3], true, { strides: [2], pads: [2, 1], dilations: [2] }],
  [[1, 2, 8, 8], [2, 2, 4, 4], false, { strides: [3, 2], pads: [0, 1, 2, 1] }],
];

describe('grad: Conv', () => {
  for (const [i, [x, w, bias, attrs]] of cases.entries()) {
    it(`x [${x}], w [${w}], ${JSON.stringify(attrs)}`, async () => {
      await checkGrad({
        inputs: { x: { shape: x }, w: { shape: w }, ...(bias ? { b: { shape: [w[0]!] } } : {}) },
        build: (v) => Conv(v['x']!, v['w']!, v['b'], attrs),
        seed: i,
      });
    });
  }

  it('with a symbolic batch (the im2col weight gradient copies it through its reshapes)', async () => {
    await checkGrad({
      inputs: { x: { shape: [3, 4, 6, 5], declared: ['batch', 4, 6, 5] }, w: { shape: [6, 2, 3, 3] }, b: { shape: [6] } },
      build: (v) => Conv(v['x']!, v['w']!, v['b'], { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 }),
      outShape: [3, 6, 3, 3],
    });
  });

  it('refuses a weight gradient over symbolic spatial sizes, and a strided input gradient over them', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 2, 'h', 'w']);
    const w = g.parameter('w', 'float32', [3, 2, 3, 3]);
    expect(() => grad(Conv(x, w, undefined, { pads: [1, 1, 1, 1] }), [w])).toThrow(/weight gradient needs static spatial sizes/);
    expect(() => grad(Conv(x, w, undefined, { strides: [2, 2] }), [x])).toThrow(/strided convolution needs static spatial sizes/);
    // Stride 1 needs no output padding, so the input gradient works at any size.
    expect(grad(Conv(x, w, undefined, { pads: [1, 1, 1, 1] }), [x])[0]!.shape).toEqual([1, 2, 'h', 'w']);
  });

  it('builds no weight-gradient nodes when only the input gradient is asked for (a frozen network)', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1, 2, 6, 6]);
    const w = g.parameter('w', 'float32', [3, 2, 3, 3]);
    const y = Conv(x, w, undefined, { pads: [1, 1, 1, 1] });
    const before = g.nodes.length;
    grad(y, [x]);
    const added = g.nodes.slice(before).map((n) => n.opType);
    expect(added).toContain('ConvTranspose');
    expect(added).not.toContain('MatMul');
  });
});

describe('grad: ConvTranspose', () => {
  const tcases: [number[], number[], ConvTransposeAttrs][] = [
    [[2, 3, 4, 5], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 0] }],
    [[1, 4, 3, 3], [4, 1, 3, 3], { strides: [2, 2], group: 2, dilations: [2, 1], pads: [1, 0, 0, 1] }],
  ];
  for (const [i, [x, w, attrs]] of tcases.entries()) {
    it(`x [${x}], w [${w}], ${JSON.stringify(attrs)}`, async () => {
      await checkGrad({
        inputs: { x: { shape: x }, w: { shape: w }, b: { shape: [w[1]! * (attrs.group ?? 1)] } },
        build: (v) => ConvTranspose(v['x']!, v['w']!, v['b'], attrs),
        seed: i,
      });
    });
  }
});
