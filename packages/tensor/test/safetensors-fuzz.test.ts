// Fuzzing: random bytes, random headers and mutated valid files must parse or throw a SafetensorsError —
// no other exception, no hang, no read (hence no allocation) beyond the file.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPE_BYTES } from '../src/dtype.js';
import { SafetensorsError, SafetensorsFile, encodeSafetensors } from '../src/safetensors/index.js';
import { entry, filesArb, memorySource, rawFile } from './safetensors-helpers.js';

const RUN_LIMIT = { timeout: 2000, numRuns: 300 } as const;

/**
 * Opens and reads everything. Success must yield tensors that tile the data section exactly; failure must be a
 * SafetensorsError. Either way the reader asked for no byte outside the file and no byte twice.
 */
async function parseOrReject(bytes: Uint8Array): Promise<'ok' | SafetensorsError> {
  const source = memorySource(bytes);
  let outcome: 'ok' | SafetensorsError = 'ok';
  try {
    const file = await SafetensorsFile.open(source);
    const tensors = await file.readAll();
    let cursor = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)) + 8;
    for (const e of file.entries.values()) {
      expect(e.byteOffset).toBe(cursor);
      expect(e.byteLength).toBe(e.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype]);
      expect(tensors.get(e.name)?.data.byteLength).toBe(e.byteLength);
      cursor += e.byteLength;
    }
    expect(cursor).toBe(bytes.length);
    await file.close();
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    outcome = error;
  }
  expect(source.bytesRequested).toBeLessThanOrEqual(bytes.length);
  return outcome;
}

// fast-check reads a returned value as pass/fail, so properties return nothing.
const check = async (bytes: Uint8Array): Promise<void> => {
  await parseOrReject(bytes);
};

describe('fuzz', () => {
  it('random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), check), RUN_LIMIT);
  });

  it('random bytes behind a plausible header length', async () => {
    const arb = fc.tuple(fc.nat({ max: 200 }), fc.uint8Array({ maxLength: 256 })).map(([n, rest]) => rawFile(rest, 0, BigInt(n)));
    await fc.assert(fc.asyncProperty(arb, check), RUN_LIMIT);
  });

  it('random JSON headers', async () => {
    const arb = fc.tuple(fc.json({ maxDepth: 3 }), fc.nat({ max: 64 })).map(([json, data]) => rawFile(json, data));
    await fc.assert(fc.asyncProperty(arb, check), RUN_LIMIT);
  });

  it('random offsets, shapes and dtypes: accepted only when they tile the data', async () => {
    const entryArb = fc.record({
      dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'I32', 'U8', 'BOOL', 'F64', 'I8'),
      shape: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }),
      start: fc.nat({ max: 48 }),
      length: fc.nat({ max: 48 }),
    });
    const arb = fc.tuple(fc.array(entryArb, { maxLength: 4 }), fc.nat({ max: 96 })).map(([entries, data]) => {
      const fields = entries.map((e, i) => `"t${i}":${entry(e.dtype, e.shape, e.start, e.start + e.length)}`);
      return rawFile(`{${fields.join(',')}}`, data);
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(arb, async (bytes) => {
        if ((await parseOrReject(bytes)) === 'ok') accepted++;
      }),
      { ...RUN_LIMIT, numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(0); // the generator reaches the accepting path too
  });

  // Mutations of valid files: each applied to the bytes in turn.
  type Mutation = (bytes: Uint8Array, other: Uint8Array) => Uint8Array;
  const at = (bytes: Uint8Array, i: number) => (bytes.length === 0 ? 0 : i % bytes.length);
  const headerLengthOf = (bytes: Uint8Array) => (bytes.length < 8 ? 0 : Number(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)));
  const setLength = (bytes: Uint8Array, length: bigint) => {
    const out = bytes.slice();
    if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, length, true);
    return out;
  };
  const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]): Mutation => (b) => {
      const out = b.slice();
      if (out.length > 0) out[at(out, i)]! ^= x;
      return out;
    }),
    fc.nat().map((i): Mutation => (b) => b.slice(0, at(b, i))),
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, ins]): Mutation => (b) => {
      const j = at(b, i);
      return new Uint8Array([...b.subarray(0, j), ...ins, ...b.subarray(j)]);
    }),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n): Mutation => (b) => setLength(b, n)),
    fc.integer({ min: -16, max: 16 }).map((d): Mutation => (b) => setLength(b, BigInt(Math.max(0, headerLengthOf(b) + d)))),
    // Splice: this file's header with the other's data, and the other way round.
    fc.boolean().map((first): Mutation => (b, o) => {
      const [h, d] = first ? [b, o] : [o, b];
      const hl = 8 + headerLengthOf(h);
      return new Uint8Array([...h.subarray(0, Math.min(hl, h.length)), ...d.subarray(Math.min(8 + headerLengthOf(d), d.length))]);
    }),
    // Overwrite a header byte with JSON punctuation, digits or a NUL.
    fc.tuple(fc.nat(), fc.constantFrom(...'0129-",:{}[] \0eE.')).map(([i, c]): Mutation => (b) => {
      const out = b.slice();
      const end = Math.min(out.length, 8 + headerLengthOf(out));
      if (end > 8) out[8 + (i % (end - 8))] = c.charCodeAt(0);
      return out;
    }),
  );

  it('mutated valid files', async () => {
    const arb = fc.tuple(filesArb, filesArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(arb, async ([a, b, mutations]) => {
        const other = encodeSafetensors(b.tensors, b.metadata);
        let bytes: Uint8Array = encodeSafetensors(a.tensors, a.metadata);
        for (const mutate of mutations) bytes = mutate(bytes, other);
        await parseOrReject(bytes);
      }),
      { ...RUN_LIMIT, numRuns: 800 },
    );
  });
});
