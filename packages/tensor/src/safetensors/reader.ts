import { DTYPE_BYTES, typedArrayFrom } from '../dtype.js';
import type { ByteSource } from '../interfaces.js';
import { Tensor } from '../tensor.js';
import { SafetensorsError } from './errors.js';
import { LENGTH_PREFIX_BYTES, checkHeaderLength, parseHeader, type SafetensorsEntry } from './header.js';

export interface ReadAllOptions {
  /**
   * Neighbouring tensors are read together in requests of about this many bytes (default 64 MiB): few reads or
   * HTTP requests for many small tensors, while no single allocation grows with the file.
   */
  chunkBytes?: number;
  /** Reads in flight at once (default 4): a file handle reads in parallel on libuv's thread pool. */
  concurrency?: number;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;

/**
 * A safetensors file opened over any {@link ByteSource}: the header is read and validated once, then each tensor
 * is read on demand with one request for exactly its bytes.
 *
 * @example
 * const file = await SafetensorsFile.open(new ArrayBufferByteSource(bytes, 'model.safetensors'));
 * const w = await file.read('decoder.layers.0.weight'); // reads only this tensor's bytes
 * await file.close();
 */
export class SafetensorsFile {
  /** The source's name (a path or URL), used in every error. */
  readonly name: string;
  /** Total file size in bytes. */
  readonly size: number;
  /** The `__metadata__` map (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor, in the order of its data in the file. */
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly #source: ByteSource;
  #closed = false;

  private constructor(source: ByteSource, metadata: Readonly<Record<string, string>>, entries: readonly SafetensorsEntry[]) {
    this.#source = source;
    this.name = source.name;
    this.size = source.size;
    this.metadata = metadata;
    this.entries = new Map(entries.map((e) => [e.name, e]));
  }

  /**
   * Reads and validates the header. The file takes ownership of `source`: it closes it in {@link close}, or at
   * once if the header is invalid. Reads at most the file's size in total, never more than its header up front.
   */
  static async open(source: ByteSource): Promise<SafetensorsFile> {
    try {
      const { name, size } = source;
      if (!Number.isSafeInteger(size) || size < 0) throw new SafetensorsError('io', name, `byte source reports an invalid size ${size}`);
      if (size < LENGTH_PREFIX_BYTES) {
        throw new SafetensorsError('truncated', name, `file is ${size} bytes, too short for the 8-byte header length`);
      }
      const prefix = await readExactly(source, 0, LENGTH_PREFIX_BYTES);
      const headerLength = checkHeaderLength(name, prefix, size);
      const header = await readExactly(source, LENGTH_PREFIX_BYTES, headerLength);
      const { metadata, entries } = parseHeader(name, header, size);
      return new SafetensorsFile(source, metadata, entries);
    } catch (error) {
      await source.close?.().catch(() => undefined);
      throw error;
    }
  }

  /** Tensor names in file order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry for `name`; throws a `not-found` SafetensorsError if there is none. */
  entry(name: string): SafetensorsEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new SafetensorsError('not-found', this.name, 'no such tensor in the file', { tensor: name });
    return entry;
  }

  /** Reads one tensor with a single request for exactly its bytes; the tensor owns its data. */
  async read(name: string): Promise<Tensor> {
    const entry = this.entry(name);
    if (entry.byteLength === 0) return Tensor.zeros(entry.dtype, entry.shape);
    const bytes = await this.#read(entry.byteOffset, entry.byteLength, name);
    return tensorFrom(entry, bytes, 0);
  }

  /**
   * Reads every tensor, in file order: neighbouring tensors share one read (and one buffer), reads overlap, and
   * aligned tensors are views of the bytes read, not copies. The fast path for loading a whole model.
   */
  async readAll(options: ReadAllOptions = {}): Promise<Map<string, Tensor>> {
    const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
    const chunks = groupIntoChunks([...this.entries.values()], chunkBytes);
    const read = new Map<string, Tensor>();
    await forEachLimited(chunks, concurrency, async (chunk) => {
      const first = chunk[0]!;
      const last = chunk[chunk.length - 1]!;
      const start = first.byteOffset;
      const bytes = await this.#read(start, last.byteOffset + last.byteLength - start, chunk.length === 1 ? first.name : undefined);
      for (const entry of chunk) read.set(entry.name, tensorFrom(entry, bytes, entry.byteOffset - start));
    });
    const tensors = new Map<string, Tensor>();
    for (const entry of this.entries.values()) {
      tensors.set(entry.name, read.get(entry.name) ?? Tensor.zeros(entry.dtype, entry.shape));
    }
    return tensors;
  }

  /** Closes the byte source; later reads fail with a `closed` error. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#source.close?.();
  }

  async #read(offset: number, length: number, tensor: string | undefined): Promise<Uint8Array> {
    if (this.#closed) throw new SafetensorsError('closed', this.name, 'file is closed', tensor === undefined ? {} : { tensor });
    return readExactly(this.#source, offset, length, tensor);
  }
}

/** Reads from a source, turning any failure into a SafetensorsError and checking it kept its promise of length. */
async function readExactly(source: ByteSource, offset: number, length: number, tensor?: string): Promise<Uint8Array> {
  const options = tensor === undefined ? {} : { tensor };
  let bytes: Uint8Array;
  try {
    bytes = await source.read(offset, length);
  } catch (cause) {
    if (cause instanceof SafetensorsError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new SafetensorsError('io', source.name, `reading ${length} bytes at ${offset} failed: ${message}`, { ...options, cause });
  }
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new SafetensorsError('truncated', source.name, `asked for ${length} bytes at ${offset}, got ${bytes instanceof Uint8Array ? bytes.length : 'no bytes'}`, options);
  }
  return bytes;
}

/**
 * The tensor for `entry` whose bytes start at `at` in `bytes`. A view when the data is aligned to its element
 * size (no copy); otherwise a copy into a fresh buffer, since a misaligned typed-array view would throw.
 * Assumes a little-endian host, as safetensors data is little-endian (every platform JS runs on in practice).
 */
function tensorFrom(entry: SafetensorsEntry, bytes: Uint8Array, at: number): Tensor {
  const elementBytes = DTYPE_BYTES[entry.dtype];
  const count = entry.byteLength / elementBytes;
  const offset = bytes.byteOffset + at;
  const data =
    offset % elementBytes === 0
      ? typedArrayFrom(entry.dtype, bytes.buffer, offset, count)
      : typedArrayFrom(entry.dtype, bytes.slice(at, at + entry.byteLength).buffer, 0, count);
  return new Tensor(entry.dtype, entry.shape, data);
}

/** Splits file-ordered entries into runs of contiguous bytes of about `chunkBytes`; zero-size entries are left out. */
function groupIntoChunks(entries: readonly SafetensorsEntry[], chunkBytes: number): SafetensorsEntry[][] {
  const chunks: SafetensorsEntry[][] = [];
  let current: SafetensorsEntry[] = [];
  let start = 0;
  for (const entry of entries) {
    if (entry.byteLength === 0) continue;
    if (current.length > 0 && entry.byteOffset + entry.byteLength - start > chunkBytes) {
      chunks.push(current);
      current = [];
    }
    if (current.length === 0) start = entry.byteOffset;
    current.push(entry);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; stops starting new ones after a failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
