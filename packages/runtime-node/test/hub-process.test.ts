// RELIABILITY items 10 and 13 with real processes: one killed (SIGKILL, no cleanup) in the middle of a download,
// and two downloading the same file at the same time.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { downloadSnapshot } from '../src/hub/index.js';
import { FakeHub, sha256, type FakeFile } from './hub-fake.js';
import { hubOptions, pipelineFiles, REPO, tempDir } from './hub-fixtures.js';

const UNET = 'unet/diffusion_pytorch_model.safetensors';
const CHILD = fileURLToPath(new URL('./hub-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let hub: FakeHub;
let files: FakeFile[];
let cache: { dir: string; cleanup: () => Promise<void> };
const children: ChildProcess[] = [];

beforeEach(async () => {
  files = pipelineFiles();
  hub = await FakeHub.start([{ id: REPO, files }]);
  cache = await tempDir();
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await hub.close();
  await cache.cleanup();
});

function child(): { proc: ChildProcess; output: string[]; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, hub.endpoint, cache.dir, REPO, UNET], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const output: string[] = [];
  let buffered = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    output.push(...lines);
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(stderr);
      resolve(code);
    }),
  );
  return { proc, output, exit };
}

const unet = (): Uint8Array => files.find((f) => f.path === UNET)?.content ?? new Uint8Array();
const blobDir = (): string => join(cache.dir, 'models--IDKiro--sdxs-fake', 'blobs');

it('a process killed mid-download leaves no visible file; the next run takes over its lock and resumes', async () => {
  hub.behave(UNET, { chunkBytes: 8192, chunkDelayMs: 20 });
  const c = child();
  await expect
    .poll(() => c.output.some((l) => /^progress (\d+)$/.test(l) && Number(l.slice(9)) >= 40_000), { timeout: 20_000, interval: 20 })
    .toBe(true);
  c.proc.kill('SIGKILL');
  await c.exit;
  const blob = join(blobDir(), sha256(unet()));
  expect(existsSync(blob)).toBe(false);
  const partial = (await stat(`${blob}.incomplete`)).size;
  expect(partial).toBeGreaterThanOrEqual(40_000);
  const locks = join(cache.dir, '.locks', 'models--IDKiro--sdxs-fake');
  expect(await readdir(locks)).toHaveLength(1); // the dead process's lock

  hub.behave(UNET, { times: 0 });
  const started = Date.now();
  const snap = await downloadSnapshot(REPO, { ...hubOptions(hub.endpoint, cache.dir), files: (p) => p === UNET });
  expect(Date.now() - started).toBeLessThan(5000); // no waiting out a 30 s stale timeout: the pid is dead
  expect(hub.requests.filter((r) => r.server === 'cdn').at(-1)?.range).toBe(`bytes=${partial}-`);
  expect(sha256(await readFile(join(snap.dir, UNET)))).toBe(sha256(unet()));
  expect(await readdir(locks)).toEqual([]);
  expect(await readdir(blobDir())).toEqual([sha256(unet())]);
}, 30_000);

it('two processes fetching the same file: one transfer, one valid blob', async () => {
  // Slow enough (about 0.6 s) that both processes find the file missing and meet at the lock.
  hub.behave(UNET, { chunkBytes: 8192, chunkDelayMs: 25 });
  const a = child();
  const b = child();
  expect(await Promise.all([a.exit, b.exit])).toEqual([0, 0]);
  const done = `done ${JSON.stringify([UNET])}`;
  expect([...a.output, ...b.output].filter((l) => l.startsWith('done'))).toEqual([done, done]);
  expect(hub.count({ server: 'cdn', pathIncludes: sha256(unet()) })).toBe(1);
  const blobs = await readdir(blobDir());
  expect(blobs).toEqual([sha256(unet())]);
  expect(sha256(await readFile(join(blobDir(), sha256(unet()))))).toBe(sha256(unet()));
}, 30_000);
