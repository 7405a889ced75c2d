/**
 * GPT-2's reversible byte-to-character table (`bytes_to_unicode` in transformers and `tokenizers`'
 * ByteLevel): printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
 * soft hyphen, ...) are shifted to U+0100.. so that no vocabulary entry contains whitespace or controls.
 */
function bytesToUnicode(): readonly string[] {
  const table: string[] = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return table;
}

/** `BYTE_TO_CHAR[b]` is the vocabulary character of byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = bytesToUnicode();

/**
 * Writes the UTF-8 bytes of `text` into `out` (which must hold `3 * text.length` bytes) and returns how many
 * were written. Lone surrogates become U+FFFD, as TextEncoder (and any Python str → bytes path) would have it.
 */
export function encodeUtf8Into(text: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          out[n++] = 0xf0 | (cp >> 18);
          out[n++] = 0x80 | ((cp >> 12) & 0x3f);
          out[n++] = 0x80 | ((cp >> 6) & 0x3f);
          out[n++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}
