import type { ByteSource } from '@sdxs/tensor';

/**
 * A Blob as a ByteSource. Blobs from Cache Storage are backed by disk in browsers, so reading one tensor with
 * `slice()` costs that tensor's bytes only: a multi-gigabyte weight file never has to sit in the JS heap.
 *
 * @example
 * const source = new BlobByteSource(await (await caches.match(url))!.blob(), url);
 */
export class BlobByteSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly #blob: Blob;

  constructor(blob: Blob, name: string) {
    this.#blob = blob;
    this.name = name;
    this.size = blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} is outside the ${this.size}-byte file`);
    }
    const bytes = new Uint8Array(await this.#blob.slice(offset, offset + length).arrayBuffer());
    if (bytes.length !== length) throw new Error(`${this.name}: asked for ${length} bytes at ${offset}, read ${bytes.length}`);
    return bytes;
  }
}
