import { describe, expect, it } from 'vitest';
import { Conv, Graph, type ConvAttrs } from '@sdxs/graph';
import { shapeSize, type Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { F16_ATOL, F16_RTOL, roundedF16, toF16, widen } from './f16.js';
import { unravel } from './ref.js';

/** Direct N-D convolution by the definition (cross-correlation, zero padding, groups). */
function convRef(x: Tensor<'float32'>, w: Tensor<'float32'>, b: Tensor<'float32'> | undefined, attrs: Required<ConvAttrs>): { data: number[]; shape: number[] } {
  const nd = x.rank - 2;
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const m = w.shape[0]!;
  const cg = c / attrs.group;
  const mg = m / attrs.group;
  const inSp = x.shape.slice(2);
  const kSp = w.shape.slice(2);
  const outSp = inSp.map((d, i) => Math.floor((d + attrs.pads[i]! + attrs.pads[i + nd]! - attrs.dilations[i]! * (kSp[i]! - 1) - 1) / attrs.strides[i]!) + 1);
  const shape = [n, m, ...outSp];
  const data = new Array<number>(shapeSize(shape)).fill(0);
  const kCount = shapeSize(kSp);
  for (let o = 0; o < data.length; o++) {
    const [bn = 0, om = 0, ...pos] = unravel(o, shape);
    const grp = Math.floor(om / mg);
    let s = b ? b.data[om]! : 0;
    for (let ci = 0; ci < cg; ci++)
      for (let kk = 0; kk < kCount; kk++) {
        const kpos = unravel(kk, kSp);
        let xi = bn * c + grp * cg + ci;
        let inside = true;
        for (let d = 0; d < nd; d++) {
          const p = pos[d]! * attrs.strides[d]! - attrs.pads[d]! + kpos[d]! * attrs.dilations[d]!;
          if (p < 0 || p >= inSp[d]!) inside = false;
          xi = xi * inSp[d]! + p;
        }
        if (inside) s += x.data[xi]! * w.data[(om * cg + ci) * kCount + kk]!;
      }
    data[o] = s;
  }
  return { data, shape };
}

// [x shape, w shape, with bias, attrs]
const cases: [number[], number[], boolean, Required<ConvAttrs>][] = [
  [[2, 4, 7, 6], [6, 2, 3, 3], true, { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], group: 2 }],
  [[1, 4, 5, 5], [4, 1, 3, 3], false, { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 4 }],
  [[1, 3, 8, 9], [5, 3, 1, 1], true, { strides: [2, 3], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }],
  [[2, 3, 9], [2, 3, 3], true, { strides: [2], pads: [2, 1], dilations: [2], group: 1 }],
];

describe('Conv', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: strides, asymmetric pads, dilations, groups, 1-D and 2-D`, async () => {
      for (const [ci, [xs, ws, withBias, attrs]] of cases.entries()) {
        const g = new Graph();
        const x = g.input('x', dtype, xs);
        const w = g.input('w', dtype, ws);
        const bias = withBias ? g.input('b', dtype, [ws[0]!]) : undefined;
        const y = Conv(x, w, bias, attrs);
        g.output(y, 'y');
        let xv = randomTensor(xs, 600 + ci);
        let wv = randomTensor(ws, 700 + ci);
        let bv = withBias ? randomTensor([ws[0]!], 800 + ci) : undefined;
        if (dtype === 'float16') [xv, wv, bv] = [roundedF16(xv), roundedF16(wv), bv && roundedF16(bv)];
        const ref = convRef(xv, wv, bv, attrs);
        expect(y.shape).toEqual(ref.shape);
        const feeds: Record<string, Tensor> = dtype === 'float16' ? { x: toF16(xv), w: toF16(wv) } : { x: xv, w: wv };
        if (bv) feeds['b'] = dtype === 'float16' ? toF16(bv) : bv;
        const out = await runGraph(g, feeds);
        // K = C/group · kernel products of magnitude ≤ 1 plus a bias: f32 summation error ≤ (K+1)²·2^-24.
        const k = ws.slice(1).reduce((p, d) => p * d, 1) + 1;
        if (dtype === 'float32') expectClose(out['y'], ref.data, ref.shape, k * k * 2 ** -24, 0);
        else expectClose(widen(out['y']), ref.data, ref.shape, F16_ATOL, F16_RTOL);
      }
    });
  }

  it('infers symbolic spatial dims and names the op and shapes on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 4, 'h', 'w']);
    const w = g.input('w', 'float32', [6, 2, 3, 3]);
    const y = Conv(x, w, undefined, { group: 2, pads: [1, 1, 1, 1] });
    expect(y.shape[0]).toBe('batch');
    expect(y.shape[1]).toBe(6);
    expect(typeof y.shape[2]).toBe('string');
    expect(() => Conv(x, w)).toThrow(/Conv: input channels 4 ≠ weight channels 2 × group 1.*\[batch, 4, h, w\], \[6, 2, 3, 3\]/);
    const small = g.input('s', 'float32', [1, 2, 2, 2]);
    expect(() => Conv(small, w, undefined, { group: 1 })).toThrow(/Conv: kernel \[3, 3\] does not fit input \[1, 2, 2, 2\]/);
  });
});
