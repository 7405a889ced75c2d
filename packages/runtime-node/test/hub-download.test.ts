import { lstat, readFile, readlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadSnapshot, fetchFileMetadata, HubError, resolveModel, type DownloadProgress } from '../src/hub/index.js';
import { FakeHub, gitBlobId, sha256, TOKEN, type FakeFile } from './hub-fake.js';
import { DEFAULT_SELECTION, hubOptions, pipelineFiles, pipelineRepo, REPO, tempDir } from './hub-fixtures.js';

let hub: FakeHub;
let cache: { dir: string; cleanup: () => Promise<void> };
let files: FakeFile[];

beforeEach(async () => {
  files = pipelineFiles();
  hub = await FakeHub.start([
    pipelineRepo({ files }),
    { id: 'me/private', files: pipelineFiles().slice(0, 5), private: true },
    { id: 'org/gated', files: pipelineFiles().slice(0, 5), gated: true },
  ]);
  cache = await tempDir();
});

afterEach(async () => {
  await hub.close();
  await cache.cleanup();
});

function fileOf(path: string): Uint8Array {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(path);
  return f.content;
}

describe('download by repo id', () => {
  it('fetches only the pipeline files into the huggingface_hub cache layout', async () => {
    const snap = await downloadSnapshot(REPO, hubOptions(hub.endpoint, cache.dir));
    const commit = hub.commit(REPO);
    expect(snap.commit).toBe(commit);
    expect([...snap.files].sort()).toEqual(DEFAULT_SELECTION);
    const repoDir = join(cache.dir, 'models--IDKiro--sdxs-fake');
    expect(snap.dir).toBe(join(repoDir, 'snapshots', commit));
    expect(await readFile(join(repoDir, 'refs', 'main'), 'utf8')).toBe(commit);
    expect(await readFile(join(cache.dir, 'CACHEDIR.TAG'), 'utf8')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);

    // Each file: a relative symlink to blobs/<sha256> (LFS) or blobs/<git blob id>, with the right bytes.
    for (const path of DEFAULT_SELECTION) {
      const f = files.find((x) => x.path === path);
      if (!f) throw new Error(path);
      const link = join(snap.dir, path);
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      const blobName = f.lfs ? sha256(f.content) : gitBlobId(f.content);
      const depth = path.split('/').length;
      expect(await readlink(link)).toBe(`${'../'.repeat(depth + 1)}blobs/${blobName}`);
      expect(sha256(await readFile(link))).toBe(sha256(f.content)); // (toEqual on 200 kB arrays is slow)
    }
    // Never a pickle, an ONNX file, a single-file checkpoint, an unused component or a stray .incomplete.
    const blobs = await readdir(join(repoDir, 'blobs'));
    expect(blobs.some((b) => b.includes('.'))).toBe(false);
    for (const path of ['unet/diffusion_pytorch_model.bin', 'unet/model.onnx', 'sdxs.ckpt', 'sdxs_single_file.safetensors', 'vae_large/config.json', 'feature_extractor/preprocessor_config.json']) {
      const f = files.find((x) => x.path === path);
      expect(f && blobs.includes(f.lfs ? sha256(f.content) : gitBlobId(f.content))).toBe(false);
    }
    // The listing is cached the way huggingface_hub writes trees/<commit>.json.
    const tree = JSON.parse(await readFile(join(repoDir, 'trees', `${commit}.json`), 'utf8')) as { format_version: number; files: Record<string, unknown> };
    expect(tree.format_version).toBe(1);
    expect(Object.keys(tree.files).length).toBe(files.length);
    const unet = files.find((x) => x.path === 'unet/diffusion_pytorch_model.safetensors');
    expect(tree.files['unet/diffusion_pytorch_model.safetensors']).toMatchObject({ size: unet?.content.length, lfs_sha256: unet && sha256(unet.content) });
  });

  it('fetches fp16 weights when the variant is asked for', async () => {
    const snap = await downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, cache.dir), variant: 'fp16' });
    expect(snap.files).toContain('unet/diffusion_pytorch_model.fp16.safetensors');
    expect(snap.files).toContain('text_encoder/model.fp16.safetensors');
    expect(snap.files).not.toContain('unet/diffusion_pytorch_model.safetensors');
    expect(snap.files).toContain('vae/diffusion_pytorch_model.safetensors'); // no fp16 there: the plain one
    expect(hub.count({ server: 'cdn', pathIncludes: sha256(fileOf('unet/diffusion_pytorch_model.safetensors')) })).toBe(0);
  });

  it('reuses a complete snapshot: one request for a branch, none for a commit', async () => {
    await downloadSnapshot(REPO, hubOptions(hub.endpoint, cache.dir));
    const before = hub.requests.length;
    const again = await downloadSnapshot(REPO, hubOptions(hub.endpoint, cache.dir));
    expect(again.downloaded).toEqual([]);
    expect(hub.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/models/${REPO}/revision/main?blobs=true`]);
    const byCommit = await downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, cache.dir), revision: hub.commit(REPO) });
    expect(byCommit.dir).toBe(again.dir);
    expect(hub.requests.length).toBe(before + 1);
  });

  it('downloads only what a partial snapshot lacks', async () => {
    await downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, cache.dir), files: (p) => p.startsWith('unet/') && !p.endsWith('.bin') && !p.endsWith('.onnx') });
    hub.requests.length = 0;
    const snap = await downloadSnapshot(REPO, hubOptions(hub.endpoint, cache.dir));
    expect(snap.downloaded).not.toContain('unet/config.json');
    expect(snap.downloaded).toContain('vae/config.json');
    expect(hub.count({ server: 'cdn', pathIncludes: sha256(fileOf('unet/diffusion_pytorch_model.safetensors')) })).toBe(0);
  });

  it('resolveModel returns a source over the snapshot, or a local folder as it is', async () => {
    const source = await resolveModel(REPO, hubOptions(hub.endpoint, cache.dir));
    expect(JSON.parse(await source.readText('unet/config.json'))).toEqual({ sample_size: 64 });
    expect(await source.exists('unet/diffusion_pytorch_model.bin')).toBe(false);
    const bytes = await source.open('vae/diffusion_pytorch_model.safetensors');
    expect(bytes.size).toBe(30_000);
    await bytes.close?.();
    const local = await resolveModel(source.root, { offline: true });
    expect(local.root).toBe(source.root);
    await expect(resolveModel('./no/such/folder')).rejects.toThrow(/no such model folder/);
    await expect(resolveModel('not a repo')).rejects.toThrow(/neither an existing model folder nor a Hugging Face repo id/);
  });

  it('reports progress per file and overall, ending at the total', async () => {
    const events: DownloadProgress[] = [];
    await downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, cache.dir), onProgress: (p) => events.push(p) });
    const last = events.at(-1);
    const expectedTotal = DEFAULT_SELECTION.filter((p) => p !== 'model_index.json').reduce((n, p) => n + fileOf(p).length, 0);
    expect(last).toMatchObject({ bytes: expectedTotal, total: expectedTotal, filesDone: DEFAULT_SELECTION.length - 1, filesTotal: DEFAULT_SELECTION.length - 1 });
    const unet = events.filter((e) => e.file === 'unet/diffusion_pytorch_model.safetensors');
    expect(unet.at(-1)).toMatchObject({ fileBytes: 200_000, fileTotal: 200_000 });
    expect(unet.length).toBeGreaterThan(2);
    for (let i = 1; i < events.length; i++) expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
  });
});

describe('authentication and redirects', () => {
  it('sends the token to the hub but never to the CDN it redirects to', async () => {
    const snap = await downloadSnapshot('me/private', { ...hubOptions(hub.endpoint, cache.dir), token: TOKEN });
    expect(snap.files).toContain('unet/diffusion_pytorch_model.safetensors');
    const hubRequests = hub.requests.filter((r) => r.server === 'hub');
    const cdnRequests = hub.requests.filter((r) => r.server === 'cdn');
    expect(cdnRequests.length).toBeGreaterThan(0);
    expect(hubRequests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(cdnRequests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('takes the token from HF_TOKEN', async () => {
    await downloadSnapshot('me/private', { endpoint: hub.endpoint, cacheDir: cache.dir, env: { HF_TOKEN: TOKEN, HF_HOME: join(cache.dir, 'no-hf-home') } });
    expect(hub.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('says clearly when a repo is private, missing or gated', async () => {
    const err = await downloadSnapshot('me/private', hubOptions(hub.endpoint, cache.dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ code: 'not-found', status: 401 });
    expect(String(err)).toMatch(/not found or not accessible.*HF_TOKEN/);
    await expect(downloadSnapshot('me/nothing', { ...hubOptions(hub.endpoint, cache.dir), token: TOKEN })).rejects.toMatchObject({ code: 'not-found', status: 404 });
    await expect(downloadSnapshot('org/gated', hubOptions(hub.endpoint, cache.dir))).rejects.toMatchObject({ code: 'gated' });
    await expect(downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, cache.dir), revision: 'v9' })).rejects.toThrow(/revision not found/);
  });

  it('follows a relative redirect of a renamed repo', async () => {
    hub.renames.set('IDKiro/old-name', REPO);
    const meta = await fetchFileMetadata({ endpoint: hub.endpoint, token: undefined, timeoutMs: 5000 }, 'IDKiro/old-name', hub.commit(REPO), 'unet/config.json');
    expect(meta).toMatchObject({ commit: hub.commit(REPO), etag: gitBlobId(fileOf('unet/config.json')), size: fileOf('unet/config.json').length });
    expect(meta.url).toBe(`${hub.endpoint}/${REPO}/resolve/${hub.commit(REPO)}/unet/config.json`);
  });
});
