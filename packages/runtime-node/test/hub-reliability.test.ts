// RELIABILITY.md items 8 and 10–15 for downloads: interrupted and resumed transfers, servers that ignore Range,
// corrupt or oversized transfers, concurrent fetches, offline mode, hung connections, disk space, hostile names.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadSnapshot, HubError, type DownloadProgress, type ResolveModelOptions } from '../src/hub/index.js';
import { bytes, FakeHub, sha256, text, type FakeFile } from './hub-fake.js';
import { DEFAULT_SELECTION, hubOptions, pipelineFiles, REPO, tempDir } from './hub-fixtures.js';

const UNET = 'unet/diffusion_pytorch_model.safetensors';
const onlyUnet = (p: string): boolean => p === UNET;

let hub: FakeHub;
let files: FakeFile[];
let cache: { dir: string; cleanup: () => Promise<void> };
let repoDir: string;

async function startHub(f: FakeFile[] = pipelineFiles()): Promise<void> {
  files = f;
  hub = await FakeHub.start([{ id: REPO, files }]);
}

beforeEach(async () => {
  await startHub();
  cache = await tempDir();
  repoDir = join(cache.dir, 'models--IDKiro--sdxs-fake');
});

afterEach(async () => {
  await hub.close();
  await cache.cleanup();
});

function opts(extra: Partial<ResolveModelOptions> = {}): ResolveModelOptions {
  return { ...hubOptions(hub.endpoint, cache.dir), ...extra };
}

function content(path: string): Uint8Array {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(path);
  return f.content;
}

const blobOf = (path: string): string => join(repoDir, 'blobs', sha256(content(path)));

async function blobNames(): Promise<string[]> {
  return existsSync(join(repoDir, 'blobs')) ? (await readdir(join(repoDir, 'blobs'))).sort() : [];
}

async function lockNames(): Promise<string[]> {
  const dir = join(cache.dir, '.locks', 'models--IDKiro--sdxs-fake');
  return existsSync(dir) ? readdir(dir) : [];
}

/** Starts a slow download of the U-Net weights and aborts it once `after` bytes are on disk; returns the partial size. */
async function interruptedDownload(after = 50_000): Promise<number> {
  hub.behave(UNET, { chunkBytes: 16_384, chunkDelayMs: 15, times: 1 });
  const controller = new AbortController();
  const onProgress = (p: DownloadProgress): void => {
    if (p.fileBytes >= after) controller.abort(new Error('user pressed ctrl-c'));
  };
  await expect(downloadSnapshot(REPO, opts({ files: onlyUnet, onProgress, signal: controller.signal }))).rejects.toThrow('user pressed ctrl-c');
  const partial = await stat(`${blobOf(UNET)}.incomplete`);
  return partial.size;
}

describe('interrupted downloads (items 10, 11)', () => {
  it('an aborted download leaves nothing visible, and the rerun resumes with Range', async () => {
    const size = await interruptedDownload();
    expect(size).toBeGreaterThanOrEqual(50_000);
    expect(size).toBeLessThan(200_000);
    expect(existsSync(blobOf(UNET))).toBe(false);
    expect(existsSync(join(repoDir, 'snapshots', hub.commit(REPO), UNET))).toBe(false);
    expect(await lockNames()).toEqual([]);

    const events: DownloadProgress[] = [];
    const snap = await downloadSnapshot(REPO, opts({ files: onlyUnet, onProgress: (p) => events.push(p) }));
    const gets = hub.requests.filter((r) => r.server === 'cdn');
    expect(gets.at(-1)?.range).toBe(`bytes=${size}-`);
    expect(events[0]?.fileBytes).toBe(size); // progress starts where the partial file ends
    expect(sha256(await readFile(join(snap.dir, UNET)))).toBe(sha256(content(UNET)));
    expect(await blobNames()).toEqual([sha256(content(UNET))]);
  });

  it('a resume answered with 200 restarts the file: no duplicated bytes', async () => {
    const size = await interruptedDownload();
    hub.behave(UNET, { ignoreRange: true });
    const events: DownloadProgress[] = [];
    const snap = await downloadSnapshot(REPO, opts({ files: onlyUnet, onProgress: (p) => events.push(p) }));
    expect(hub.requests.filter((r) => r.server === 'cdn').at(-1)?.range).toBe(`bytes=${size}-`);
    const data = await readFile(join(snap.dir, UNET));
    expect(data.length).toBe(200_000);
    expect(sha256(data)).toBe(sha256(content(UNET)));
    expect(events.some((e) => e.fileBytes === 0)).toBe(true); // the bar went back to zero
    expect(events.at(-1)?.fileBytes).toBe(200_000);
  });

  it('a leftover .incomplete with wrong bytes is replaced, after one failed resume', async () => {
    await mkdir(join(repoDir, 'blobs'), { recursive: true });
    await writeFile(`${blobOf(UNET)}.incomplete`, bytes(1000));
    const snap = await downloadSnapshot(REPO, opts({ files: onlyUnet }));
    expect(sha256(await readFile(join(snap.dir, UNET)))).toBe(sha256(content(UNET)));
    expect(hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual(['bytes=1000-', undefined]);
    expect(await blobNames()).toEqual([sha256(content(UNET))]);
  });

  it('a leftover .incomplete longer than the file is discarded without asking for a range', async () => {
    await mkdir(join(repoDir, 'blobs'), { recursive: true });
    await writeFile(`${blobOf(UNET)}.incomplete`, bytes(300_000));
    await downloadSnapshot(REPO, opts({ files: onlyUnet }));
    expect(hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual([undefined]);
    expect(await blobNames()).toEqual([sha256(content(UNET))]);
  });

  it('a dropped connection is resumed within the same call', async () => {
    hub.behave(UNET, { cutAfter: 70_000, times: 2 });
    const snap = await downloadSnapshot(REPO, opts({ files: onlyUnet }));
    // Each retry resumes where the bytes on disk end (fetch may drop the last bytes it buffered before the cut).
    const ranges = hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range);
    expect(ranges.length).toBe(3);
    expect(ranges[0]).toBeUndefined();
    const starts = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[1]).toBeGreaterThan(starts[0] ?? Infinity);
    expect(sha256(await readFile(join(snap.dir, UNET)))).toBe(sha256(content(UNET)));
  });
});

describe('integrity (item 12)', () => {
  it('an LFS file whose sha256 differs is an error and nothing is committed', async () => {
    const f = files.find((x) => x.path === UNET);
    if (f) f.serve = bytes(200_000);
    const err = await downloadSnapshot(REPO, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ code: 'integrity' });
    expect(String(err)).toMatch(/sha256 is [0-9a-f]{64} but the hub promised/);
    expect(existsSync(blobOf(UNET))).toBe(false);
    expect(existsSync(`${blobOf(UNET)}.incomplete`)).toBe(false);
    expect(existsSync(join(repoDir, 'snapshots', hub.commit(REPO), UNET))).toBe(false);
    expect((await blobNames()).filter((b) => b.includes('.'))).toEqual([]);
  });

  it('a regular file is checked against its git blob id', async () => {
    const f = files.find((x) => x.path === 'unet/config.json');
    if (f) f.serve = text(JSON.stringify({ sample_size: 32 }));
    await expect(downloadSnapshot(REPO, opts({ files: (p) => p === 'unet/config.json' }))).rejects.toThrow(/git blob sha1 is [0-9a-f]{40} but the hub promised/);
    expect(await blobNames()).toEqual([]);
  });

  it('more bytes than promised is an error; fewer is an error after the retries; nothing is committed', async () => {
    const f = files.find((x) => x.path === UNET);
    if (!f) throw new Error('fixture');
    f.serve = new Uint8Array([...f.content, 1, 2, 3]);
    await expect(downloadSnapshot(REPO, opts({ files: onlyUnet }))).rejects.toMatchObject({ code: 'integrity' });
    expect(await blobNames()).toEqual([]);

    f.serve = f.content.subarray(0, 150_000);
    const err = await downloadSnapshot(REPO, opts({ files: onlyUnet, retries: 1 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'network' });
    expect(existsSync(blobOf(UNET))).toBe(false);
    expect(existsSync(join(repoDir, 'snapshots', hub.commit(REPO), UNET))).toBe(false);
  });

  it('a listing and headers that disagree stop the download before any byte', async () => {
    const f = files.find((x) => x.path === UNET);
    if (f) f.claimedSize = 123;
    // The CDN would send 200 000 bytes: refused as more than promised, and the blob is never written.
    await expect(downloadSnapshot(REPO, opts({ files: onlyUnet }))).rejects.toMatchObject({ code: 'integrity' });
    expect(await blobNames()).toEqual([]);
  });
});

describe('concurrency (item 13)', () => {
  it('two downloads of the same files at once: one transfer, one valid blob each', async () => {
    hub.behave(UNET, { chunkBytes: 32_768, chunkDelayMs: 5 });
    const [a, b] = await Promise.all([downloadSnapshot(REPO, opts()), downloadSnapshot(REPO, opts())]);
    expect(a.dir).toBe(b.dir);
    expect(hub.count({ server: 'cdn', pathIncludes: sha256(content(UNET)) })).toBe(1);
    expect(sha256(await readFile(join(a.dir, UNET)))).toBe(sha256(content(UNET)));
    expect((await blobNames()).filter((n) => n.includes('.'))).toEqual([]);
    expect(await lockNames()).toEqual([]);
  });
});

describe('offline mode and unreachable hubs (item 14)', () => {
  it('makes zero requests and names what is missing', async () => {
    const err = await downloadSnapshot(REPO, opts({ offline: true })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'offline-missing' });
    expect(String(err)).toMatch(/IDKiro\/sdxs-fake@main is not in the Hugging Face cache at .* offline mode is on/);
    await expect(downloadSnapshot(REPO, opts({ env: { HF_HUB_OFFLINE: '1' } }))).rejects.toMatchObject({ code: 'offline-missing' });
    expect(hub.requests).toEqual([]);
  });

  it('serves a complete cached snapshot with zero requests, and reports a file removed from it', async () => {
    const online = await downloadSnapshot(REPO, opts());
    hub.requests.length = 0;
    const offline = await downloadSnapshot(REPO, opts({ env: { HF_HUB_OFFLINE: 'true' } }));
    expect(offline.dir).toBe(online.dir);
    expect([...offline.files].sort()).toEqual(DEFAULT_SELECTION);
    await rm(join(online.dir, 'vae/config.json'));
    await expect(downloadSnapshot(REPO, opts({ offline: true }))).rejects.toThrow(/incomplete in the cache .*1 file\(s\) are missing: vae\/config\.json/);
    await expect(downloadSnapshot(REPO, opts({ offline: true, revision: 'v2' }))).rejects.toMatchObject({ code: 'offline-missing' });
    expect(hub.requests).toEqual([]);
  });

  it('falls back to the cache when the hub cannot be reached', async () => {
    const online = await downloadSnapshot(REPO, opts());
    const endpoint = hub.endpoint;
    await hub.close();
    const snap = await downloadSnapshot(REPO, { ...opts(), endpoint });
    expect(snap.dir).toBe(online.dir);
    await hub.close(); // (afterEach closes again: harmless)
    await startHub();
    const empty = await tempDir();
    try {
      const err = await downloadSnapshot(REPO, { ...hubOptions(endpoint, empty.dir) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'offline-missing' });
      expect(String(err)).toMatch(/could not be reached/);
    } finally {
      await empty.cleanup();
    }
  });

  it('a hung transfer times out (and resumes later); a hung HEAD or listing times out too', async () => {
    // The CDN stalls at byte 60 000: the first attempt gets there, the retry gets nothing, then it gives up.
    hub.behave(UNET, { hangAt: 60_000 });
    const started = Date.now();
    const err = await downloadSnapshot(REPO, opts({ files: onlyUnet, timeoutMs: 300, retries: 0 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout' });
    expect(String(err)).toMatch(/no data for 0.3 s/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await stat(`${blobOf(UNET)}.incomplete`)).size).toBe(60_000);
    expect(hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual([undefined, 'bytes=60000-']);
    hub.behave(UNET, { times: 0 });
    await downloadSnapshot(REPO, opts({ files: onlyUnet }));
    expect(hub.requests.filter((r) => r.server === 'cdn').at(-1)?.range).toBe('bytes=60000-');

    hub.hangHead = true;
    await expect(downloadSnapshot(REPO, opts({ files: (p) => p === 'vae/config.json', timeoutMs: 200 }))).rejects.toMatchObject({ code: 'timeout' });
    hub.hangApi = true;
    const empty = await tempDir();
    try {
      const e = await downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, empty.dir), timeoutMs: 200 }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'offline-missing' });
      expect(e instanceof Error && e.cause).toMatchObject({ code: 'timeout' });
    } finally {
      await empty.cleanup();
    }
  });
});

describe('disk space (item 15)', () => {
  it('refuses a file larger than the free space before writing anything', async () => {
    const f = files.find((x) => x.path === UNET);
    if (f) f.claimedSize = 2 ** 52;
    const err = await downloadSnapshot(REPO, opts({ files: onlyUnet })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'disk-full' });
    expect(String(err)).toMatch(/not enough disk space/);
    expect(await blobNames()).toEqual([]);
    expect(hub.count({ server: 'cdn' })).toBe(0);
  });
});

describe('hostile names (item 8)', () => {
  it('refuses listed names that would leave the cache, before any file request', async () => {
    await hub.close();
    // A single-model repo (no model_index.json): the default selection would take a root-level '../config.json'.
    await startHub([
      { path: 'config.json', content: text('{"a":1}') },
      { path: '../config.json', content: text('{"b":2}') },
      { path: 'unet/../../../escape2/config.json', content: text('{}') },
      { path: 'C:/Windows/config.json', content: text('{}') },
      { path: '/etc/config.json', content: text('{}') },
    ]);
    for (const predicate of [() => true, undefined]) {
      const err = await downloadSnapshot(REPO, opts({ files: predicate })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'unsafe-path' });
      expect(String(err)).toContain('"../config.json"');
    }
    expect(hub.count({ method: 'HEAD' })).toBe(0);
    expect(hub.count({ server: 'cdn' })).toBe(0);
    expect(existsSync(join(cache.dir, 'config.json'))).toBe(false);
    expect(existsSync(join(repoDir, '..', 'escape2'))).toBe(false);
    // Names the selection does not want are simply ignored.
    const snap = await downloadSnapshot(REPO, opts({ files: (p) => p.endsWith('config.json') && !p.includes('..') && !p.includes(':') && !p.startsWith('/') }));
    expect(snap.files).toEqual(['config.json']);
  });
});
