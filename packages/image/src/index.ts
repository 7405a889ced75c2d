// @sdxs/image: images in and out of sdxs, the same in Node and the browser — PNG (read and write, with the
// generation parameters in text chunks as A1111 writes them), JPEG and WebP out.
export { crc32 } from './png/crc32.js';
export { encodeChunk, isPng, PNG_SIGNATURE, PngError, readChunks, type PngChunk } from './png/chunks.js';
export { encodePng, type EncodePngOptions, type RgbaImage } from './png/encode.js';
export { decodePng, DEFAULT_MAX_PIXELS, readPngText, type DecodedPng, type DecodePngOptions } from './png/decode.js';
export { decodeTextChunk, encodeTextChunk, MAX_TEXT_BYTES } from './png/text.js';
export { a1111Parameters, MAX_METADATA_PROMPT, samplerName, sdxsParameters, type ImageLora, type ImageParameters, type ImageSdxlParameters } from './parameters.js';
export { deflate, inflate, InflateLimitError } from './zlib.js';
export { encodeJpeg, encodeWebp, type EncodeJpegOptions, type EncodeWebpOptions } from './encoders.js';
export { ImageFormatError, jpegWithComment, MAX_JPEG_COMMENT_CHARS, readUserComment, userCommentTiff, webpWithComment } from './exif.js';
export { decodeImage, imageInfo, type DecodedImage, type DecodeImageOptions, type ImageFormat, type ImageInfo } from './image-file.js';
