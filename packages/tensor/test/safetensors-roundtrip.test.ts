// Writer → reader round trips for every dtype, the reference writer's layout, and random files (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPE_BYTES, DTYPES, type DType } from '../src/dtype.js';
import { SafetensorsFile, ArrayBufferByteSource, encodeSafetensors, planSafetensors, SAFETENSORS_DTYPES } from '../src/safetensors/index.js';
import { Tensor } from '../src/tensor.js';
import { bytesOf, expectSafetensorsError, filesArb, openBytes } from './safetensors-helpers.js';

const samples: Record<DType, Tensor> = {
  float32: new Tensor('float32', [2, 3], new Float32Array([0, -0, 1.5, -Infinity, NaN, 3.4e38])),
  float16: new Tensor('float16', [4], new Uint16Array([0x3c00, 0x7e01, 0xfc00, 0x0001])), // 1, a NaN payload, -inf, subnormal
  bfloat16: new Tensor('bfloat16', [2, 1], new Uint16Array([0x3f80, 0xffc1])),
  int64: new Tensor('int64', [3], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n])),
  int32: new Tensor('int32', [], new Int32Array([-(2 ** 31)])),
  uint8: new Tensor('uint8', [1, 2, 2], new Uint8Array([0, 1, 254, 255])),
  bool: new Tensor('bool', [3], new Uint8Array([1, 0, 1])),
};

describe('round trip', () => {
  it('keeps every dtype bit for bit, and the metadata', async () => {
    const metadata = { format: 'pt', 'unicode ✓': 'value "quoted"\n', empty: '' };
    const file = await openBytes(encodeSafetensors(samples, metadata));
    expect(file.metadata).toEqual(metadata);
    for (const dtype of DTYPES) {
      const name = dtype;
      const entry = file.entry(name);
      expect({ dtype: entry.dtype, shape: entry.shape }).toEqual({ dtype, shape: samples[dtype].shape });
      const t = await file.read(name);
      expect(t.dtype).toBe(dtype);
      expect(t.data.constructor).toBe(samples[dtype].data.constructor);
      expect(bytesOf(t)).toEqual(bytesOf(samples[dtype]));
    }
  });

  it('writes no __metadata__ when none is given, and reads it back as empty', async () => {
    const bytes = encodeSafetensors({ a: samples.uint8 });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    expect((await openBytes(bytes)).metadata).toEqual({});
  });

  it('gives the same bytes for a Map and a Record', () => {
    expect(encodeSafetensors(new Map(Object.entries(samples)))).toEqual(encodeSafetensors(samples));
  });

  it('writes an empty file as a valid one', async () => {
    const file = await openBytes(encodeSafetensors({}));
    expect(file.names()).toEqual([]);
  });
});

describe('layout', () => {
  it('pads the header with spaces to 8 bytes, widest dtype first then by name, data contiguous and aligned', () => {
    const bytes = encodeSafetensors({ ...samples, a_u8: new Tensor('uint8', [3], new Uint8Array([1, 2, 3])) }, { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const tensors = Object.entries(header).filter(([k]) => k !== '__metadata__');
    // Keys are written in data order, and each tensor starts where the previous one ended.
    let cursor = 0;
    for (const [, info] of tensors) {
      expect(info.data_offsets[0]).toBe(cursor);
      cursor = info.data_offsets[1];
    }
    expect(8 + n + cursor).toBe(bytes.length);
    const sizes = tensors.map(([, info]) => DTYPE_BYTES[DTYPES.find((d) => SAFETENSORS_DTYPES[d] === info.dtype) ?? 'uint8']);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    for (const [i, [, info]] of tensors.entries()) expect((8 + n + info.data_offsets[0]) % sizes[i]!).toBe(0);
    expect(tensors.map(([k]) => k).filter((k) => k.endsWith('u8') || k === 'uint8')).toEqual(['a_u8', 'uint8']);
  });

  it('plans absolute offsets that point at each tensor’s bytes, as the reader reports them', async () => {
    const bytes = encodeSafetensors(samples);
    const plan = planSafetensors(samples);
    const file = await openBytes(bytes);
    for (const p of plan.tensors) {
      expect(file.entry(p.name).byteOffset).toBe(p.byteOffset);
      expect(bytes.subarray(p.byteOffset, p.byteOffset + p.bytes.length)).toEqual(bytesOf(samples[p.name as DType]));
    }
    expect(plan.byteLength).toBe(bytes.length);
  });

  it('sorts names by code point, as the reference does', () => {
    const t = samples.uint8;
    const plan = planSafetensors({ '\uffff': t, '\u{10000}': t, b: t, a: t });
    expect(plan.tensors.map((p) => p.name)).toEqual(['a', 'b', '\uffff', '\u{10000}']);
  });

  it('refuses the reserved name and non-string metadata', async () => {
    await expectSafetensorsError(Promise.resolve().then(() => encodeSafetensors({ __metadata__: samples.uint8 })), 'name', '__metadata__', 'safetensors');
    const bad: Record<string, string> = JSON.parse('{"k":1}') as Record<string, string>;
    await expectSafetensorsError(Promise.resolve().then(() => encodeSafetensors({}, bad)), 'metadata', undefined, 'safetensors');
  });
});

describe('property: random valid files', () => {
  it('read back exactly what was written, one at a time and all at once', async () => {
    await fc.assert(
      fc.asyncProperty(filesArb, fc.integer({ min: 1, max: 64 }), async ({ tensors, metadata }, chunkBytes) => {
        const bytes = encodeSafetensors(tensors, metadata);
        const file = await SafetensorsFile.open(new ArrayBufferByteSource(bytes));
        expect(file.metadata).toEqual(metadata ?? {});
        expect(new Set(file.names())).toEqual(new Set(Object.keys(tensors)));
        const all = await file.readAll({ chunkBytes, concurrency: 3 });
        for (const [name, expected] of Object.entries(tensors)) {
          for (const got of [await file.read(name), all.get(name)]) {
            expect(got?.dtype).toBe(expected.dtype);
            expect(got?.shape).toEqual(expected.shape);
            expect(got && bytesOf(got)).toEqual(bytesOf(expected));
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
