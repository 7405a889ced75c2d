import type { ByteSource } from '../interfaces.js';
import { checkRange } from './byte-sources.js';

/** The subset of `fetch` the source uses, so tests and hosts can pass their own. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RangedFetchOptions {
  /** Name used in error messages (default: the URL). */
  name?: string;
  /** Defaults to the global `fetch` (browsers, Node ≥ 18, Deno, workers). */
  fetch?: FetchLike;
  /** Extra request headers, e.g. `Authorization`. */
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
}

/**
 * A remote file read with HTTP Range requests: each `read` fetches exactly the bytes asked for, so one tensor of
 * a multi-gigabyte file costs one small request. Environment-neutral (only `fetch`).
 * The server must answer ranges with 206; a 200 would send the whole file and is refused. If the server sends
 * an ETag, every later answer must carry the same one, so a file replaced mid-read is an error, not a mix.
 *
 * @example
 * const source = await RangedFetchByteSource.open('https://huggingface.co/IDKiro/sdxs-512-0.9/resolve/main/vae/diffusion_pytorch_model.safetensors');
 * const file = await SafetensorsFile.open(source);
 */
export class RangedFetchByteSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly url: string;
  readonly #fetch: FetchLike;
  readonly #options: RangedFetchOptions;
  readonly #etag: string | null;

  private constructor(url: string, size: number, etag: string | null, options: RangedFetchOptions, fetchFn: FetchLike) {
    this.url = url;
    this.name = options.name ?? url;
    this.size = size;
    this.#etag = etag;
    this.#options = options;
    this.#fetch = fetchFn;
  }

  /** Learns the file's size (and ETag) with a one-byte range request. */
  static async open(url: string, options: RangedFetchOptions = {}): Promise<RangedFetchByteSource> {
    const fetchFn: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
    const name = options.name ?? url;
    const response = await fetchFn(url, requestInit(options, 'bytes=0-0'));
    await response.body?.cancel();
    let size: number | undefined;
    if (response.status === 206 || response.status === 416) {
      // 416 is what an empty file answers: "bytes */0".
      size = totalFromContentRange(response.headers.get('content-range'));
      if (size === undefined) size = await sizeFromHead(url, options, fetchFn);
    } else if (response.status === 200) {
      throw new Error(`${name}: the server ignored the Range request (HTTP 200); download the whole file instead`);
    } else {
      throw new Error(`${name}: HTTP ${response.status} ${response.statusText}`);
    }
    if (size === undefined) throw new Error(`${name}: the server did not say how large the file is`);
    return new RangedFetchByteSource(url, size, response.headers.get('etag'), options, fetchFn);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, this.size, offset, length);
    if (length === 0) return new Uint8Array(0);
    const response = await this.#fetch(this.url, requestInit(this.#options, `bytes=${offset}-${offset + length - 1}`));
    const whole = response.status === 200 && offset === 0 && length === this.size;
    if (response.status !== 206 && !whole) {
      await response.body?.cancel();
      throw new Error(`${this.name}: HTTP ${response.status} for bytes ${offset}-${offset + length - 1} (expected 206)`);
    }
    const etag = response.headers.get('etag');
    if (this.#etag !== null && etag !== null && stripWeak(etag) !== stripWeak(this.#etag)) {
      await response.body?.cancel();
      throw new Error(`${this.name}: the file changed while it was being read (ETag ${this.#etag} became ${etag})`);
    }
    const range = response.headers.get('content-range');
    const start = range === null ? undefined : /^bytes (\d+)-/.exec(range)?.[1];
    if (start !== undefined && Number(start) !== offset) {
      await response.body?.cancel();
      throw new Error(`${this.name}: asked for bytes from ${offset}, the server sent ${range}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length !== length) {
      throw new Error(`${this.name}: asked for ${length} bytes at ${offset}, the server sent ${bytes.length}`);
    }
    return bytes;
  }
}

function requestInit(options: RangedFetchOptions, range: string): RequestInit {
  const init: RequestInit = { headers: { ...options.headers, Range: range } };
  if (options.signal) init.signal = options.signal;
  return init;
}

/** The total of a `Content-Range: bytes a-b/total` (or `bytes *\/total`) header, if present and exact. */
function totalFromContentRange(header: string | null): number | undefined {
  const total = header === null ? undefined : /\/(\d+)\s*$/.exec(header)?.[1];
  const size = total === undefined ? NaN : Number(total);
  return Number.isSafeInteger(size) ? size : undefined;
}

// Content-Range is not CORS-safelisted, Content-Length is: a cross-origin page may see only the latter.
async function sizeFromHead(url: string, options: RangedFetchOptions, fetchFn: FetchLike): Promise<number | undefined> {
  const init: RequestInit = { method: 'HEAD', headers: { ...options.headers } };
  if (options.signal) init.signal = options.signal;
  const response = await fetchFn(url, init);
  const length = response.ok ? response.headers.get('content-length') : null;
  const size = length === null || !/^\d+$/.test(length.trim()) ? NaN : Number(length);
  return Number.isSafeInteger(size) ? size : undefined;
}

function stripWeak(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag;
}
