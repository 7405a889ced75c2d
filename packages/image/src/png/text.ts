// PNG text chunks (PNG spec §11.3.4): tEXt holds Latin-1, iTXt UTF-8, zTXt compressed Latin-1.
import { concatBytes, inflate, latin1Bytes, latin1Text } from '../zlib.js';
import { encodeChunk, PngError, type PngChunk } from './chunks.js';

/** Longest text a chunk may inflate to when read (compressed text is a bomb like any other). */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

function checkKeyword(keyword: string): void {
  // 1–79 printable Latin-1 characters, no leading, trailing or double spaces (§11.3.4.2); ASCII is enough here.
  if (!/^[\x21-\x7e](?:[\x21-\x7e]| (?! ))*$/.test(keyword) || keyword.length > 79 || keyword.endsWith(' ')) {
    throw new TypeError(`PNG text keyword ${JSON.stringify(keyword)} must be 1–79 printable ASCII characters`);
  }
}

/**
 * A text chunk for `keyword`: tEXt when the text is Latin-1, else iTXt (UTF-8) — what Pillow's
 * `PngInfo.add_text` writes, so readers of A1111's `parameters` find either. NUL characters, which neither
 * chunk may hold, are dropped.
 *
 * @example
 * encodeTextChunk('parameters', 'a cat\nSteps: 1, Seed: 42');
 */
export function encodeTextChunk(keyword: string, text: string): Uint8Array {
  checkKeyword(keyword);
  const clean = text.replaceAll('\0', '');
  const key = latin1Bytes(keyword);
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u00ff]*$/.test(clean)) return encodeChunk('tEXt', concatBytes([key, Uint8Array.of(0), latin1Bytes(clean)]));
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, text.
  return encodeChunk('iTXt', concatBytes([key, Uint8Array.of(0, 0, 0, 0, 0), new TextEncoder().encode(clean)]));
}

function inflateText(data: Uint8Array, type: string): Uint8Array {
  try {
    return inflate(data, MAX_TEXT_BYTES);
  } catch (e) {
    throw new PngError(`corrupt PNG: ${type} text does not inflate (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Keyword and text of a tEXt, zTXt or iTXt chunk; undefined for other chunk types. */
export function decodeTextChunk(chunk: PngChunk): { keyword: string; text: string } | undefined {
  const { type, data } = chunk;
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return undefined;
  const nul = data.indexOf(0);
  if (nul < 1) throw new PngError(`corrupt PNG: ${type} chunk without a keyword`);
  const keyword = latin1Text(data.subarray(0, nul));
  const rest = data.subarray(nul + 1);
  if (type === 'tEXt') return { keyword, text: latin1Text(rest) };
  if (type === 'zTXt') return { keyword, text: latin1Text(inflateText(rest.subarray(1), type)) };
  const compressed = rest[0] === 1;
  const language = rest.indexOf(0, 2);
  const translated = language < 0 ? -1 : rest.indexOf(0, language + 1);
  if (rest.length < 2 || translated < 0) throw new PngError('corrupt PNG: truncated iTXt chunk');
  const body = rest.subarray(translated + 1);
  return { keyword, text: new TextDecoder().decode(compressed ? inflateText(body, type) : body) };
}
