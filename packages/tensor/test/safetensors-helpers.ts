// Shared by the safetensors tests: hand-built files, a byte source that counts what it is asked for.
import fc from 'fast-check';
import { expect } from 'vitest';
import { DTYPE_BYTES, DTYPES, typedArrayFrom, type DType } from '../src/dtype.js';
import type { ByteSource } from '../src/interfaces.js';
import { Tensor } from '../src/tensor.js';
import { ArrayBufferByteSource, SafetensorsError, SafetensorsFile, type SafetensorsErrorCode } from '../src/safetensors/index.js';

export const FILE_NAME = 'test.safetensors';

/** A file from a header (JSON text or raw bytes) and data; `length` overrides the u64 header length. */
export function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, length?: bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

/** Wraps a source, recording every request and checking each stays inside the file. */
export class CountingSource implements ByteSource {
  readonly requests: { offset: number; length: number }[] = [];
  bytesRequested = 0;
  closed = false;
  constructor(private readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name;
  }
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(length).toBeGreaterThanOrEqual(0);
    expect(offset + length).toBeLessThanOrEqual(this.inner.size);
    this.requests.push({ offset, length });
    this.bytesRequested += length;
    return this.inner.read(offset, length);
  }
  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close?.();
  }
}

export function memorySource(bytes: Uint8Array, name = FILE_NAME, noCopy = false): CountingSource {
  return new CountingSource(new ArrayBufferByteSource(bytes, { name, noCopy }));
}

export function openBytes(bytes: Uint8Array, name = FILE_NAME): Promise<SafetensorsFile> {
  return SafetensorsFile.open(memorySource(bytes, name));
}

/** Opens and reads everything; the error, if any, must be a SafetensorsError. */
export async function openAndReadAll(bytes: Uint8Array): Promise<Map<string, Tensor>> {
  const file = await openBytes(bytes);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}

/** Awaits `promise`, expecting a SafetensorsError with `code` whose message names the file (and the tensor). */
export async function expectSafetensorsError(
  promise: Promise<unknown>,
  code: SafetensorsErrorCode,
  tensor?: string,
  file = FILE_NAME,
): Promise<SafetensorsError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetensorsError);
  if (!(error instanceof SafetensorsError)) throw new Error('unreachable');
  expect({ code: error.code, tensor: error.tensor, file: error.file }).toEqual({ code, tensor, file });
  expect(error.message).toContain(file);
  if (tensor !== undefined) expect(error.message).toContain(JSON.stringify(tensor));
  return error;
}

/** The raw bytes of a tensor's data. */
export function bytesOf(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** One tensor entry of a hand-written header. */
export function entry(dtype: string, shape: readonly number[], start: number, end: number): string {
  return `{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${start},${end}]}`;
}

/** A tensor of `dtype` and `shape` over the given raw bytes. */
function tensorOfBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const copy = bytes.slice();
  return new Tensor(dtype, shape, typedArrayFrom(dtype, copy.buffer, 0, copy.length / DTYPE_BYTES[dtype]));
}

// Random files: names (any Unicode, including JSON-escaped characters), dtypes, shapes with zeros, raw bytes.
const tensorArb = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
  })
  .chain(({ dtype, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    return fc.uint8Array({ minLength: size, maxLength: size }).map((bytes) => tensorOfBytes(dtype, shape, bytes));
  });
// Also raw code points: quotes, backslashes, control characters and lone surrogates all need JSON escapes.
const nameArb = fc
  .oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }))
  .filter((n) => n !== '__metadata__');
/** Random valid files: tensors by name plus optional metadata. */
export const filesArb = fc.record({
  tensors: fc.dictionary(nameArb, tensorArb, { maxKeys: 6 }),
  metadata: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }), { nil: undefined }),
});

