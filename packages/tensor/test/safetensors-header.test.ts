// RELIABILITY.md test catalogue items 1–7 and 9, on hand-built files.
import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../src/interfaces.js';
import { SAFETENSORS_MAX_HEADER_BYTES as MAX_HEADER_BYTES, SafetensorsFile } from '../src/safetensors/index.js';
import { CountingSource, FILE_NAME, entry, expectSafetensorsError, memorySource, openAndReadAll, openBytes, rawFile } from './safetensors-helpers.js';

const f32 = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);

/** A source of `size` zero bytes that allocates only what is read: for headers that claim huge lengths. */
function virtualSource(size: number, prefix: Uint8Array): CountingSource {
  const source: ByteSource = {
    name: FILE_NAME,
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      out.set(prefix.subarray(offset, offset + length));
      return out;
    },
  };
  return new CountingSource(source);
}

describe('1. header length', () => {
  it('rejects 0', async () => {
    await expectSafetensorsError(openBytes(rawFile('', 16)), 'header-length');
  });

  it('rejects a length past the end of the file', async () => {
    const header = `{"a":${entry('F32', [1], 0, 4)}}`;
    await expectSafetensorsError(openBytes(rawFile(header, 4, BigInt(header.length + 5))), 'header-length');
  });

  it('rejects over 100 MB before reading the header, even when the file is that large', async () => {
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    const source = virtualSource(2 * MAX_HEADER_BYTES, prefix);
    const error = await expectSafetensorsError(SafetensorsFile.open(source), 'header-length');
    expect(error.message).toContain('limit');
    expect(source.bytesRequested).toBe(8);
  });

  it('rejects 2^64 − 1 and lengths that only fit when read as 32 bits or rounded to a double', async () => {
    for (const length of [2n ** 64n - 1n, 2n ** 32n + 16n, 2n ** 53n + 1n]) {
      const source = memorySource(rawFile('{}', 64, length));
      await expectSafetensorsError(SafetensorsFile.open(source), 'header-length');
      expect(source.bytesRequested).toBe(8);
      expect(source.closed).toBe(true);
    }
  });

  it('rejects files shorter than the length prefix', async () => {
    for (const size of [0, 1, 7]) await expectSafetensorsError(openBytes(new Uint8Array(size)), 'truncated');
  });

  it('accepts a header of exactly the rest of the file', async () => {
    const file = await openBytes(rawFile('{}'));
    expect(file.names()).toEqual([]);
  });
});

describe('2. header encoding', () => {
  const valid = `{"a":${entry('F32', [1], 0, 4)}}`;

  it('rejects invalid UTF-8', async () => {
    const bytes = new TextEncoder().encode(`{"a\u00e9":${entry('F32', [1], 0, 4)}}`);
    const at = bytes.indexOf(0xc3);
    bytes[at] = 0xff; // a byte that never occurs in UTF-8
    await expectSafetensorsError(openBytes(rawFile(bytes, f32(1))), 'header-json');
  });

  it('rejects text that is not JSON', async () => {
    for (const header of ['{', '{"a":}', "{'a':1}", '{"a":1,}', 'null', '[]', '"x"']) {
      await expectSafetensorsError(openBytes(rawFile(header)), 'header-json');
    }
  });

  it('rejects NUL padding, a BOM and leading whitespace', async () => {
    for (const header of [`${valid}\0\0\0`, `\ufeff${valid}`, ` ${valid}`]) {
      await expectSafetensorsError(openBytes(rawFile(header, f32(1))), 'header-json');
    }
  });

  it('accepts trailing whitespace padding', async () => {
    for (const pad of [' ', '       ', '\n', '\t \r\n']) {
      const tensors = await openAndReadAll(rawFile(valid + pad, f32(2.5)));
      expect([...(tensors.get('a')?.data ?? [])]).toEqual([2.5]);
    }
  });
});

describe('3–4. offsets tile the data exactly', () => {
  const two = (a: [number, number], b: [number, number], data = 8) =>
    rawFile(`{"a":${entry('F32', [1], ...a)},"b":${entry('F32', [1], ...b)}}`, data);

  it('accepts contiguous tensors, whatever the key order', async () => {
    expect((await openAndReadAll(two([0, 4], [4, 8]))).size).toBe(2);
    const file = await openBytes(two([4, 8], [0, 4]));
    expect(file.names()).toEqual(['b', 'a']); // file order
  });

  it('rejects a gap, including one before the first tensor', async () => {
    await expectSafetensorsError(openBytes(two([0, 4], [8, 12], 12)), 'offsets', 'b');
    await expectSafetensorsError(openBytes(rawFile(`{"a":${entry('F32', [1], 4, 8)}}`, 8)), 'offsets', 'a');
  });

  it('rejects an overlap and two tensors on the same bytes', async () => {
    await expectSafetensorsError(openBytes(rawFile(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [1], 4, 8)}}`, 8)), 'offsets', 'b');
    // Ties sort by name, so the second name is the one reported.
    await expectSafetensorsError(openBytes(two([0, 4], [0, 4], 4)), 'offsets', 'b');
  });

  it('rejects end before start', async () => {
    await expectSafetensorsError(openBytes(rawFile(`{"a":${entry('F32', [1], 4, 0)}}`, 4)), 'offsets', 'a');
  });

  it('rejects offsets that are not a pair of non-negative safe integers', async () => {
    for (const offsets of ['[0]', '[0,4,8]', '[-4,0]', '[0,4.5]', '["0","4"]', '{"0":0}', '[0,9007199254740993]', '[0,1e400]']) {
      const header = `{"a":{"dtype":"F32","shape":[1],"data_offsets":${offsets}}}`;
      await expectSafetensorsError(openBytes(rawFile(header, 4)), 'offsets', 'a');
    }
  });

  it('rejects bytes after the last tensor', async () => {
    await expectSafetensorsError(openBytes(two([0, 4], [4, 8], 9)), 'trailing-bytes');
    await expectSafetensorsError(openBytes(rawFile('{}', 1)), 'trailing-bytes');
  });

  it('rejects a truncated file and offsets past its end', async () => {
    await expectSafetensorsError(openBytes(two([0, 4], [4, 8], 7)), 'truncated');
    await expectSafetensorsError(openBytes(two([0, 4], [4, 8], 0)), 'truncated');
    const far = rawFile(`{"a":${entry('U8', [2 ** 40], 0, 2 ** 40)}}`, 16);
    await expectSafetensorsError(openBytes(far), 'truncated');
  });
});

describe('5. shape × dtype size equals the byte range', () => {
  it('rejects a mismatch', async () => {
    await expectSafetensorsError(openBytes(rawFile(`{"a":${entry('F32', [3], 0, 8)}}`, 8)), 'shape', 'a');
    await expectSafetensorsError(openBytes(rawFile(`{"a":${entry('F16', [4], 0, 4)}}`, 4)), 'shape', 'a');
  });

  it('rejects products that overflow, including ones that wrap to the right size in 64 bits', async () => {
    // 2^31 · 2^31 · 4 = 2^64 bytes: an unchecked u64 product wraps to 0 and would match data_offsets [0, 0].
    for (const shape of [[2 ** 31, 2 ** 31, 4], [2 ** 26, 2 ** 27], [2 ** 52, 2 ** 52, 0]]) {
      const error = await expectSafetensorsError(openBytes(rawFile(`{"a":${entry('U8', shape, 0, 0)}}`)), 'shape', 'a');
      expect(error.message).toContain('overflow');
    }
  });

  it('rejects dimensions that are not non-negative safe integers', async () => {
    for (const shape of ['[-1]', '[1.5]', '["2"]', '[null]', '3', '[9007199254740993]']) {
      const header = `{"a":{"dtype":"U8","shape":${shape},"data_offsets":[0,2]}}`;
      await expectSafetensorsError(openBytes(rawFile(header, 2)), 'shape', 'a');
    }
  });
});

describe('6. keys, dtypes and metadata', () => {
  it('rejects a repeated tensor name, even when JSON escapes disguise it', async () => {
    const plain = `{"a":${entry('F32', [1], 0, 4)},"a":${entry('F32', [1], 4, 8)}}`;
    await expectSafetensorsError(openBytes(rawFile(plain, 8)), 'duplicate-key', 'a');
    const escaped = `{"ab":${entry('F32', [1], 0, 4)},"\\u0061b":${entry('F32', [1], 4, 8)}}`;
    await expectSafetensorsError(openBytes(rawFile(escaped, 8)), 'duplicate-key', 'ab');
  });

  it('rejects repeated fields inside an entry and repeated metadata keys', async () => {
    const field = `{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`;
    await expectSafetensorsError(openBytes(rawFile(field, 4)), 'duplicate-key', 'a');
    const meta = `{"__metadata__":{"k":"1","k":"2"}}`;
    await expectSafetensorsError(openBytes(rawFile(meta)), 'duplicate-key', '__metadata__');
  });

  it('accepts the same key in different objects', async () => {
    const header = `{"__metadata__":{"a":"x","dtype":"y"},"a":${entry('F32', [1], 0, 4)}}`;
    const file = await openBytes(rawFile(header, 4));
    expect(file.metadata).toEqual({ a: 'x', dtype: 'y' });
  });

  it('rejects dtypes sdxs does not support, naming tensor and dtype', async () => {
    for (const dtype of ['F64', 'I8', 'U16', 'F8_E4M3', 'f32', '']) {
      const error = await expectSafetensorsError(openBytes(rawFile(`{"w":${entry(dtype, [4], 0, 4)}}`, 4)), 'dtype', 'w');
      expect(error.message).toContain(JSON.stringify(dtype));
    }
    const notString = `{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`;
    await expectSafetensorsError(openBytes(rawFile(notString, 4)), 'dtype', 'w');
  });

  it('rejects metadata that is not a map of strings', async () => {
    for (const meta of ['{"a":1}', '{"a":{"b":"c"}}', '{"a":null}', '{"a":["x"]}', '["x"]', '"x"', '5']) {
      await expectSafetensorsError(openBytes(rawFile(`{"__metadata__":${meta}}`)), 'metadata');
    }
  });

  it('reads string metadata, and null metadata as none (as the reference does)', async () => {
    const file = await openBytes(rawFile(`{"__metadata__":{"format":"pt","__proto__":"x"}}`));
    expect(file.metadata).toEqual(Object.fromEntries([['format', 'pt'], ['__proto__', 'x']]));
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    expect((await openBytes(rawFile(`{"__metadata__":null}`))).metadata).toEqual({});
  });

  it('rejects entries that are not the safetensors layout', async () => {
    for (const value of ['[]', '"x"', '{"dtype":"F32","shape":[1]}', `{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}`]) {
      await expectSafetensorsError(openBytes(rawFile(`{"w":${value}}`, 4)), 'header-schema', 'w');
    }
  });
});

describe('7. zero-size tensors and scalars', () => {
  it('reads scalars and zero-size tensors, which may share an offset with each other and with the next tensor', async () => {
    const header = `{"s":${entry('F32', [], 0, 4)},"z1":${entry('F32', [0], 4, 4)},"z2":${entry('I64', [3, 0], 4, 4)},"b":${entry('F32', [1], 4, 8)},"end":${entry('U8', [0, 5], 8, 8)}}`;
    const file = await openBytes(rawFile(header, f32(7, 9)));
    expect(file.names()).toEqual(['s', 'z1', 'z2', 'b', 'end']);
    const s = await file.read('s');
    expect({ shape: s.shape, data: [...s.data] }).toEqual({ shape: [], data: [7] });
    const z2 = await file.read('z2');
    expect({ dtype: z2.dtype, shape: z2.shape, size: z2.size }).toEqual({ dtype: 'int64', shape: [3, 0], size: 0 });
    const all = await file.readAll();
    expect([...all.keys()]).toEqual(file.names());
    expect([...(all.get('b')?.data ?? [])]).toEqual([9]);
    expect(all.get('end')?.shape).toEqual([0, 5]);
  });

  it('accepts a file of only zero-size tensors, and no tensors at all', async () => {
    expect((await openAndReadAll(rawFile(`{"z":${entry('BF16', [0], 0, 0)}}`))).get('z')?.size).toBe(0);
    expect((await openAndReadAll(rawFile('{}'))).size).toBe(0);
  });
});

describe('9. misaligned data', () => {
  // Data at an offset ≡ 1 (mod 8): no dtype wider than a byte is aligned there.
  const header = `{"a":${entry('F32', [2], 0, 8)},"b":${entry('I64', [1], 8, 16)},"c":${entry('F16', [1], 16, 18)}}`;
  const data = new Uint8Array(18);
  new DataView(data.buffer).setFloat32(0, 1.5, true);
  new DataView(data.buffer).setFloat32(4, -2, true);
  new DataView(data.buffer).setBigInt64(8, -(2n ** 62n), true);
  new DataView(data.buffer).setUint16(16, 0x3c00, true);

  it('copies into aligned buffers instead of throwing, for views and copies alike', async () => {
    let padded = header;
    while ((8 + padded.length) % 8 !== 1) padded += ' ';
    const bytes = rawFile(padded, data);
    for (const noCopy of [true, false]) {
      const file = await SafetensorsFile.open(memorySource(bytes, FILE_NAME, noCopy));
      for (const tensors of [await file.readAll(), new Map(await Promise.all(file.names().map(async (n) => [n, await file.read(n)] as const)))]) {
        expect([...(tensors.get('a')?.data ?? [])]).toEqual([1.5, -2]);
        expect([...(tensors.get('b')?.data ?? [])]).toEqual([-(2n ** 62n)]);
        expect([...(tensors.get('c')?.data ?? [])]).toEqual([0x3c00]);
      }
    }
  });

  it('reads misaligned tensors inside one shared chunk', async () => {
    // U8 first shifts everything after it off alignment relative to the chunk start.
    const h = `{"u":${entry('U8', [1], 0, 1)},"a":${entry('F32', [1], 1, 5)}}`;
    const d = new Uint8Array(5);
    new DataView(d.buffer).setFloat32(1, 3.25, true);
    expect([...((await openAndReadAll(rawFile(h, d))).get('a')?.data ?? [])]).toEqual([3.25]);
  });
});

describe('reading', () => {
  const bytes = rawFile(`{"a":${entry('F32', [1], 0, 4)}}`, f32(1));

  it('reports a missing tensor by name', async () => {
    const file = await openBytes(bytes);
    expect(() => file.entry('nope')).toThrow(/nope/);
    await expectSafetensorsError(file.read('nope'), 'not-found', 'nope');
  });

  it('refuses reads after close and closes the source once', async () => {
    const source = memorySource(bytes);
    const file = await SafetensorsFile.open(source);
    await file.close();
    await file.close();
    expect(source.closed).toBe(true);
    await expectSafetensorsError(file.read('a'), 'closed', 'a');
  });

  it('turns source failures into io errors that keep the cause', async () => {
    const cause = new Error('disk on fire');
    let calls = 0;
    const source: ByteSource = {
      name: FILE_NAME,
      size: bytes.length,
      async read(offset, length) {
        if (++calls > 2) throw cause;
        return bytes.slice(offset, offset + length);
      },
    };
    const file = await SafetensorsFile.open(source);
    const error = await expectSafetensorsError(file.read('a'), 'io', 'a');
    expect(error.cause).toBe(cause);
  });

  it('rejects a source that returns fewer bytes than asked', async () => {
    const source: ByteSource = { name: FILE_NAME, size: bytes.length, read: async (o, l) => bytes.slice(o, o + Math.max(0, l - 1)) };
    await expectSafetensorsError(SafetensorsFile.open(source), 'truncated');
  });
});
