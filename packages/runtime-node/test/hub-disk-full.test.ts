// RELIABILITY item 15: the disk fills up in the middle of a download. The file system is wrapped so that writes
// to partial downloads fail with ENOSPC past a limit, as a full disk makes them fail.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { downloadSnapshot } from '../src/hub/index.js';
import { FakeHub, sha256, type FakeFile } from './hub-fake.js';
import { hubOptions, pipelineFiles, REPO, tempDir } from './hub-fixtures.js';

const disk = vi.hoisted(() => ({ free: Infinity }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const handle = await fs.open(...args);
      if (!String(args[0]).endsWith('.incomplete')) return handle;
      const write = handle.write.bind(handle);
      return Object.assign(handle, {
        write: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
          if (length > disk.free) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
          disk.free -= length;
          return write(buffer, offset, length, position);
        },
      });
    },
  };
});

const UNET = 'unet/diffusion_pytorch_model.safetensors';
let hub: FakeHub;
let files: FakeFile[];
let cache: { dir: string; cleanup: () => Promise<void> };

beforeEach(async () => {
  files = pipelineFiles();
  hub = await FakeHub.start([{ id: REPO, files }]);
  cache = await tempDir();
});

afterEach(async () => {
  disk.free = Infinity;
  await hub.close();
  await cache.cleanup();
});

it('a full disk mid-download is a clean error: no partial file, no blob, no link, no lock', async () => {
  disk.free = 100_000;
  const options = { ...hubOptions(hub.endpoint, cache.dir), files: (p: string) => p === UNET };
  const err = await downloadSnapshot(REPO, options).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'disk-full' });
  expect(String(err)).toMatch(/disk is full .*partial download was removed/);
  const repoDir = join(cache.dir, 'models--IDKiro--sdxs-fake');
  expect(await readdir(join(repoDir, 'blobs'))).toEqual([]);
  expect(existsSync(join(repoDir, 'snapshots', hub.commit(REPO), UNET))).toBe(false);
  expect(await readdir(join(cache.dir, '.locks', 'models--IDKiro--sdxs-fake'))).toEqual([]);
  expect(hub.count({ server: 'cdn' })).toBe(1); // not retried: a full disk is not a network problem

  disk.free = Infinity;
  const snap = await downloadSnapshot(REPO, options);
  expect(hub.requests.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual([undefined, undefined]);
  expect(await readdir(join(repoDir, 'blobs'))).toEqual([sha256(files.find((f) => f.path === UNET)?.content ?? new Uint8Array())]);
  expect(snap.downloaded).toEqual([UNET]);
});
