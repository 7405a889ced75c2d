/** Reading the images users name on the command line (--control, --init-image, sketch --watch): PNG, JPEG or WebP. */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MAX_SIDE } from '@sdxs/pipeline';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';
import { decodeImage, ImageFormatError, type DecodedImage } from '@sdxs/image';

/**
 * The pipeline resizes control images and refuses sides over MAX_SIDE anyway, so a larger input is a mistake;
 * the decoder checks this against the IHDR before inflating anything, so a decompression bomb fails fast.
 */
export const MAX_INPUT_PIXELS = MAX_SIDE * MAX_SIDE;

/** A compressed image of MAX_INPUT_PIXELS RGBA pixels is at most about this (a PNG's stored-block overhead is tiny). */
const MAX_INPUT_BYTES = MAX_INPUT_PIXELS * 4 + MAX_SIDE + 64 * 1024 * 1024;

/** Read and decode a PNG, JPEG or WebP file; a missing, oversized, corrupt or other file is a UsageError naming `flag`. */
export async function readImageFlag(command: string, flag: string, path: string, io: Pick<CliIO, 'cwd'>): Promise<DecodedImage> {
  const full = resolve(io.cwd, path);
  const st = await stat(full).catch((e: unknown) => {
    throw new UsageError(`${flag}: cannot read ${path} (${e instanceof Error ? e.message : String(e)})`, command);
  });
  if (!st.isFile()) throw new UsageError(`${flag}: ${path} is not a file`, command);
  if (st.size > MAX_INPUT_BYTES) throw new UsageError(`${flag}: ${path} is ${st.size} bytes, too large for an image of at most ${MAX_SIDE}×${MAX_SIDE}`, command);
  return decodeImageFile(command, flag, path, await readFile(full));
}

/** Decode `bytes`, wording an ImageFormatError as a usage error about `path`. */
export async function decodeImageFile(command: string, flag: string, path: string, bytes: Uint8Array): Promise<DecodedImage> {
  try {
    return await decodeImage(bytes, { maxPixels: MAX_INPUT_PIXELS });
  } catch (e) {
    if (e instanceof ImageFormatError) throw new UsageError(`${flag}: ${path}: ${e.message}`, command);
    throw e;
  }
}
