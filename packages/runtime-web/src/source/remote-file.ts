import type { ByteSource } from '@sdxs/tensor';

/** The reader's cap on a safetensors header (RELIABILITY item 1), plus the 8-byte length prefix. */
const MAX_HEADER_END = 8 + 100_000_000;

export interface RemoteFileParts {
  readonly name: string;
  readonly size: number;
  /** One HTTP Range request. */
  readonly range: (offset: number, length: number) => Promise<Uint8Array>;
  /** Download the whole file (into the cache); called at most once at a time. */
  readonly download: () => Promise<Blob>;
}

/**
 * A remote safetensors file that costs only its header until a tensor is read: reads inside the header
 * (what loading a pipeline and keying its graphs need) are served by Range requests — two per file, the
 * header is kept — and the first read of tensor data downloads the whole file once, after which every read
 * is a slice of the stored Blob. A pipeline can thus be loaded, inspected and keyed without fetching
 * gigabytes, and weights are fetched once, not tensor by tensor.
 */
export class RemoteFile implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly #parts: RemoteFileParts;
  #headerEnd: number | undefined;
  #prefix: Promise<Uint8Array> | undefined;
  #header: Promise<Uint8Array> | undefined;
  #blob: Promise<Blob> | undefined;

  constructor(parts: RemoteFileParts) {
    this.#parts = parts;
    this.name = parts.name;
    this.size = parts.size;
  }

  /** Whether the whole file has been asked for (downloading or stored). */
  get downloading(): boolean {
    return this.#blob !== undefined;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} is outside the ${this.size}-byte file`);
    }
    const end = offset + length;
    if (this.#blob === undefined && this.size >= 8) {
      if (end <= 8) return (await this.#readPrefix()).slice(offset, end);
      const headerEnd = this.#headerEnd ?? (this.#prefix ? (await this.#prefix, this.#headerEnd) : undefined);
      if (headerEnd !== undefined && end <= headerEnd) {
        this.#header ??= this.#parts.range(0, headerEnd);
        this.#header.catch(() => (this.#header = undefined));
        return (await this.#header).slice(offset, end);
      }
    }
    this.#blob ??= this.#parts.download();
    this.#blob.catch(() => (this.#blob = undefined));
    const bytes = new Uint8Array(await (await this.#blob).slice(offset, end).arrayBuffer());
    if (bytes.length !== length) throw new Error(`${this.name}: asked for ${length} bytes at ${offset}, read ${bytes.length}`);
    return bytes;
  }

  #readPrefix(): Promise<Uint8Array> {
    if (!this.#prefix) {
      const prefix = this.#parts.range(0, 8).then((bytes) => {
        const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
        const end = 8n + n;
        // Not a plausible safetensors header: every later read downloads the file instead.
        if (end <= BigInt(Math.min(this.size, MAX_HEADER_END))) this.#headerEnd = Number(end);
        return bytes;
      });
      prefix.catch(() => (this.#prefix = undefined));
      this.#prefix = prefix;
    }
    return this.#prefix;
  }
}
