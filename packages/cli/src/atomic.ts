// Output files appear whole or not at all: written to a private temporary file beside the target, flushed,
// then renamed over it (rename is atomic within a file system), so a crash or a full disk never leaves a
// half-written image where a user or another program will look.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from '@sdxs/tensor';
import { basename, dirname, join } from 'node:path';
import { CliError, errnoCode } from './errors.js';

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
  await atomically(path, (handle) => handle.writeFile(data));
}

/** Run `write` on a private temporary file beside `path`, flush it and rename it over `path`; on failure remove it. */
async function atomically(path: string, write: (handle: FileHandle) => Promise<unknown>): Promise<void> {
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await write(handle);
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

/**
 * Whether `path` is an empty folder: true, false (a file or a non-empty folder), undefined (absent).
 *
 * @example
 * if ((await isEmptyDir(out)) === false && !force) throw new UsageError('--out exists');
 */
export async function isEmptyDir(path: string): Promise<boolean | undefined> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
    return (await readdir(path)).length === 0;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Move the finished folder into place: a rename when `out` is absent (or empty); with --force the old one goes last.
 *
 * @example
 * await publish(stage, out, await isEmptyDir(out));
 */
export async function publish(stage: string, out: string, empty: boolean | undefined): Promise<void> {
  if (empty === undefined) return rename(stage, out);
  if (empty) {
    await rm(out, { recursive: true });
    return rename(stage, out);
  }
  const old = `${stage}.old`;
  await rename(out, old);
  try {
    await rename(stage, out);
  } catch (e) {
    await rename(old, out).catch(() => undefined);
    throw e;
  }
  await rm(old, { recursive: true, force: true });
}

/**
 * Stream `bytes` into `path` atomically (temporary file in 64 MiB chunks, fsync, rename), for files too large to
 * hold in memory (a checkpoint planned over other files).
 *
 * @example
 * await streamFileAtomic('model.safetensors', virtualSafetensors('model.safetensors', tensors));
 */
export async function streamFileAtomic(path: string, bytes: ByteSource): Promise<void> {
  const chunk = 64 * 1024 * 1024;
  await atomically(path, async (handle) => {
    for (let at = 0; at < bytes.size; at += chunk) await handle.write(await bytes.read(at, Math.min(chunk, bytes.size - at)));
  });
}
