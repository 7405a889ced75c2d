// A local stand-in for the Hugging Face hub and its LFS CDN (two servers on 127.0.0.1, so two origins), answering
// the way huggingface.co does for the calls huggingface_hub makes: the revision API, HEAD/GET on resolve URLs
// with X-Repo-Commit / ETag / X-Linked-Etag / X-Linked-Size, a 302 to the CDN for LFS files, Range requests.
// Every request is recorded, so tests can count them and check which carried the token.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  path: string;
  content: Uint8Array;
  /** Stored in LFS: the hub redirects to the CDN and the ETag is the sha256. */
  lfs?: boolean;
  /** Bytes actually sent instead of `content` (a corrupted or oversized transfer); metadata still describes `content`. */
  serve?: Uint8Array;
  /** Size announced in the listing and headers instead of the real one. */
  claimedSize?: number;
}

export interface FakeRepo {
  id: string;
  files: FakeFile[];
  private?: boolean;
  gated?: boolean;
  commit?: string;
}

/** How the server misbehaves when sending a file's bytes (applies to the next `times` GETs of it). */
export interface Behaviour {
  /** Stall once the file's bytes up to this offset are sent (the connection stays open); a resume past it stalls at once. */
  hangAt?: number;
  /** Send this many bytes, then drop the connection. */
  cutAfter?: number;
  /** Answer a Range request with 200 and the whole file, as some proxies do. */
  ignoreRange?: boolean;
  /** Write in chunks of this size with this pause between them. */
  chunkBytes?: number;
  chunkDelayMs?: number;
  times?: number;
}

export interface RecordedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export const TOKEN = 'hf_test_token';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function gitBlobId(data: Uint8Array): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

function sizeOf(f: FakeFile): number {
  return f.claimedSize ?? f.content.length;
}

function commitOf(repo: FakeRepo): string {
  return repo.commit ?? createHash('sha1').update(`commit ${repo.id}`).digest('hex');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  endpoint = '';
  cdn = '';
  /** HEAD requests on resolve URLs never answer. */
  hangHead = false;
  /** The revision API never answers. */
  hangApi = false;
  /** Old repo id → new one: resolve URLs of the old id answer with a relative redirect (a renamed repo). */
  readonly renames = new Map<string, string>();
  readonly #repos = new Map<string, FakeRepo>();
  readonly #behaviours = new Map<string, Behaviour>();
  readonly #hub = createServer((req, res) => this.#route('hub', req, res));
  readonly #cdnServer = createServer((req, res) => this.#route('cdn', req, res));

  static async start(repos: FakeRepo[]): Promise<FakeHub> {
    const hub = new FakeHub();
    for (const r of repos) hub.#repos.set(r.id, r);
    hub.endpoint = await listen(hub.#hub);
    hub.cdn = await listen(hub.#cdnServer);
    return hub;
  }

  commit(repoId: string): string {
    const repo = this.#repos.get(repoId);
    if (!repo) throw new Error(`no fake repo ${repoId}`);
    return commitOf(repo);
  }

  /** Misbehave when sending `path` (a repo path; LFS files are matched on the CDN by their hash). */
  behave(path: string, b: Behaviour): void {
    this.#behaviours.set(path, { times: Infinity, ...b });
  }

  count(filter: Partial<Pick<RecordedRequest, 'server' | 'method'>> & { pathIncludes?: string } = {}): number {
    return this.requests.filter(
      (r) =>
        (filter.server === undefined || r.server === filter.server) &&
        (filter.method === undefined || r.method === filter.method) &&
        (filter.pathIncludes === undefined || r.path.includes(filter.pathIncludes)),
    ).length;
  }

  async close(): Promise<void> {
    for (const s of [this.#hub, this.#cdnServer]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  #route(server: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    this.requests.push({ server, method: req.method ?? '', path: url.pathname + url.search, range: req.headers.range, authorization: auth });
    if (server === 'cdn') {
      const m = /^\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
      const found = m ? this.#findByHash(m[1] ?? '') : undefined;
      if (!found || url.searchParams.get('sig') !== 'signed') return this.#error(res, 403, 'SignatureDoesNotMatch');
      return this.#send(req, res, found, {});
    }
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(url.pathname);
    if (api) {
      if (this.hangApi) return;
      const repo = this.#access(res, decodeURIComponent(api[1] ?? ''), auth);
      if (!repo) return;
      const rev = decodeURIComponent(api[2] ?? '');
      if (rev !== 'main' && rev !== commitOf(repo)) return this.#error(res, 404, 'RevisionNotFound');
      const blobs = url.searchParams.get('blobs') === 'true';
      const siblings = repo.files.map((f) =>
        blobs
          ? { rfilename: f.path, size: sizeOf(f), blobId: this.#blobIdOf(f), ...(f.lfs ? { lfs: { sha256: sha256(f.content), size: sizeOf(f), pointerSize: 130 } } : {}) }
          : { rfilename: f.path },
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: repo.id, sha: commitOf(repo), siblings }));
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!resolve) return this.#error(res, 404, 'NotFound');
    const repoId = decodeURIComponent(resolve[1] ?? '');
    const renamed = this.renames.get(repoId);
    if (renamed) {
      res.writeHead(307, { location: `/${renamed}/resolve/${resolve[2]}/${resolve[3]}` });
      return void res.end();
    }
    if (req.method === 'HEAD' && this.hangHead) return;
    const repo = this.#access(res, repoId, auth);
    if (!repo) return;
    const rev = decodeURIComponent(resolve[2] ?? '');
    if (rev !== 'main' && rev !== commitOf(repo)) return this.#error(res, 404, 'RevisionNotFound');
    const path = (resolve[3] ?? '').split('/').map(decodeURIComponent).join('/');
    const file = repo.files.find((f) => f.path === path);
    if (!file) return this.#error(res, 404, 'EntryNotFound', { 'x-repo-commit': commitOf(repo) });
    const common = { 'x-repo-commit': commitOf(repo), 'accept-ranges': 'bytes' };
    if (file.lfs) {
      const sha = sha256(file.content);
      res.writeHead(302, {
        ...common,
        location: `${this.cdn}/blobs/${sha}?sig=signed`,
        etag: `"${this.#blobIdOf(file)}"`,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(sizeOf(file)),
        'content-length': '0',
      });
      return void res.end();
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...common, etag: `"${gitBlobId(file.content)}"`, 'content-length': String(sizeOf(file)) });
      return void res.end();
    }
    this.#send(req, res, file, { ...common, etag: `"${gitBlobId(file.content)}"` });
  }

  #blobIdOf(f: FakeFile): string {
    // An LFS file's git blob is its pointer; its id is not the content's.
    return f.lfs ? gitBlobId(text(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.content)}\nsize ${f.content.length}\n`)) : gitBlobId(f.content);
  }

  #findByHash(sha: string): FakeFile | undefined {
    for (const repo of this.#repos.values()) for (const f of repo.files) if (f.lfs && sha256(f.content) === sha) return f;
    return undefined;
  }

  #access(res: ServerResponse, repoId: string, auth: string | undefined): FakeRepo | undefined {
    const repo = this.#repos.get(repoId);
    const authorized = auth === `Bearer ${TOKEN}`;
    // Like the hub: a private repo looks like a missing one to those who may not see it.
    if (!repo || (repo.private && !authorized)) {
      this.#error(res, auth ? 404 : 401, 'RepoNotFound');
      return undefined;
    }
    if (repo.gated && !authorized) {
      this.#error(res, 403, 'GatedRepo');
      return undefined;
    }
    return repo;
  }

  #error(res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'x-error-code': code, 'x-error-message': `${code} (fake hub)`, ...headers });
    res.end();
  }

  #send(req: IncomingMessage, res: ServerResponse, file: FakeFile, headers: Record<string, string>): void {
    const body = file.serve ?? file.content;
    let b = this.#behaviours.get(file.path);
    if (b && (b.times ?? Infinity) > 0) b.times = (b.times ?? Infinity) - 1;
    else b = undefined;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range && !b?.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        return void res.end();
      }
      res.writeHead(206, { ...headers, 'content-length': String(body.length - start), 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    }
    const rest = body.subarray(start);
    const stopAt = Math.max(0, Math.min(rest.length, (b?.hangAt ?? Infinity) - start, b?.cutAfter ?? Infinity));
    const chunk = b?.chunkBytes ?? 64 * 1024;
    let sent = 0;
    const finish = (): void => {
      if (sent === rest.length) res.end();
      // Close the connection mid-body with a FIN (a reset could discard bytes the client has not read yet).
      else if (b?.cutAfter !== undefined) res.socket?.end();
      // else stall: leave the response open
    };
    const pump = (): void => {
      while (sent < stopAt) {
        const n = Math.min(chunk, stopAt - sent);
        const last = sent + n === stopAt;
        // Finish only once the last bytes have reached the socket.
        res.write(rest.subarray(sent, sent + n), last ? finish : undefined);
        sent += n;
        if (last) return;
        if (b?.chunkDelayMs) return void setTimeout(pump, b.chunkDelayMs);
      }
      finish();
    };
    pump();
  }
}
