// Node-only entry: file-backed byte sources and safetensors files on disk.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ByteSource } from './interfaces.js';
import { checkRange } from './safetensors/byte-sources.js';
import { SafetensorsError } from './safetensors/errors.js';
import { SafetensorsFile, type ReadAllOptions } from './safetensors/reader.js';
import { planSafetensors, type NamedTensors } from './safetensors/writer.js';
import type { Tensor } from './tensor.js';

// Node refuses single reads and writes over 2 GiB − 1; stay well below.
const MAX_IO_BYTES = 1 << 30;

/**
 * A file on disk as a {@link ByteSource}: positioned reads on one open handle, each into a freshly allocated,
 * aligned buffer that becomes the tensor's storage (no second copy). Symlinks are followed. Reads may overlap.
 *
 * @example
 * const source = await FileByteSource.open('unet/diffusion_pytorch_model.safetensors');
 */
export class FileByteSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly #handle: FileHandle;
  #closed = false;

  private constructor(name: string, handle: FileHandle, size: number) {
    this.name = name;
    this.#handle = handle;
    this.size = size;
  }

  /** Opens `path` for reading; fails unless it is (a symlink to) a regular file. */
  static async open(path: string): Promise<FileByteSource> {
    const handle = await open(path, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
      return new FileByteSource(path, handle, stat.size);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, this.size, offset, length);
    if (this.#closed) throw new Error(`${this.name}: read after close`);
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#handle.read(bytes, done, Math.min(length - done, MAX_IO_BYTES), offset + done);
      if (bytesRead === 0) throw new Error(`${this.name}: file ends at ${offset + done}, before ${offset + length} (truncated while open?)`);
      done += bytesRead;
    }
    return bytes;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

/**
 * Opens a safetensors file on disk and validates its header; tensors are then read one by one on demand.
 *
 * @example
 * const file = await openSafetensorsFile('vae/diffusion_pytorch_model.safetensors');
 * try { const w = await file.read('decoder.conv_in.weight'); } finally { await file.close(); }
 */
export async function openSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let source: FileByteSource;
  try {
    source = await FileByteSource.open(path);
  } catch (cause) {
    throw ioError(path, 'cannot open', cause);
  }
  return SafetensorsFile.open(source);
}

/**
 * Reads every tensor and the metadata of a safetensors file on disk, then closes it: the whole-model fast path
 * (few large positioned reads, overlapped, tensors as views of the buffers read).
 */
export async function loadSafetensorsFile(
  path: string,
  options?: ReadAllOptions,
): Promise<{ tensors: Map<string, Tensor>; metadata: Readonly<Record<string, string>> }> {
  const file = await openSafetensorsFile(path);
  try {
    return { tensors: await file.readAll(options), metadata: file.metadata };
  } finally {
    await file.close();
  }
}

/**
 * Writes tensors (and string metadata) to `path` atomically: a temporary file in the same folder is written,
 * flushed to disk and renamed over `path`, so readers see the old file or the complete new one, never a part.
 * On any error the temporary file is removed and `path` is untouched.
 *
 * @example
 * await writeSafetensorsFile('out/model.safetensors', { 'conv.weight': w }, { format: 'pt' });
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: NamedTensors,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const layout = planSafetensors(tensors, metadata, path); // validate before touching the disk
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
    await writeAll(handle, layout.header, 0);
    for (const t of layout.tensors) await writeAll(handle, t.bytes, t.byteOffset);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw ioError(path, 'cannot write', cause);
  }
  await syncDirectory(dirname(target));
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.length - done, MAX_IO_BYTES), position + done);
    if (bytesWritten === 0) throw new Error(`wrote nothing at ${position + done}`);
    done += bytesWritten;
  }
}

// Makes the rename itself durable. Best effort: some platforms (Windows) cannot open a directory.
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // The file is complete either way; only its survival of a power cut is at stake.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function ioError(path: string, what: string, cause: unknown): SafetensorsError {
  if (cause instanceof SafetensorsError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SafetensorsError('io', path, `${what}: ${message}`, { cause });
}
