/**
 * An HTTP server as a FetchLike, over files in memory: GET, HEAD and single byte ranges, strong ETags, and
 * switches for the misbehaviour the sources must survive (ignored ranges, short bodies, changed files).
 */
import type { FetchLike } from '@sdxs/tensor';

export interface FakeServerOptions {
  /** Answer Range requests with the whole file (200), as some static hosts do. */
  ignoreRanges?: boolean;
  /** Send only this many bytes of whole-file bodies (the connection drops). */
  truncateTo?: number;
  /** Extra headers on every answer. */
  headers?: Record<string, string>;
  /** Refuse HEAD with 405. */
  noHead?: boolean;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
}

export class FakeServer {
  readonly files = new Map<string, Uint8Array<ArrayBuffer>>();
  readonly log: LoggedRequest[] = [];
  options: FakeServerOptions;
  readonly origin = 'https://models.test';

  constructor(files: Record<string, Uint8Array | string>, options: FakeServerOptions = {}) {
    for (const [k, v] of Object.entries(files)) this.files.set(k, typeof v === 'string' ? new TextEncoder().encode(v) : new Uint8Array(v));
    this.options = options;
  }

  get fetch(): FetchLike {
    return (url, init) => this.#answer(url, init);
  }

  count(filter: (r: LoggedRequest) => boolean = () => true): number {
    return this.log.filter(filter).length;
  }

  async #answer(url: string, init: RequestInit): Promise<Response> {
    const u = new URL(url);
    const path = decodeURIComponent(u.pathname);
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    const range = headers.get('range') ?? undefined;
    this.log.push({ method, path, range });
    const file = u.origin === this.origin ? this.files.get(path) : undefined;
    const common = { ...this.options.headers };
    if (!file) return new Response('not found', { status: 404, headers: common });
    const etag = `"${file.length}-${file[0] ?? 0}"`;
    if (method === 'HEAD') {
      if (this.options.noHead) return new Response(null, { status: 405 });
      return new Response(null, { status: 200, headers: { etag, ...common, 'content-length': String(file.length) } });
    }
    const m = range && !this.options.ignoreRanges ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(Number(m[2]), file.length - 1);
      if (start >= file.length) return new Response(null, { status: 416, headers: { ...common, 'content-range': `bytes */${file.length}` } });
      return new Response(file.slice(start, end + 1), { status: 206, headers: { etag, ...common, 'content-range': `bytes ${start}-${end}/${file.length}` } });
    }
    const body = this.options.truncateTo !== undefined ? file.slice(0, this.options.truncateTo) : file;
    return new Response(body, { status: 200, headers: { etag, ...common, 'content-length': String(file.length) } });
  }
}

/** A Cache (the Cache Storage API's) in memory, as far as the stores use it. */
export class FakeCache {
  readonly entries = new Map<string, Blob>();

  async match(request: string): Promise<Response | undefined> {
    const blob = this.entries.get(request);
    return blob ? new Response(blob) : undefined;
  }

  async put(request: string, response: Response): Promise<void> {
    // Like Cache.put: the entry appears only once the whole body has been read.
    const blob = await response.blob();
    this.entries.set(request, blob);
  }

  async delete(request: string): Promise<boolean> {
    return this.entries.delete(request);
  }
}
