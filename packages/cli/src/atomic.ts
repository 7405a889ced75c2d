// Output files appear whole or not at all: written to a private temporary file beside the target, flushed,
// then renamed over it (rename is atomic within a file system), so a crash or a full disk never leaves a
// half-written image where a user or another program will look.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The temporary name used for `path` (dot-prefixed, unique per call, in the same folder). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Write `data` to `path` atomically (temporary file, fsync, rename); on failure the temporary file is removed
 * and `path` is untouched.
 *
 * @example
 * await writeFileAtomic('out.png', encodePng(image));
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}
