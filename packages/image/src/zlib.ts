/**
 * zlib streams for PNG: node:zlib where the platform has it, fflate elsewhere (browsers, workers). Native
 * deflate is about 1.5× faster than fflate for the same size on a 512² image (docs/libraries.md), and the
 * server encodes on its hot path, so Node keeps it; fflate is the pure-JS fallback, sync like zlib's *Sync.
 * node:zlib is reached through `process.getBuiltinModule` (Node ≥ 20.16), so this module imports nothing
 * Node-only and bundles for the browser as it is.
 */
import { Inflate, zlibSync } from 'fflate';
import { nodeBuiltin } from './node-builtin.js';

interface NodeZlib {
  deflateSync(data: Uint8Array, options: { level: number }): Uint8Array;
  inflateSync(data: Uint8Array, options: { maxOutputLength: number }): Uint8Array;
}

const native = nodeBuiltin<NodeZlib>('node:zlib');

/** zlib-wrapped deflate (RFC 1950) at `level` 0–9. */
export function deflate(data: Uint8Array, level: number): Uint8Array {
  return native ? native.deflateSync(data, { level }) : fflateDeflate(data, level);
}

/** {@link deflate} on fflate: what browsers run (exported for the tests, which run where node:zlib exists). */
export function fflateDeflate(data: Uint8Array, level: number): Uint8Array {
  return zlibSync(data, { level: level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 });
}

/** Thrown when a stream inflates to more than the caller allows (a bomb, or a header that lies). */
export class InflateLimitError extends Error {
  override readonly name = 'InflateLimitError';
}

/**
 * Inflate a zlib stream, refusing (InflateLimitError) to produce more than `maxBytes`; a corrupt or truncated
 * stream throws too. Inflation stops at the limit, so a small bomb never allocates its full size.
 */
export function inflate(data: Uint8Array, maxBytes: number): Uint8Array {
  if (native) {
    try {
      return native.inflateSync(data, { maxOutputLength: maxBytes });
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new InflateLimitError(`inflates to more than ${maxBytes} bytes`);
      throw e;
    }
  }
  return fflateInflate(data, maxBytes);
}

/** {@link inflate} on fflate: what browsers run (exported for the tests). */
export function fflateInflate(data: Uint8Array, maxBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const stream = new Inflate((chunk, final) => {
    total += chunk.length;
    if (total > maxBytes) throw new InflateLimitError(`inflates to more than ${maxBytes} bytes`);
    parts.push(chunk);
    ended ||= final;
  });
  // zlib header (2 bytes) and Adler-32 trailer (4) around the raw deflate stream fflate's Inflate reads.
  if (data.length < 6 || (data[0]! & 0x0f) !== 8 || ((data[0]! << 8) | data[1]!) % 31 !== 0) throw new Error('incorrect header check');
  stream.push(data.subarray(2, data.length - 4), true);
  if (!ended) throw new Error('unexpected end of file');
  return concatBytes(parts);
}

/** The arrays one after another in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Latin-1 bytes of `text` (every character must be ≤ U+00FF). */
export function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** The Latin-1 text of `bytes` (not TextDecoder's 'latin1', which is windows-1252). */
export function latin1Text(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}
