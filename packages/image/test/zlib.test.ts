import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflate, fflateDeflate, fflateInflate, inflate, InflateLimitError, latin1Bytes, latin1Text } from '../src/zlib.js';

/** Compressible but not trivial bytes: a gradient with a little LCG noise. */
function sample(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((i >> 6) + (s >>> 29)) & 255;
  }
  return out;
}

describe('zlib streams (node:zlib in Node, fflate in browsers)', () => {
  const data = sample(200_000);

  it('fflate and node:zlib read each other’s streams', () => {
    expect(inflateSync(fflateDeflate(data, 6))).toEqual(Buffer.from(data));
    expect(fflateInflate(deflateSync(data, { level: 9 }), data.length)).toEqual(data);
    expect(new Uint8Array(inflate(deflate(data, 1), data.length))).toEqual(data);
  });

  it('both stop a stream at the caller’s limit (a bomb never inflates whole)', () => {
    const bomb = deflateSync(new Uint8Array(50_000_000));
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => fflateInflate(bomb, 1_000_000)).toThrow(InflateLimitError);
    expect(() => inflate(bomb, 1_000_000)).toThrow(InflateLimitError);
  });

  it('both refuse corrupt and truncated streams', () => {
    const z = deflateSync(data);
    expect(() => fflateInflate(z.subarray(0, z.length >> 1), data.length)).toThrow();
    expect(() => fflateInflate(Uint8Array.of(1, 2, 3, 4, 5, 6, 7), 100)).toThrow(/header/);
    expect(() => inflate(z.subarray(0, z.length >> 1), data.length)).toThrow();
  });

  it('Latin-1 text round-trips byte for byte (not windows-1252)', () => {
    const text = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    const bytes = latin1Bytes(text);
    expect([...bytes]).toEqual(Array.from({ length: 256 }, (_, i) => i));
    expect(latin1Text(bytes)).toBe(text);
  });
});
