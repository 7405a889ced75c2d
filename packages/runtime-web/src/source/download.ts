import type { FetchLike } from '@sdxs/tensor';
import type { FileStore } from './file-store.js';

/** Download progress of one model file. */
export interface DownloadProgress {
  /** Path inside the model folder, e.g. `unet/diffusion_pytorch_model.safetensors`. */
  readonly file: string;
  readonly loaded: number;
  /** Bytes expected, when the server says. */
  readonly total: number | undefined;
  /** The last event of the file: it is stored (or was already: `cached`). */
  readonly done: boolean;
  readonly cached: boolean;
}

export type DownloadProgressCallback = (progress: DownloadProgress) => void;

/** A downloaded file whose size or SHA-256 is not what the server promised; nothing was stored. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

export interface DownloadOptions {
  readonly file: string;
  readonly fetch: FetchLike;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Size learned earlier (from a range request); the download must match it. */
  readonly size?: number;
  /** Expected SHA-256 (hex); when known the file is checked before it is stored under its URL. */
  readonly sha256?: string;
  readonly onProgress?: DownloadProgressCallback;
  /** Minimum milliseconds between progress events of one file (default 100). */
  readonly progressInterval?: number;
}

/**
 * A hex SHA-256 the server vouches for: `X-Linked-Etag`, the LFS oid Hugging Face's own endpoint sends with a file.
 * A plain ETag is not trusted even when it is 64 hex digits: CDNs put other hashes there. (Through a redirect — as
 * `resolve` URLs answer — the browser shows only the CDN's headers, so pass `sha256` to check those files.)
 */
export function advertisedSha256(headers: Headers): string | undefined {
  const m = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(headers.get('x-linked-etag')?.trim() ?? '');
  return m?.[1]?.toLowerCase();
}

function contentLength(headers: Headers): number | undefined {
  const v = headers.get('content-length');
  const n = v !== null && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  // Content-Length of a compressed answer counts compressed bytes: not the file's size.
  return Number.isSafeInteger(n) && !headers.get('content-encoding') ? n : undefined;
}

async function sha256Hex(blob: Blob): Promise<string> {
  const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;
  if (!subtle) throw new IntegrityError('cannot check the SHA-256: crypto.subtle is missing (an insecure origin?)');
  // WebCrypto has no streaming digest: the file is read into memory once, here.
  const digest = new Uint8Array(await subtle.digest('SHA-256', await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * GET `url` into `store`, reporting progress, and return the stored Blob. The byte count is checked against
 * the size the server announced; with a known SHA-256 the file is stored under a temporary key, hashed, and
 * only then stored under its URL, so the URL's entry is always a whole, verified file.
 *
 * @example
 * const blob = await downloadToStore('https://…/unet/diffusion_pytorch_model.safetensors', store, { file: 'unet/…', fetch });
 */
export async function downloadToStore(url: string, store: FileStore, options: DownloadOptions): Promise<Blob> {
  const init: RequestInit = { headers: { ...options.headers } };
  if (options.signal) init.signal = options.signal;
  const response = await options.fetch(url, init);
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  const announced = contentLength(response.headers);
  if (options.size !== undefined && announced !== undefined && announced !== options.size) {
    await response.body.cancel();
    throw new IntegrityError(`${url}: the server announced ${announced} bytes, but the file has ${options.size}`);
  }
  const total = options.size ?? announced;
  const sha256 = options.sha256 ?? advertisedSha256(response.headers);
  const interval = options.progressInterval ?? 100;
  let loaded = 0;
  let last = -Infinity;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        loaded += chunk.length;
        if (total !== undefined && loaded > total) {
          controller.error(new IntegrityError(`${url}: more than the ${total} bytes announced`));
          return;
        }
        controller.enqueue(chunk);
        const now = Date.now();
        if (now - last >= interval) {
          last = now;
          options.onProgress?.({ file: options.file, loaded, total, done: false, cached: false });
        }
      },
      flush(controller) {
        // Erroring here makes the store's put reject: a short file is never committed.
        if (total !== undefined && loaded !== total) controller.error(new IntegrityError(`${url}: got ${loaded} of ${total} bytes`));
      },
    }),
  );
  let blob: Blob;
  if (sha256 === undefined) {
    blob = await store.put(url, counted);
  } else {
    const temporary = `${url}${url.includes('?') ? '&' : '?'}sdxs-incomplete=${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
    try {
      const staged = await store.put(temporary, counted);
      const actual = await sha256Hex(staged);
      if (actual !== sha256) throw new IntegrityError(`${url}: SHA-256 is ${actual}, expected ${sha256}`);
      blob = await store.put(url, staged.stream());
    } finally {
      await store.delete(temporary).catch(() => undefined);
    }
  }
  options.onProgress?.({ file: options.file, loaded, total: total ?? loaded, done: true, cached: false });
  return blob;
}
