// PNG file structure (PNG spec §5): the 8-byte signature, then chunks of length, type, data and CRC.
import { crc32 } from './crc32.js';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** One chunk as read from a file (`data` is a view into the file's bytes). */
export interface PngChunk {
  readonly type: string;
  readonly data: Uint8Array;
}

/** A PNG that cannot be read; the message says what is wrong with it. */
export class PngError extends Error {
  override readonly name = 'PngError';
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/** The bytes of one chunk: length, type, data, CRC over type and data. */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(ascii(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** True when `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * The chunks of a PNG file up to IEND, each CRC-checked. Lengths are checked against the bytes that are
 * there, so a truncated or forged file fails here, before anything is allocated for its contents.
 */
export function* readChunks(bytes: Uint8Array): Generator<PngChunk> {
  if (!isPng(bytes)) throw new PngError('not a PNG file (no PNG signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) throw new PngError('truncated PNG: the file ends before its IEND chunk');
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw new PngError(`corrupt PNG: bad chunk type at byte ${at + 4}`);
    if (length > bytes.length - at - 12) throw new PngError(`truncated PNG: chunk ${type} declares ${length} bytes, the file has ${bytes.length - at - 12} left`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) throw new PngError(`corrupt PNG: CRC mismatch in chunk ${type}`);
    yield { type, data };
    at += 12 + length;
    if (type === 'IEND') return;
  }
}
