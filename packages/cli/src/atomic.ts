// Output files appear whole or not at all: written to a private temporary file beside the target, flushed,
// then renamed over it (rename is atomic within a file system), so a crash or a full disk never leaves a
// half-written image where a user or another program will look.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError } from './errors.js';

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

/**
 * Check, before any work, that `path` (a file to write, or a folder to write into) can be written: its nearest
 * existing ancestor is a folder this process may write in (the missing folders below it are created later). The
 * error names the path as the user gave it (`flag` and `given`), not a temporary file.
 *
 * @example
 * await checkWritable('/tmp/out/cat.png', '--out', 'out/cat.png');
 */
export async function checkWritable(path: string, flag: string, given: string): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) return checkFolder(path, flag, given);
  let dir = dirname(path);
  for (;;) {
    const s = await stat(dir).catch((e: unknown) => e as NodeJS.ErrnoException);
    if (!(s instanceof Error)) {
      if (!s.isDirectory()) throw new CliError(`${flag} ${given}: ${dir} is a file, not a folder`, 'give a path in a folder');
      return checkFolder(dir, flag, given);
    }
    if (s.code !== 'ENOENT' && s.code !== 'ENOTDIR') throw new CliError(`${flag} ${given}: cannot use ${dir} (${s.code ?? s.message})`, 'check the output path');
    const up = dirname(dir);
    if (up === dir) throw new CliError(`${flag} ${given}: no folder of it exists`, 'check the output path');
    dir = up;
  }
}

async function checkFolder(dir: string, flag: string, given: string): Promise<void> {
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EACCES';
    throw new CliError(`${flag} ${given}: cannot write in ${dir} (${code === 'EROFS' ? 'read-only file system' : 'permission denied'})`, 'check the permissions of the output path');
  }
}

/**
 * {@link writeFileAtomic}, its failures naming `path` (the user's file), not the temporary one.
 *
 * @example
 * await writeOutput('cat.png', png);
 */
export async function writeOutput(path: string, data: Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot write ${path}${code ? ` (${code})` : ''}`, code === 'ENOSPC' ? 'free some disk space' : 'check the permissions of the output path', { cause: e });
  }
}
