/**
 * Serving local model folders to the page: `/models/<name>/<path>` → a file of a diffusers folder on disk, with
 * HEAD and single Range requests (the browser's UrlModelSource reads safetensors headers by range). Paths go
 * through @sdxs/runtime-node's LocalFolderSource, so the repository's rules hold: `..`, absolute and encoded
 * escapes are refused (403). A symlink is followed only where it stays in bounds (RELIABILITY item 24): inside the
 * folder, into its Hugging Face repo's `blobs/` (a snapshot's files are links there), or under a `linkRoots` folder
 * the caller names; any other link is a 403. Cross-site requests are refused.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalFolderSource } from '@sdxs/runtime-node';

export type Next = (error?: unknown) => void;

const TYPES: Record<string, string> = { json: 'application/json', txt: 'text/plain; charset=utf-8', md: 'text/markdown; charset=utf-8' };

/** A parsed `Range: bytes=a-b` header against a file size: the range, 'invalid' (→ 416), or undefined (no header). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || start >= size) return 'invalid';
  return { start, end };
}

function relativePath(urlPath: string): string | undefined {
  // Decode each segment on its own: an encoded '/' or '\' inside a segment is an escape attempt, not a folder.
  const segments: string[] = [];
  for (const raw of urlPath.split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (s.includes('/') || s.includes('\\') || s.includes('\0')) return undefined;
    segments.push(s);
  }
  return segments.join('/');
}

/**
 * A connect middleware serving `folders` (name → directory) under `/models/`.
 *
 * @example
 * server.middlewares.use(modelFolderMiddleware({ sdxs: '/data/sdxs-512-dreamshaper' }));
 */
export function modelFolderMiddleware(folders: Readonly<Record<string, string>>, options: ModelFolderOptions = {}) {
  const sources = new Map(Object.entries(folders).map(([name, dir]) => [name, { source: new LocalFolderSource(dir), roots: linkBounds(dir, options.linkRoots ?? []) }]));
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/models/')) return next();
    const m = /^\/models\/([^/]+)\/(.+)$/.exec(url.pathname);
    const served = m ? sources.get(m[1]!) : undefined;
    if (!m || !served) {
      // Not an HTML fallback page: a model folder that is not served is a plain 404.
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('no such model folder');
      return;
    }
    void serve(req, res, served.source, served.roots, m[2]!).catch((e: unknown) => {
      if (!res.headersSent) res.statusCode = 500;
      res.end(e instanceof Error ? e.message : String(e));
    });
  };
}

export interface ModelFolderOptions {
  /** Folders that symlinks in the served folders may point into, besides the folders themselves (e.g. golden data). */
  readonly linkRoots?: readonly string[];
}

/**
 * Where a folder's symlinks may lead, as real paths: the folder, its Hugging Face repo's blobs/ when it is a
 * snapshot (`…/models--org--name/snapshots/<rev>`), and the extra roots. Resolved once (lazily, on first use).
 */
function linkBounds(dir: string, extra: readonly string[]): () => Promise<string[]> {
  let bounds: Promise<string[]> | undefined;
  const real = (p: string) => realpath(p).catch(() => undefined);
  return () =>
    (bounds ??= (async () => {
      const roots = [dir, ...extra];
      if (basename(dirname(dir)) === 'snapshots') roots.push(join(dirname(dirname(dir)), 'blobs'));
      return (await Promise.all(roots.map(real))).filter((p): p is string => p !== undefined);
    })());
}

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function serve(req: IncomingMessage, res: ServerResponse, source: LocalFolderSource, bounds: () => Promise<string[]>, urlPath: string): Promise<void> {
  const reply = (status: number, text: string): void => {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(text);
  };
  if (req.headers['sec-fetch-site'] === 'cross-site') return reply(403, 'cross-site requests are refused');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return reply(405, 'method not allowed');
  }
  const rel = relativePath(urlPath);
  let file: string;
  try {
    if (rel === undefined) throw new Error('bad path');
    file = source.path(rel);
  } catch {
    return reply(403, 'forbidden path');
  }
  // A symlink that leads out of bounds is an escape, whatever its name inside the folder.
  const target = await realpath(file).catch(() => undefined);
  if (target !== undefined && !(await bounds()).some((root) => within(target, root))) return reply(403, 'forbidden path: a link leaves the model folder');
  let size: number;
  let etag: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) return reply(404, 'not found');
    size = st.size;
    etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  } catch {
    return reply(404, 'not found');
  }
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Content-Type', TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream');
  const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, size);
  if (range === 'invalid') {
    res.setHeader('Content-Range', `bytes */${size}`);
    return reply(416, 'range not satisfiable');
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  res.statusCode = range ? 206 : 200;
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  res.setHeader('Content-Length', String(size === 0 ? 0 : end - start + 1));
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file, { start, end });
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
