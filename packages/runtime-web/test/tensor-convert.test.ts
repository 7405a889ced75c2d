import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { Tensor } from '@sdxs/tensor';
import { fromOrtTensor, toOrtTensor } from '@sdxs/runtime-web';

describe('tensor conversion', () => {
  it('round-trips every dtype the pipeline uses, copying outputs', () => {
    const cases = [
      new Tensor('float32', [2, 2], Float32Array.of(1, -2, 3.5, 0)),
      new Tensor('float16', [3], Uint16Array.of(0x3c00, 0xc000, 0x7bff)),
      new Tensor('int64', [2], BigInt64Array.of(49406n, 49407n)),
      new Tensor('int32', [1], Int32Array.of(7)),
      new Tensor('uint8', [4], Uint8Array.of(0, 1, 254, 255)),
    ];
    for (const t of cases) {
      const o = toOrtTensor(ort, t);
      expect(o.type).toBe(t.dtype);
      expect([...o.dims]).toEqual([...t.shape]);
      const back = fromOrtTensor('x', o);
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(back.data).toEqual(t.data);
      expect(back.data.buffer).not.toBe(t.data.buffer);
    }
  });

  it('keeps float16 bits from any view, and refuses bfloat16', () => {
    const buffer = new ArrayBuffer(16);
    const bits = new Uint16Array(buffer, 4, 2);
    bits.set([0x3c00, 0x4000]);
    const t = fromOrtTensor('h', new ort.Tensor('float16', bits, [2]));
    expect(t.toArray()).toEqual([0x3c00, 0x4000]);
    expect(() => toOrtTensor(ort, new Tensor('bfloat16', [1], Uint16Array.of(1)))).toThrow(/bfloat16/);
    expect(() => fromOrtTensor('s', new ort.Tensor('string', ['a'], [1]))).toThrow(/dtype string/);
  });
});
