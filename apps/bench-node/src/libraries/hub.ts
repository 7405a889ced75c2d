/**
 * Our hub client (`downloadSnapshot`) against @huggingface/hub (`snapshotDownload`) on the scenarios of
 * packages/runtime-node/test/hub-*.test.ts, both against the tests' fake hub and CDN on loopback
 * (the library through {@link fakeHubFetch}), plus download speed of the same files.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { snapshotDownload } from '@huggingface/hub';
import { downloadSnapshot } from '@sdxs/runtime-node';
import { FakeHub, bytes, sha256, gitBlobId, TOKEN, type FakeFile } from '../../../../packages/runtime-node/test/hub-fake.js';
import { DEFAULT_SELECTION, hubOptions, pipelineFiles, REPO, tempDir } from '../../../../packages/runtime-node/test/hub-fixtures.js';
import { median } from '../stats.js';
import { fakeHubFetch } from './hub-adapter.js';
import { interleaved } from './protobuf.js';

const UNET = 'unet/diffusion_pytorch_model.safetensors';
const REPO_DIR = 'models--IDKiro--sdxs-fake';

export interface ScenarioResult {
  scenario: string;
  ours: string;
  lib: string;
  /** Each client does what our test asks. */
  ours_passes: boolean;
  lib_passes: boolean;
}

export interface HubComparison {
  scenarios: ScenarioResult[];
  /** Fresh download of the pipeline files (one 64 MB LFS file), medians. */
  download: { bytes: number; ours_ms: number; lib_ms: number };
}

/** Only the files our selection takes, so that the library's whole-repo snapshot downloads the same ones. */
function selectedFiles(unetBytes?: number): FakeFile[] {
  return pipelineFiles()
    .filter((f) => DEFAULT_SELECTION.includes(f.path))
    .map((f) => (f.path === UNET && unetBytes !== undefined ? { ...f, content: bytes(unetBytes) } : f));
}

function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 120);
}

/** Is `cache` a valid huggingface_hub snapshot of `files` at `commit`: refs/main, relative links into blobs/, right bytes? */
async function checkSnapshot(cache: string, commit: string, files: FakeFile[]): Promise<string> {
  const repoDir = join(cache, REPO_DIR);
  try {
    if ((await readFile(join(repoDir, 'refs', 'main'), 'utf8')) !== commit) return 'refs/main wrong';
    for (const f of files) {
      const link = join(repoDir, 'snapshots', commit, f.path);
      if (!(await lstat(link)).isSymbolicLink()) return `${f.path} not a symlink`;
      const blob = f.lfs ? sha256(f.content) : gitBlobId(f.content);
      if (!(await readlink(link)).endsWith(`blobs/${blob}`) || (await readlink(link)).startsWith('/')) return `${f.path} links elsewhere`;
      if (sha256(await readFile(link)) !== sha256(f.content)) return `${f.path} has wrong bytes`;
    }
    const blobs = await readdir(join(repoDir, 'blobs'));
    for (const b of blobs) {
      if (b.includes('.')) return `leftover ${b}`;
      const data = await readFile(join(repoDir, 'blobs', b));
      const name = b.length === 64 ? createHash('sha256').update(data).digest('hex') : gitBlobId(data);
      if (name !== b) return `blob ${b.slice(0, 8)}… holds other bytes`;
    }
    return 'ok';
  } catch (e) {
    return `missing: ${messageOf(e)}`;
  }
}

interface Env {
  hub: FakeHub;
  cache: string;
  files: FakeFile[];
}

async function withHub<T>(files: FakeFile[], fn: (env: Env) => Promise<T>, extra: { private?: boolean } = {}): Promise<T> {
  const hub = await FakeHub.start([{ id: REPO, files, ...extra }]);
  const cache = await tempDir();
  try {
    return await fn({ hub, cache: cache.dir, files });
  } finally {
    await hub.close();
    await cache.cleanup();
  }
}

const ours = (env: Env, extra: Record<string, unknown> = {}) => downloadSnapshot(REPO, { ...hubOptions(env.hub.endpoint, env.cache), ...extra });
const lib = (env: Env, extra: Record<string, unknown> = {}) =>
  snapshotDownload({ repo: REPO, cacheDir: env.cache, hubUrl: env.hub.endpoint, fetch: fakeHubFetch(), ...extra });

async function outcome(p: Promise<unknown>, timeoutMs = 4000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`still waiting after ${timeoutMs / 1000} s`), timeoutMs)));
  try {
    return await Promise.race([p.then(() => 'completed', (e: unknown) => `error: ${messageOf(e)}`), hang]);
  } finally {
    clearTimeout(timer);
  }
}

const cdnRanges = (hub: FakeHub) => hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET').map((r) => r.range ?? 'whole');

type Side = 'ours' | 'lib';
type Scenario = { name: string; run: (side: Side) => Promise<{ text: string; pass: boolean }> };

const SCENARIOS: Scenario[] = [
  {
    name: 'pipeline files into the huggingface_hub cache layout (refs/, snapshots/ → blobs/)',
    run: (side) =>
      withHub(selectedFiles(), async (env) => {
        const r = await outcome(side === 'ours' ? ours(env) : lib(env));
        const check = await checkSnapshot(env.cache, env.hub.commit(REPO), env.files);
        return { text: r === 'completed' ? `layout ${check}` : r, pass: check === 'ok' };
      }),
  },
  {
    name: 'connection dropped mid-file: resumed with Range',
    run: (side) =>
      withHub(selectedFiles(), async (env) => {
        env.hub.behave(UNET, { cutAfter: 70_000, times: 1 });
        let r = await outcome(side === 'ours' ? ours(env) : lib(env));
        if (r !== 'completed') r += `; rerun ${await outcome(side === 'ours' ? ours(env) : lib(env))}`;
        const ranges = cdnRanges(env.hub);
        const resumed = ranges.some((x) => x.startsWith('bytes='));
        const check = await checkSnapshot(env.cache, env.hub.commit(REPO), env.files);
        return { text: `${r}; CDN requests ${ranges.join(', ')}; ${check}`, pass: resumed && check === 'ok' };
      }),
  },
  {
    name: 'LFS bytes that do not match their sha256: refused, nothing committed',
    run: (side) => {
      const files = selectedFiles().map((f) => (f.path === UNET ? { ...f, serve: bytes(f.content.length) } : f));
      return withHub(files, async (env) => {
        const r = await outcome(side === 'ours' ? ours(env) : lib(env));
        const blobs = await readdir(join(env.cache, REPO_DIR, 'blobs')).catch(() => []);
        const bad = [];
        for (const b of blobs.filter((x) => x.length === 64)) {
          if (sha256(await readFile(join(env.cache, REPO_DIR, 'blobs', b))) !== b) bad.push(b);
        }
        return { text: `${r}; ${bad.length ? 'corrupt blob committed' : 'no corrupt blob'}`, pass: r.startsWith('error') && bad.length === 0 };
      });
    },
  },
  {
    name: 'two downloads at once into one cache: one transfer, valid blobs',
    run: (side) =>
      withHub(selectedFiles(), async (env) => {
        env.hub.behave(UNET, { chunkBytes: 16_384, chunkDelayMs: 5 });
        const go = () => outcome(side === 'ours' ? ours(env) : lib(env), 15_000);
        const [a, b] = await Promise.all([go(), go()]);
        const transfers = env.hub.requests.filter((r) => r.server === 'cdn' && r.path.includes(sha256(env.files.find((f) => f.path === UNET)!.content))).length;
        const check = await checkSnapshot(env.cache, env.hub.commit(REPO), env.files);
        return { text: `${a} / ${b}; ${transfers} transfers of the 200 kB file; ${check}`, pass: transfers === 1 && check === 'ok' && a === 'completed' && b === 'completed' };
      }),
  },
  {
    name: 'HF_HUB_OFFLINE=1 with the snapshot cached: zero requests',
    run: (side) =>
      withHub(selectedFiles(), async (env) => {
        await (side === 'ours' ? ours(env) : lib(env));
        const before = env.hub.requests.length;
        const saved = process.env.HF_HUB_OFFLINE;
        process.env.HF_HUB_OFFLINE = '1';
        let r: string;
        try {
          r = await outcome(side === 'ours' ? ours(env, { env: { HF_HUB_OFFLINE: '1', HF_HOME: join(env.cache, 'no-hf-home') } }) : lib(env));
        } finally {
          if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
          else process.env.HF_HUB_OFFLINE = saved;
        }
        const n = env.hub.requests.length - before;
        return { text: `${r}; ${n} requests`, pass: r === 'completed' && n === 0 };
      }),
  },
  {
    name: 'the hub unreachable, the snapshot cached: served from the cache',
    run: (side) =>
      withHub(selectedFiles(), async (env) => {
        await (side === 'ours' ? ours(env) : lib(env));
        const endpoint = 'http://127.0.0.1:9'; // discard port: connection refused
        const r = await outcome(side === 'ours' ? downloadSnapshot(REPO, { ...hubOptions(endpoint, env.cache) }) : snapshotDownload({ repo: REPO, cacheDir: env.cache, hubUrl: endpoint, fetch: fakeHubFetch() }));
        return { text: r, pass: r === 'completed' };
      }),
  },
  {
    name: 'a transfer that stalls: times out',
    run: (side) =>
      withHub(selectedFiles(), async (env) => {
        env.hub.behave(UNET, { hangAt: 50_000 });
        const r = await outcome(side === 'ours' ? ours(env, { timeoutMs: 1000, retries: 0 }) : lib(env), 5000);
        return { text: r, pass: r.startsWith('error') };
      }),
  },
  {
    name: 'token from HF_TOKEN for a private repo, never sent to the CDN',
    run: (side) =>
      withHub(
        selectedFiles(),
        async (env) => {
          const saved = process.env.HF_TOKEN;
          process.env.HF_TOKEN = TOKEN;
          let r: string;
          try {
            r = await outcome(side === 'ours' ? ours(env, { env: { HF_TOKEN: TOKEN, HF_HOME: join(env.cache, 'no-hf-home') } }) : lib(env));
          } finally {
            if (saved === undefined) delete process.env.HF_TOKEN;
            else process.env.HF_TOKEN = saved;
          }
          const leaked = env.hub.requests.some((q) => q.server === 'cdn' && q.authorization !== undefined);
          return { text: `${r}${leaked ? '; token sent to the CDN' : ''}`, pass: r === 'completed' && !leaked };
        },
        { private: true },
      ),
  },
  {
    name: 'token passed explicitly (`token` / `accessToken`): private repo fetched, token not sent to the CDN',
    run: (side) =>
      withHub(
        selectedFiles(),
        async (env) => {
          const r = await outcome(side === 'ours' ? ours(env, { token: TOKEN }) : lib(env, { accessToken: TOKEN }));
          const leaked = env.hub.requests.some((q) => q.server === 'cdn' && q.authorization !== undefined);
          return { text: `${r}${leaked ? '; token sent to the CDN' : '; CDN got no token'}`, pass: r === 'completed' && !leaked };
        },
        { private: true },
      ),
  },
];

/** Every scenario on both clients, then download time of the same files (interleaved). */
export async function compareHub(log: (s: string) => void, runs: number): Promise<HubComparison> {
  const quiet = console.debug;
  console.debug = () => undefined; // the library logs every file it downloads
  try {
    const scenarios: ScenarioResult[] = [];
    for (const s of SCENARIOS) {
      const o = await s.run('ours');
      const l = await s.run('lib');
      scenarios.push({ scenario: s.name, ours: o.text, lib: l.text, ours_passes: o.pass, lib_passes: l.pass });
      log(`hub: ${s.name}\n  ours: ${o.pass ? 'pass' : 'FAIL'} (${o.text})\n  @huggingface/hub: ${l.pass ? 'pass' : 'FAIL'} (${l.text})`);
    }
    const size = 64_000_000;
    const download = await withHub(selectedFiles(size), async (env) => {
      const fresh = async (fn: () => Promise<unknown>) => {
        await rm(join(env.cache, REPO_DIR), { recursive: true, force: true });
        await fn();
      };
      const [a, b] = await interleaved(runs, () => fresh(() => ours(env)), () => fresh(() => lib(env)));
      return { bytes: env.files.reduce((n, f) => n + f.content.length, 0), ours_ms: median(a), lib_ms: median(b) };
    });
    log(`hub: download of ${(download.bytes / 1e6).toFixed(0)} MB: ours ${download.ours_ms.toFixed(0)} ms, @huggingface/hub ${download.lib_ms.toFixed(0)} ms`);
    return { scenarios, download };
  } finally {
    console.debug = quiet;
  }
}
