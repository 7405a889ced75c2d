export { crc32 } from './crc32.js';
export { encodeChunk, isPng, PNG_SIGNATURE, PngError, readChunks, type PngChunk } from './chunks.js';
export { encodePng, type EncodePngOptions, type RgbaImage } from './encode.js';
export { decodePng, DEFAULT_MAX_PIXELS, readPngText, type DecodedPng, type DecodePngOptions } from './decode.js';
export { decodeTextChunk, encodeTextChunk, MAX_TEXT_BYTES } from './text.js';
export { a1111Parameters, MAX_METADATA_PROMPT, samplerName, sdxsParameters, type ImageParameters } from './parameters.js';
