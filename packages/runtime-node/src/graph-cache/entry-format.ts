import { createHash } from 'node:crypto';

/**
 * An entry file is a 48-byte header, then the graph bytes:
 *   0  8 bytes  magic `SDXSGC01` (format version in the last two characters)
 *   8  8 bytes  payload length, little-endian
 *  16 32 bytes  sha256 of the payload
 * so a truncated, padded or bit-flipped file (a crash before fsync reached the disk, a full disk, a bad sector,
 * a stray editor) is recognised and rebuilt instead of handed to onnxruntime.
 */
const MAGIC = new TextEncoder().encode('SDXSGC01');
export const HEADER_BYTES = 48;

/** The header for `payload`. */
export function entryHeader(payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC, 0);
  new DataView(header.buffer).setBigUint64(8, BigInt(payload.length), true);
  header.set(createHash('sha256').update(payload).digest(), 16);
  return header;
}

/** The payload of a whole entry file, or why the file is not a valid entry. */
export function decodeEntry(file: Uint8Array): { payload: Uint8Array } | { problem: string } {
  if (file.length < HEADER_BYTES) return { problem: `${file.length} bytes, shorter than the ${HEADER_BYTES}-byte header` };
  for (let i = 0; i < MAGIC.length; i++) if (file[i] !== MAGIC[i]) return { problem: 'not an sdxs graph cache entry (bad magic)' };
  const length = new DataView(file.buffer, file.byteOffset, HEADER_BYTES).getBigUint64(8, true);
  if (length !== BigInt(file.length - HEADER_BYTES)) return { problem: `header says ${length} bytes, the file holds ${file.length - HEADER_BYTES}` };
  const payload = file.subarray(HEADER_BYTES);
  const digest = createHash('sha256').update(payload).digest();
  for (let i = 0; i < 32; i++) if (digest[i] !== file[16 + i]) return { problem: 'sha256 mismatch' };
  // A plain Uint8Array of its own: not a Buffer, and not a view that could expose a shared pool's bytes.
  return { payload: new Uint8Array(payload) };
}
