import { describe, expect, it } from 'vitest';
import { encodeSafetensors, SafetensorsFile, Tensor } from '@sdxs/tensor';
import { CacheStorageFileStore, huggingFaceModelUrl, MemoryFileStore, UrlModelSource, type DownloadProgress } from '@sdxs/runtime-web';
import { FakeCache, FakeServer } from './_fake-server.js';

function weights(): Uint8Array {
  const a = new Tensor('float32', [64, 64], Float32Array.from({ length: 4096 }, (_, i) => i / 7));
  const b = new Tensor('float32', [8], Float32Array.from({ length: 8 }, (_, i) => -i));
  return encodeSafetensors({ 'layer.weight': a, 'layer.bias': b });
}

const BASE = 'https://models.test/repo/';

function server(options = {}) {
  return new FakeServer({ '/repo/model_index.json': '{"_class_name":"StableDiffusionPipeline"}', '/repo/unet/w.safetensors': weights() }, options);
}

describe('UrlModelSource', () => {
  it('answers exists and readText, and refuses paths that leave the folder', async () => {
    const s = server();
    const source = new UrlModelSource(BASE, { fetch: s.fetch });
    expect(source.id).toBe('https://models.test/repo');
    expect(await source.exists('model_index.json')).toBe(true);
    expect(await source.exists('missing.json')).toBe(false);
    expect(JSON.parse(await source.readText('model_index.json'))).toEqual({ _class_name: 'StableDiffusionPipeline' });
    for (const bad of ['../secret', 'a/../../b', '/etc/passwd', 'C:/x', 'a\\b', 'x?y=1', 'x#y', '', 'a//b', './a']) {
      expect(() => source.url(bad), bad).toThrow(/must stay inside the model folder/);
    }
    // Segments are percent-encoded: a name cannot smuggle a query or another folder in.
    expect(source.url('unet/a b%.json')).toBe(`${BASE}unet/a%20b%25.json`);
  });

  it('falls back to a one-byte range where HEAD is refused', async () => {
    const s = server({ noHead: true });
    const source = new UrlModelSource(BASE, { fetch: s.fetch });
    expect(await source.exists('model_index.json')).toBe(true);
    expect(s.log.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  it('without a store, reads tensors with ranges and keeps nothing', async () => {
    const s = server();
    const source = new UrlModelSource(BASE, { fetch: s.fetch });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    expect((await file.read('layer.bias')).toArray()).toEqual([-0, -1, -2, -3, -4, -5, -6, -7]);
    expect(s.count((r) => r.method === 'GET' && r.range === undefined)).toBe(0);
  });

  it('with a store, opens by header ranges and downloads the file once, on the first tensor read', async () => {
    const s = server();
    const cache = new FakeCache();
    const events: DownloadProgress[] = [];
    const source = new UrlModelSource(BASE, { fetch: s.fetch, store: new CacheStorageFileStore(cache), onProgress: (p) => events.push(p) });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    // Opening read the size (1 byte), the length prefix and the header: no whole-file GET yet.
    expect(s.count((r) => r.range === undefined)).toBe(0);
    expect([...file.entries.keys()].sort()).toEqual(['layer.bias', 'layer.weight']);
    const w = await file.read('layer.weight');
    const b = await file.read('layer.bias');
    expect(w.data[4095]).toBeCloseTo(4095 / 7, 4);
    expect(b.toArray()[7]).toBe(-7);
    expect(s.count((r) => r.range === undefined)).toBe(1);
    const size = s.files.get('/repo/unet/w.safetensors')!.length;
    expect(events.at(-1)).toEqual({ file: 'unet/w.safetensors', loaded: size, total: size, done: true, cached: false });
    expect(cache.entries.get(`${BASE}unet/w.safetensors`)?.size).toBe(size);

    // A second source on the same store (the next visit): no request at all for the weights.
    const before = s.log.length;
    const again = new UrlModelSource(BASE, { fetch: s.fetch, store: new CacheStorageFileStore(cache), onProgress: (p) => events.push(p) });
    const file2 = await SafetensorsFile.open(await again.open('unet/w.safetensors'));
    expect((await file2.read('layer.bias')).toArray()[7]).toBe(-7);
    expect(await again.exists('unet/w.safetensors')).toBe(true);
    expect(s.log.length).toBe(before);
    expect(events.at(-1)).toMatchObject({ cached: true, done: true });
  });

  it('downloads the whole file at once from a server that ignores ranges', async () => {
    const s = server({ ignoreRanges: true });
    const source = new UrlModelSource(BASE, { fetch: s.fetch, store: new MemoryFileStore() });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    expect((await file.read('layer.bias')).toArray()[1]).toBe(-1);
    // Without a store there is no way to read such a server piece by piece: the reader says so.
    await expect(new UrlModelSource(BASE, { fetch: s.fetch }).open('unet/w.safetensors')).rejects.toThrow(/ignored the Range request/);
  });

  it('stores nothing when the download is cut short, and succeeds on the retry', async () => {
    const s = server({ truncateTo: 100 });
    const cache = new FakeCache();
    const source = new UrlModelSource(BASE, { fetch: s.fetch, store: new CacheStorageFileStore(cache) });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    await expect(file.read('layer.weight')).rejects.toThrow(/got 100 of \d+ bytes/);
    expect(cache.entries.size).toBe(0);
    s.options = {};
    expect((await file.read('layer.weight')).shape).toEqual([64, 64]);
    expect(cache.entries.size).toBe(1);
  });

  it('checks the SHA-256 the server advertises before storing', async () => {
    const good = 'a'.repeat(64);
    const s = server({ headers: { 'x-linked-etag': `"${good}"` } });
    const cache = new FakeCache();
    const source = new UrlModelSource(BASE, { fetch: s.fetch, store: new CacheStorageFileStore(cache) });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    await expect(file.read('layer.weight')).rejects.toThrow(/SHA-256 is [0-9a-f]{64}, expected a{64}/);
    // Neither the file nor its temporary entry is left behind.
    expect(cache.entries.size).toBe(0);
  });

  it('never takes a plain ETag for a SHA-256', async () => {
    const s = server({ headers: { etag: `"${'b'.repeat(64)}"` } });
    const source = new UrlModelSource(BASE, { fetch: s.fetch, store: new MemoryFileStore() });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    expect((await file.read('layer.bias')).shape).toEqual([8]);
  });

  it('accepts a file whose SHA-256 matches the one given', async () => {
    const bytes = weights();
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes))), (b) => b.toString(16).padStart(2, '0')).join('');
    const s = server();
    const cache = new FakeCache();
    const source = new UrlModelSource(BASE, { fetch: s.fetch, store: new CacheStorageFileStore(cache), sha256: { 'unet/w.safetensors': digest } });
    const file = await SafetensorsFile.open(await source.open('unet/w.safetensors'));
    expect((await file.read('layer.bias')).shape).toEqual([8]);
    expect([...cache.entries.keys()]).toEqual([`${BASE}unet/w.safetensors`]);
  });
});

describe('huggingFaceModelUrl', () => {
  it('builds resolve URLs and refuses what is not a repo id', () => {
    expect(huggingFaceModelUrl('IDKiro/sdxs-512-dreamshaper')).toBe('https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/');
    expect(huggingFaceModelUrl('a/b', { revision: 'refs/pr/1', endpoint: 'https://hf.example/' })).toBe('https://hf.example/a/b/resolve/refs%2Fpr%2F1/');
    for (const bad of ['noslash', 'a/b/c', '../x', 'a/..', 'https://x/y']) expect(() => huggingFaceModelUrl(bad), bad).toThrow(/not a Hugging Face repo id/);
  });
});
