import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, downloadSnapshot, HubCache, resolveModel } from '../src/hub/index.js';
import { gitBlobId, sha256, text } from './hub-fake.js';
import { tempDir } from './hub-fixtures.js';

const REPO = 'IDKiro/sdxs-512-dreamshaper';
const COMMIT = 'a'.repeat(40);

let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: HubCache;

beforeEach(async () => {
  tmp = await tempDir();
  cache = new HubCache(tmp.dir);
});

afterEach(async () => {
  await tmp.cleanup();
});

/** Writes a snapshot the way Python's huggingface_hub leaves it: blobs, relative symlinks, refs/main — no tree listing. */
async function pythonSnapshot(files: Record<string, string>): Promise<string> {
  const repoDir = join(tmp.dir, 'models--IDKiro--sdxs-512-dreamshaper');
  for (const [path, body] of Object.entries(files)) {
    const blob = gitBlobId(text(body));
    await mkdir(join(repoDir, 'blobs'), { recursive: true });
    await writeFile(join(repoDir, 'blobs', blob), body);
    const link = join(repoDir, 'snapshots', COMMIT, path);
    await mkdir(dirname(link), { recursive: true });
    await symlink(`${'../'.repeat(path.split('/').length + 1)}blobs/${blob}`, link);
  }
  await mkdir(join(repoDir, 'refs'), { recursive: true });
  await writeFile(join(repoDir, 'refs', 'main'), COMMIT);
  return join(repoDir, 'snapshots', COMMIT);
}

describe('HubCache layout', () => {
  it('names paths exactly as huggingface_hub does', () => {
    const repoDir = join(tmp.dir, 'models--IDKiro--sdxs-512-dreamshaper');
    expect(cache.repoDir(REPO)).toBe(repoDir);
    expect(cache.snapshotDir(REPO, COMMIT)).toBe(join(repoDir, 'snapshots', COMMIT));
    expect(cache.filePath(REPO, COMMIT, 'unet/config.json')).toBe(join(repoDir, 'snapshots', COMMIT, 'unet', 'config.json'));
    expect(cache.blobPath(REPO, 'b'.repeat(64))).toBe(join(repoDir, 'blobs', 'b'.repeat(64)));
    expect(cache.refPath(REPO, 'refs/pr/1')).toBe(join(repoDir, 'refs', 'refs', 'pr', '1'));
  });

  it('refuses names that would leave it: files, revisions, commits, ETags', () => {
    expect(() => cache.filePath(REPO, COMMIT, '../../../x')).toThrow(/refusing/);
    expect(() => cache.refPath(REPO, '../../x')).toThrow(/refusing/);
    expect(() => cache.snapshotDir(REPO, '../x')).toThrow(/not a 40-digit hex hash/);
    expect(() => cache.blobPath(REPO, '../../x')).toThrow(/refusing ETag/);
    expect(() => cache.blobPath(REPO, 'a/b')).toThrow(/refusing ETag/);
  });

  it('links blobs with relative symlinks, replacing an old link atomically', async () => {
    const etag = 'c'.repeat(64);
    await mkdir(dirname(cache.blobPath(REPO, etag)), { recursive: true });
    await writeFile(cache.blobPath(REPO, etag), 'weights');
    const link = await cache.linkBlob(REPO, COMMIT, 'unet/w.safetensors', etag);
    expect(await readlink(link)).toBe(`../../../blobs/${etag}`);
    expect(await readFile(link, 'utf8')).toBe('weights');
    const other = 'd'.repeat(64);
    await writeFile(cache.blobPath(REPO, other), 'newer');
    await cache.linkBlob(REPO, COMMIT, 'unet/w.safetensors', other);
    expect(await readFile(link, 'utf8')).toBe('newer');
    expect((await readdir(dirname(link))).sort()).toEqual(['w.safetensors']); // no temporary link left behind
    expect(await cache.hasFile(REPO, COMMIT, 'unet/w.safetensors')).toBe(true);
    expect(await cache.hasFile(REPO, COMMIT, 'unet/other')).toBe(false);
  });

  it('writes refs atomically and reads only commit hashes from them', async () => {
    await cache.writeRef(REPO, 'main', COMMIT);
    expect(await readFile(cache.refPath(REPO, 'main'), 'utf8')).toBe(COMMIT);
    expect(await cache.resolveCommit(REPO, 'main')).toBe(COMMIT);
    expect(await cache.resolveCommit(REPO, 'b'.repeat(40))).toBe('b'.repeat(40));
    await cache.writeRef(REPO, COMMIT, COMMIT); // a commit needs no ref
    expect(existsSync(cache.refPath(REPO, COMMIT))).toBe(false);
    await writeFile(cache.refPath(REPO, 'broken'), 'not a commit');
    expect(await cache.readRef(REPO, 'broken')).toBeUndefined();
    expect(await readdir(join(cache.repoDir(REPO), 'refs'))).toEqual(expect.arrayContaining(['main', 'broken']));
    expect((await readdir(join(cache.repoDir(REPO), 'refs'))).length).toBe(2);
  });

  it('round-trips trees/<commit>.json and ignores a corrupt or unknown one', async () => {
    const tree = new Map([
      ['a.json', { size: 2, blob_id: 'e'.repeat(40) }],
      ['w.safetensors', { size: 9, blob_id: 'f'.repeat(40), lfs_sha256: 'c'.repeat(64), lfs_size: 9 }],
    ]);
    await cache.writeTree(REPO, COMMIT, tree);
    expect(await cache.readTree(REPO, COMMIT)).toEqual(tree);
    const path = join(cache.repoDir(REPO), 'trees', `${COMMIT}.json`);
    await writeFile(path, '{"format_version": 2, "files": {}}');
    expect(await cache.readTree(REPO, COMMIT)).toBeUndefined();
    await writeFile(path, '{"format_');
    expect(await cache.readTree(REPO, COMMIT)).toBeUndefined();
  });
});

describe('a cache written by Python huggingface_hub', () => {
  it('is used offline with no listing, resolving refs/main to the snapshot', async () => {
    const dir = await pythonSnapshot({
      'model_index.json': JSON.stringify({ unet: ['diffusers', 'UNet2DConditionModel'] }),
      'unet/config.json': '{"sample_size": 64}',
      'unet/diffusion_pytorch_model.safetensors': 'not really weights',
    });
    // An endpoint nobody listens on: any request would fail the test.
    const source = await resolveModel(REPO, { cacheDir: tmp.dir, env: { HF_HUB_OFFLINE: '1' }, endpoint: 'http://127.0.0.1:9' });
    expect(source.root).toBe(dir);
    expect(JSON.parse(await source.readText('unet/config.json'))).toEqual({ sample_size: 64 });
    const snap = await downloadSnapshot(REPO, { cacheDir: tmp.dir, offline: true, env: { HF_HOME: join(tmp.dir, 'no-hf-home') } });
    expect(snap.files).toEqual(['model_index.json', 'unet/config.json', 'unet/diffusion_pytorch_model.safetensors']);
  });

  it('with a listing, an incomplete snapshot is an error naming the missing files', async () => {
    await pythonSnapshot({ 'model_index.json': JSON.stringify({ unet: ['diffusers', 'U'] }), 'unet/config.json': '{}' });
    await cache.writeTree(
      REPO,
      COMMIT,
      new Map([
        ['model_index.json', { size: 1, blob_id: '0'.repeat(40) }],
        ['unet/config.json', { size: 1, blob_id: '1'.repeat(40) }],
        ['unet/diffusion_pytorch_model.safetensors', { size: 1, blob_id: '2'.repeat(40), lfs_sha256: sha256(text('x')), lfs_size: 1 }],
      ]),
    );
    await expect(downloadSnapshot(REPO, { cacheDir: tmp.dir, offline: true, env: { HF_HOME: join(tmp.dir, 'no-hf-home') } })).rejects.toThrow(
      /incomplete in the cache .*1 file\(s\) are missing: unet\/diffusion_pytorch_model\.safetensors/,
    );
  });
});

describe('download locks', () => {
  it('waits for a live holder and takes the lock when it is released', async () => {
    const path = join(tmp.dir, 'x.lock');
    const first = await acquireLock(path);
    let got = false;
    const second = acquireLock(path, { pollMs: 10 }).then((l) => {
      got = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe(false);
    await first.release();
    await (await second).release();
    expect(got).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock left by a dead process or untouched for too long', async () => {
    const path = join(tmp.dir, 'x.lock');
    // The pid of a process that has exited: its lock is stale at once.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(path, JSON.stringify({ pid: dead, host: hostname(), token: 't' }));
    const started = Date.now();
    await (await acquireLock(path, { staleMs: 60_000 })).release();
    expect(Date.now() - started).toBeLessThan(1000);
    // A holder on another machine cannot be checked: its lock goes stale when not touched for staleMs.
    await writeFile(path, JSON.stringify({ pid: 1, host: 'elsewhere', token: 't' }));
    const old = new Date(Date.now() - 10_000);
    await utimes(path, old, old);
    await (await acquireLock(path, { staleMs: 5000 })).release();
  });

  it('is given up when the caller aborts while waiting', async () => {
    const path = join(tmp.dir, 'x.lock');
    const held = await acquireLock(path);
    const controller = new AbortController();
    const waiting = acquireLock(path, { signal: controller.signal, pollMs: 10 });
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await held.release();
  });
});
