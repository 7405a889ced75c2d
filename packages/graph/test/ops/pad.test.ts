import { describe, expect, it } from 'vitest';
import { Graph, Pad, type PadAttrs } from '@sdxs/graph';
import { shapeSize, stridesOf, type Tensor } from '@sdxs/tensor';
import { expectClose, randomTensor, runGraph } from '../harness.js';
import { roundedF16, toF16, widen } from './f16.js';
import { unravel } from './ref.js';

/** numpy.pad semantics per mode, with negative pads cropping; `begin`/`end` are per axis of x. */
function padRef(x: Tensor<'float32'>, begin: number[], end: number[], mode: string, value: number): { data: number[]; shape: number[] } {
  const shape = x.shape.map((d, a) => d + begin[a]! + end[a]!);
  const st = stridesOf(x.shape);
  const data = Array.from({ length: shapeSize(shape) }, (_, o) => {
    let flat = 0;
    for (const [a, oi] of unravel(o, shape).entries()) {
      const d = x.shape[a]!;
      let i = oi - begin[a]!;
      if (i < 0 || i >= d) {
        if (mode === 'constant') return value;
        if (mode === 'edge') i = i < 0 ? 0 : d - 1;
        else if (mode === 'reflect') i = i < 0 ? -i : 2 * (d - 1) - i;
        else i = ((i % d) + d) % d; // wrap
      }
      flat += i * st[a]!;
    }
    return x.data[flat]!;
  });
  return { data, shape };
}

// [opset, pads (ONNX order over `axes` or all), attrs]
const cases: [number, number[], PadAttrs][] = [
  [17, [1, 0, 2, 0, 3, 1], { value: 0.5 }],
  [17, [0, -1, 2, -1, 1, -2], {}],
  [17, [2, 3, 1, 2], { axes: [1, 2], mode: 'reflect' }],
  [18, [2, 3, 1, 2], { axes: [1, -1], mode: 'reflect' }],
  [18, [1, 2, 3, 0], { axes: [0, 2], mode: 'edge', value: undefined }],
  [17, [0, 2, 1, 1, 0, 3], { mode: 'edge' }],
  [19, [2, 0, 4, 1, 3, 0], { mode: 'wrap' }],
  [18, [1, 1], { axes: [-2], value: -2 }],
];

describe('Pad', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: constant/reflect/edge/wrap, negative pads, axes at opsets 17-19`, async () => {
      const xs = [3, 5, 7];
      for (const [ci, [opset, pads, attrs]] of cases.entries()) {
        const g = new Graph({ opset });
        const y = Pad(g.input('x', dtype, xs), pads, attrs);
        const axes = (attrs.axes ?? [0, 1, 2]).map((a) => (a + 3) % 3);
        const begin = [0, 0, 0];
        const end = [0, 0, 0];
        axes.forEach((a, i) => {
          begin[a] = pads[i]!;
          end[a] = pads[i + axes.length]!;
        });
        const xv = roundedF16(randomTensor(xs, 230 + ci));
        const ref = padRef(xv, begin, end, attrs.mode ?? 'constant', attrs.value ?? 0);
        expect(y.shape).toEqual(ref.shape);
        g.output(y, 'y');
        const out = await runGraph(g, { x: dtype === 'float16' ? toF16(xv) : xv });
        expectClose(widen(out['y']), ref.data, ref.shape, 0, 0);
      }
    });
  }

  it('sends axes as an input only from opset 18, keeps unpadded symbolic dims', () => {
    const g17 = new Graph();
    Pad(g17.input('x', 'float32', [1, 2, 3]), [1, 1], { axes: [2] });
    expect(g17.nodes.at(-1)!.inputs.length).toBe(2);
    const g18 = new Graph({ opset: 18 });
    const x = g18.input('x', 'float32', ['batch', 2, 'h']);
    const y = Pad(x, [1, 1], { axes: [1] });
    expect(y.shape).toEqual(['batch', 4, 'h']);
    expect(g18.nodes.at(-1)!.inputs.length).toBe(4);
    const z = Pad(x, [0, 1, 0, 0, 0, 1]);
    expect(z.shape[0]).toBe('batch');
    expect(z.shape[1]).toBe(3);
    expect(typeof z.shape[2]).toBe('string');
    expect(z.shape[2]).not.toBe('h');
  });

  it('names the op and shape on bad input', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [3, 5]);
    expect(() => Pad(x, [1, 1])).toThrow(/Pad: pads \[1, 1\] must be 4 integers.*\[3, 5\]/);
    expect(() => Pad(x, [0, 5, 0, 0], { mode: 'reflect' })).toThrow(/Pad: reflect pads 5, 0 must be smaller than dim 1 = 5.*\[3, 5\]/);
    expect(() => Pad(x, [0, -3, 0, -3])).toThrow(/Pad: pads -3, -3 crop more than dim 1 = 5/);
    expect(() => Pad(x, [0, 0, 0, 0], { mode: 'wrap' })).toThrow(/Pad: mode 'wrap' needs opset 19, the graph has 17/);
    expect(() => Pad(x, [0, 0, 0, 0], { mode: 'edge', value: 1 })).toThrow(/Pad: a fill value only applies to mode 'constant'/);
    expect(() => Pad(x, [0, 0], { axes: [2] })).toThrow(/Pad: axis 2 is out of range for rank 2/);
  });
});
