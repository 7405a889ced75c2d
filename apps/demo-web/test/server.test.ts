import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy, securityHeaders } from '../src/server/headers.js';
import { modelFolderMiddleware, parseRange } from '../src/server/model-folder.js';

describe('parseRange', () => {
  it('reads single ranges, suffixes and open ends, and refuses the rest', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-7', 10)).toEqual({ start: 0, end: 7 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 });
    for (const bad of ['bytes=10-12', 'bytes=5-2', 'bytes=-', 'bytes=0-1,3-4', 'items=0-1', 'bytes=a-b']) expect(parseRange(bad, 10), bad).toBe('invalid');
  });
});

describe('security headers', () => {
  it('allow WebAssembly but no eval, workers and scripts from our origin only, and isolate the page', () => {
    const csp = contentSecurityPolicy();
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("worker-src 'self'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).not.toContain("'unsafe-inline'");
    expect(contentSecurityPolicy({ dev: true })).toContain("style-src 'self' 'unsafe-inline'");
    expect(contentSecurityPolicy({ dev: true })).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(securityHeaders()).toMatchObject({ 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
  });
});

describe('modelFolderMiddleware', () => {
  let root: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sdxs-demo-test-'));
    const folder = join(root, 'model');
    mkdirSync(join(folder, 'unet'), { recursive: true });
    writeFileSync(join(folder, 'model_index.json'), '{"a":1}');
    writeFileSync(join(root, 'blob'), Buffer.from('0123456789'));
    writeFileSync(join(root, 'secret.txt'), 'secret');
    // A link into a root the caller allows (as the golden folders link into the golden data): followed.
    symlinkSync(join(root, 'blob'), join(folder, 'unet', 'w.safetensors'));
    // A link out of the folder to anywhere else: refused (RELIABILITY item 24).
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(root, 'elsewhere', 'passwd'), 'root:x:0:0');
    symlinkSync(join(root, 'elsewhere', 'passwd'), join(folder, 'unet', 'config.json'));
    symlinkSync(join(root, 'elsewhere'), join(folder, 'vae'));
    // A Hugging Face cache: a snapshot's files link into the repo's blobs/ (followed), not beyond.
    const repo = join(root, 'hub', 'models--org--name');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(join(repo, 'snapshots', 'abc123', 'unet'), { recursive: true });
    writeFileSync(join(repo, 'blobs', 'e3b0c4'), '{"hf":1}');
    symlinkSync('../../../blobs/e3b0c4', join(repo, 'snapshots', 'abc123', 'unet', 'config.json'));
    symlinkSync(join(root, 'secret.txt'), join(repo, 'snapshots', 'abc123', 'model_index.json'));
    const middleware = modelFolderMiddleware({ sdxs: folder, hub: join(repo, 'snapshots', 'abc123') }, { linkRoots: [join(root, 'blob')] });
    server = createServer((req, res) =>
      middleware(req, res, () => {
        res.statusCode = 418;
        res.end('next');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves files, HEAD and ranges, following symlinks', async () => {
    const whole = await get('/models/sdxs/unet/w.safetensors');
    expect([whole.status, whole.body, whole.headers['accept-ranges']]).toEqual([200, '0123456789', 'bytes']);
    const part = await get('/models/sdxs/unet/w.safetensors', { Range: 'bytes=2-4' });
    expect([part.status, part.body, part.headers['content-range']]).toEqual([206, '234', 'bytes 2-4/10']);
    const head = await get('/models/sdxs/model_index.json', {}, 'HEAD');
    expect([head.status, head.body, head.headers['content-length'], head.headers['content-type']]).toEqual([200, '', '7', 'application/json']);
    expect((await get('/models/sdxs/unet/w.safetensors', { Range: 'bytes=20-30' })).status).toBe(416);
  });

  it('follows a snapshot\'s links into its repo\'s blobs/; refuses links that leave the folder for anywhere else (403)', async () => {
    expect(await get('/models/hub/unet/config.json')).toMatchObject({ status: 200, body: '{"hf":1}' });
    expect((await get('/models/hub/model_index.json')).status).toBe(403);
    expect(await get('/models/sdxs/unet/config.json')).toMatchObject({ status: 403, body: 'forbidden path: a link leaves the model folder' });
    expect((await get('/models/sdxs/vae/passwd')).status).toBe(403);
    expect((await get('/models/sdxs/unet/config.json', {}, 'HEAD')).status).toBe(403);
  });

  it('refuses escapes, other methods and cross-site requests; unknown folders are 404; other paths pass through', async () => {
    expect((await get('/models/sdxs/..%2Fsecret.txt')).status).toBe(403);
    expect((await get('/models/sdxs/unet%2F..%2F..%2Fsecret.txt')).status).toBe(403);
    expect((await get('/models/sdxs/..%5Csecret.txt')).status).toBe(403);
    expect((await get('/models/sdxs/%00')).status).toBe(403);
    expect((await get('/models/sdxs/missing.json')).status).toBe(404);
    expect((await get('/models/other/model_index.json')).status).toBe(404);
    expect((await get('/models/sdxs/model_index.json', {}, 'POST')).status).toBe(405);
    expect((await get('/models/sdxs/model_index.json', { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await get('/models/sdxs/model_index.json', { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect((await get('/index.html')).status).toBe(418);
  });
});
