import type { ByteSource } from '../interfaces.js';

/** Throws a RangeError unless [offset, offset + length) is a valid range of a `size`-byte source. */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`${name}: read of ${length} bytes at ${offset} is outside the ${size}-byte source`);
  }
}

export interface ArrayBufferByteSourceOptions {
  /** Name used in error messages (default `memory`). */
  name?: string;
  /**
   * Return views into the buffer instead of copies (default false). Saves memory when loading a whole file that
   * was fetched into memory, but tensors read this way alias the buffer and each other.
   */
  noCopy?: boolean;
}

/**
 * Bytes already in memory (a fetched file, a test fixture) as a {@link ByteSource}. Works in every environment.
 *
 * @example
 * const file = await SafetensorsFile.open(new ArrayBufferByteSource(await (await fetch(url)).arrayBuffer()));
 */
export class ArrayBufferByteSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly #bytes: Uint8Array;
  readonly #noCopy: boolean;

  constructor(data: ArrayBufferLike | ArrayBufferView, options: ArrayBufferByteSourceOptions = {}) {
    this.#bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    this.name = options.name ?? 'memory';
    this.size = this.#bytes.length;
    this.#noCopy = options.noCopy ?? false;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, this.size, offset, length);
    // A copy owns a fresh, aligned buffer; a view shares (and may be misaligned, which the reader handles).
    return this.#noCopy ? this.#bytes.subarray(offset, offset + length) : this.#bytes.slice(offset, offset + length);
  }
}
