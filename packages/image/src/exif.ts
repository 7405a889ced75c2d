/**
 * Generation parameters in JPEG and WebP files, where AUTOMATIC1111 puts them: the EXIF UserComment (tag 0x9286),
 * "UNICODE\0" then UTF-16BE text (piexif's UserComment.dump(…, encoding="unicode")), in a big-endian TIFF block —
 * a JPEG APP1 "Exif" segment, or a WebP EXIF chunk in the extended (VP8X) container. A1111, ComfyUI and exiftool read
 * it back; {@link readUserComment} does too.
 */
import { concatBytes } from './zlib.js';

const UNICODE = [0x55, 0x4e, 0x49, 0x43, 0x4f, 0x44, 0x45, 0x00]; // "UNICODE\0"
const ASCII = [0x41, 0x53, 0x43, 0x49, 0x49, 0x00, 0x00, 0x00]; // "ASCII\0\0\0"
const EXIF_HEADER = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"

/** Longest text a JPEG's APP1 segment can carry as UTF-16 (65,535 bytes less the segment's own headers). */
export const MAX_JPEG_COMMENT_CHARS = 32_000;

/** Thrown for a JPEG or WebP file this module cannot read or extend. */
export class ImageFormatError extends Error {
  override readonly name = 'ImageFormatError';
}

/** A big-endian TIFF block: IFD0 pointing to an Exif IFD holding one UserComment. */
export function userCommentTiff(text: string): Uint8Array {
  const comment = new Uint8Array(8 + 2 * text.length);
  comment.set(UNICODE);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    comment[8 + 2 * i] = c >> 8;
    comment[9 + 2 * i] = c & 0xff;
  }
  // Header (8) + IFD0 (2 + 12 + 4) + Exif IFD (2 + 12 + 4) + the comment.
  const ifd0 = 8;
  const exifIfd = ifd0 + 18;
  const data = exifIfd + 18;
  const out = new Uint8Array(data + comment.length);
  const v = new DataView(out.buffer);
  out.set([0x4d, 0x4d, 0x00, 0x2a]); // "MM", 42
  v.setUint32(4, ifd0);
  v.setUint16(ifd0, 1);
  v.setUint16(ifd0 + 2, 0x8769); // ExifIFDPointer
  v.setUint16(ifd0 + 4, 4); // LONG
  v.setUint32(ifd0 + 6, 1);
  v.setUint32(ifd0 + 10, exifIfd);
  v.setUint32(ifd0 + 14, 0); // no next IFD
  v.setUint16(exifIfd, 1);
  v.setUint16(exifIfd + 2, 0x9286); // UserComment
  v.setUint16(exifIfd + 4, 7); // UNDEFINED
  v.setUint32(exifIfd + 6, comment.length);
  v.setUint32(exifIfd + 10, data);
  v.setUint32(exifIfd + 14, 0);
  out.set(comment, data);
  return out;
}

/** The UserComment of a TIFF block (either byte order), or undefined when it has none. */
function tiffUserComment(tiff: Uint8Array): string | undefined {
  if (tiff.length < 8) return undefined;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (at: number) => v.getUint16(at, little);
  const u32 = (at: number) => v.getUint32(at, little);
  const entry = (ifd: number, tag: number): number | undefined => {
    if (ifd + 2 > tiff.length) return undefined;
    const n = u16(ifd);
    for (let i = 0; i < n && ifd + 14 + 12 * i <= tiff.length; i++) if (u16(ifd + 2 + 12 * i) === tag) return ifd + 2 + 12 * i;
    return undefined;
  };
  const pointer = entry(u32(4), 0x8769);
  if (pointer === undefined) return undefined;
  const comment = entry(u32(pointer + 8), 0x9286);
  if (comment === undefined) return undefined;
  const count = u32(comment + 4);
  const at = count <= 4 ? comment + 8 : u32(comment + 8);
  if (at + count > tiff.length || count < 8) return undefined;
  const bytes = tiff.subarray(at, at + count);
  const body = bytes.subarray(8);
  if (UNICODE.every((b, i) => bytes[i] === b)) {
    let s = '';
    for (let i = 0; i + 1 < body.length; i += 2) s += String.fromCharCode((body[i]! << 8) | body[i + 1]!);
    return s;
  }
  if (ASCII.every((b, i) => bytes[i] === b)) return new TextDecoder().decode(body);
  return undefined;
}

function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8;
}

function isWebp(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP';
}

/**
 * `jpeg` with an APP1 Exif segment holding `text` as its UserComment, after SOI and a JFIF APP0 if there is one.
 * Text beyond {@link MAX_JPEG_COMMENT_CHARS} is cut (a JPEG segment holds at most 64 KiB).
 */
export function jpegWithComment(jpeg: Uint8Array, text: string): Uint8Array {
  if (!isJpeg(jpeg)) throw new ImageFormatError('not a JPEG file (no SOI marker)');
  const tiff = userCommentTiff(text.slice(0, MAX_JPEG_COMMENT_CHARS));
  const length = 2 + EXIF_HEADER.length + tiff.length;
  const segment = concatBytes([Uint8Array.of(0xff, 0xe1, length >> 8, length & 0xff), Uint8Array.from(EXIF_HEADER), tiff]);
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0 && jpeg.length >= 6) at = 4 + ((jpeg[4]! << 8) | jpeg[5]!);
  return concatBytes([jpeg.subarray(0, at), segment, jpeg.subarray(at)]);
}

interface RiffChunk {
  readonly type: string;
  readonly data: Uint8Array;
}

function riffChunks(webp: Uint8Array): RiffChunk[] {
  const v = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const chunks: RiffChunk[] = [];
  const end = Math.min(webp.length, 8 + v.getUint32(4, true));
  for (let at = 12; at + 8 <= end; ) {
    const size = v.getUint32(at + 4, true);
    if (at + 8 + size > end) throw new ImageFormatError(`truncated WebP: chunk ${String.fromCharCode(...webp.subarray(at, at + 4))} overruns the file`);
    chunks.push({ type: String.fromCharCode(...webp.subarray(at, at + 4)), data: webp.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size & 1);
  }
  return chunks;
}

function riffChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  out.set(Uint8Array.from(type, (c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

/**
 * `webp` (a simple VP8/VP8L file, as encoders write) in the extended format with an EXIF chunk holding `text` as
 * its UserComment (the WebP container spec: VP8X first, EXIF after the image data).
 */
export function webpWithComment(webp: Uint8Array, width: number, height: number, text: string): Uint8Array {
  if (!isWebp(webp)) throw new ImageFormatError('not a WebP file (no RIFF/WEBP header)');
  const chunks = riffChunks(webp).filter((c) => c.type !== 'VP8X' && c.type !== 'EXIF');
  const vp8l = chunks.find((c) => c.type === 'VP8L');
  // Alpha: an ALPH chunk (lossy), or VP8L's alpha_is_used bit (bit 28 of the 32 bits after its signature byte).
  const alpha = chunks.some((c) => c.type === 'ALPH') || (vp8l !== undefined && vp8l.data.length >= 5 && (vp8l.data[4]! & 0x10) !== 0);
  const vp8x = new Uint8Array(10);
  vp8x[0] = 0x08 | (alpha ? 0x10 : 0); // EXIF, alpha
  const w = width - 1;
  const h = height - 1;
  vp8x.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 4);
  const body = concatBytes([Uint8Array.from('WEBP', (c) => c.charCodeAt(0)), riffChunk('VP8X', vp8x), ...chunks.map((c) => riffChunk(c.type, c.data)), riffChunk('EXIF', userCommentTiff(text))]);
  const header = new Uint8Array(8);
  header.set([0x52, 0x49, 0x46, 0x46]);
  new DataView(header.buffer).setUint32(4, body.length, true);
  return concatBytes([header, body]);
}

/**
 * The EXIF UserComment of a JPEG or WebP file (A1111's generation parameters), or undefined when there is none.
 *
 * @example
 * readUserComment(await readFile('cat.webp')); // 'a cat\nSteps: 1, Sampler: Euler, …'
 */
export function readUserComment(bytes: Uint8Array): string | undefined {
  if (isJpeg(bytes)) {
    for (let at = 2; at + 4 <= bytes.length; ) {
      if (bytes[at] !== 0xff) return undefined;
      const marker = bytes[at + 1]!;
      if (marker === 0xda || marker === 0xd9) return undefined; // image data: no more metadata segments
      const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      const data = bytes.subarray(at + 4, at + 2 + length);
      if (marker === 0xe1 && EXIF_HEADER.every((b, i) => data[i] === b)) {
        const text = tiffUserComment(data.subarray(6));
        if (text !== undefined) return text;
      }
      at += 2 + length;
    }
    return undefined;
  }
  if (isWebp(bytes)) {
    const exif = riffChunks(bytes).find((c) => c.type === 'EXIF');
    if (!exif) return undefined;
    // Some writers (Pillow given piexif's bytes, as A1111 does) keep the "Exif\0\0" prefix; the spec has none.
    const tiff = EXIF_HEADER.every((b, i) => exif.data[i] === b) ? exif.data.subarray(6) : exif.data;
    return tiffUserComment(tiff);
  }
  throw new ImageFormatError('not a JPEG or WebP file');
}
