/**
 * `pnpm kill9 [--trials 50] [--scenarios download,graph-cache,checkpoint] [--json FILE]` — RELIABILITY items 10
 * and 13 against the real CLI: each trial starts `sdxs`, kills it with SIGKILL at a random moment of its run (300 ms
 * to 80 % of an uninterrupted run), checks
 * that nothing it was writing is corrupt or half-visible, then runs the same command to the end and checks the
 * result (sha256 of every downloaded file, the image bytes, the checkpoint's tensors).
 *   download:    `sdxs info test-org/tiny-sdxs` from a fake hub on loopback (real files, ETags, Range, slow
 *                chunks), into an HF cache kept across killed trials (so kills land on resumes too; emptied after
 *                a run that finished).
 *   graph-cache: `sdxs generate` on the golden model with a fresh $SDXS_CACHE, killed while graphs are built and
 *                written; every visible cache entry must be a whole packed graph, and the output PNG whole or absent.
 *   checkpoint:  `sdxs train` writing a checkpoint every step, killed at random; every visible checkpoint loads,
 *                and `--resume` finishes.
 *   two-fetchers (once per run): two `sdxs info` processes fetching the same files end with one valid blob each.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestCheckpoint, loadCheckpoint } from '@sdxs/distill';
import { decodePackedGraph } from '@sdxs/pipeline';
import { DiskGraphCache } from '@sdxs/runtime-node';
import { decodePng } from '@sdxs/image';
import { FakeHub, type FakeFile } from '../packages/runtime-node/test/hub-fake.js';
import { materializeModelFolder } from './golden/materialize.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'packages/cli/src/main.ts');
const CASE = join(ROOT, '../shared/golden/pipeline-sdxs512-t2i/model');
const REPO = 'test-org/tiny-sdxs';

const sha256 = (b: Uint8Array | Uint8ClampedArray): string => createHash('sha256').update(b).digest('hex');

function option(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stderr: string;
}

/** Run `sdxs …`; with `killAfterMs`, SIGKILL it then (if still running). */
function sdxs(args: readonly string[], env: Record<string, string>, killAfterMs?: number): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, ms: performance.now() - t0, stderr });
    });
  });
}

/**
 * A random moment to kill a run that took `span` ms uninterrupted: after the 300 ms a process needs to start, and
 * before 80 % of the run, so the kill lands while it works (a run that meets a warm cache may still finish first).
 */
function killMoment(span: number): number {
  return 300 + Math.random() * Math.max(0, 0.8 * span - 300);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() || d.isSymbolicLink())
    .map((d) => join(d.parentPath, d.name));
}

interface ScenarioResult {
  scenario: string;
  trials: number;
  killed: number;
  /** Trials whose kill came after the run had already finished (nothing to interrupt). */
  finished_before_kill: number;
  violations: string[];
  final_runs_ok: number;
}

/** The golden model's files as a fake hub repo (safetensors in LFS, served slowly so a kill lands mid-transfer). */
function hubFiles(): FakeFile[] {
  const model = materializeModelFolder(CASE);
  try {
    return filesUnder(model.path).map((path) => ({ path: relative(model.path, path), content: new Uint8Array(readFileSync(path)), lfs: path.endsWith('.safetensors') }));
  } finally {
    model.cleanup();
  }
}

async function download(trials: number, log: (s: string) => void): Promise<ScenarioResult> {
  const files = hubFiles();
  const hub = await FakeHub.start([{ id: REPO, files }]);
  const slow = () => {
    for (const f of files) if (f.lfs) hub.behave(f.path, { chunkBytes: 16 * 1024, chunkDelayMs: 4, times: 1_000_000 });
  };
  slow();
  let cache = await mkdtemp(join(tmpdir(), 'sdxs-kill9-hub-'));
  const env = () => ({ HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_HOME: join(cache, 'home'), HF_HUB_OFFLINE: '0' });
  const r: ScenarioResult = { scenario: 'download (sdxs info from a fake hub)', trials, killed: 0, finished_before_kill: 0, violations: [], final_runs_ok: 0 };
  const expected = new Map(files.map((f) => [f.path, sha256(f.content)]));
  const check = (when: string) => {
    // Every visible snapshot file is whole: its bytes are the hub's. Blobs are whole or named *.incomplete.
    for (const path of filesUnder(join(cache, 'models--test-org--tiny-sdxs', 'snapshots'))) {
      const rel = path.split('/snapshots/')[1]!.split('/').slice(1).join('/');
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        r.violations.push(`${when}: ${rel} is visible but unreadable (${(e as Error).message})`);
        continue;
      }
      if (sha256(bytes) !== expected.get(rel)) r.violations.push(`${when}: ${rel} is visible with the wrong bytes`);
    }
    for (const blob of filesUnder(join(cache, 'models--test-org--tiny-sdxs', 'blobs'))) {
      const name = blob.split('/').pop()!;
      if (name.endsWith('.incomplete')) continue;
      const bytes = readFileSync(blob);
      const gitOrSha = [...expected.values()].includes(sha256(bytes)) || files.some((f) => createHash('sha1').update(`blob ${f.content.length}\0`).update(f.content).digest('hex') === name);
      if (!gitOrSha) r.violations.push(`${when}: blob ${name} holds bytes of no file`);
    }
  };
  // One clean run to learn how long a download takes.
  const reference = await sdxs(['info', REPO, '-q'], env());
  if (reference.code !== 0) throw new Error(`the reference download failed: ${reference.stderr}`);
  const span = reference.ms;
  for (let t = 0; t < trials; t++) {
    const at = killMoment(span);
    const run = await sdxs(['info', REPO, '-q'], env(), at);
    if (run.signal === 'SIGKILL') r.killed++;
    else r.finished_before_kill++;
    check(`trial ${t + 1} after the kill at ${at.toFixed(0)} ms`);
    // A killed run's partial files stay for the next trial to resume; a finished one leaves nothing to download,
    // so the cache starts again.
    if (run.signal !== 'SIGKILL') {
      rmSync(cache, { recursive: true, force: true });
      cache = await mkdtemp(join(tmpdir(), 'sdxs-kill9-hub-'));
    }
  }
  hub.behave(files[0]!.path, {});
  const final = await sdxs(['info', REPO, '-q'], env());
  if (final.code === 0) r.final_runs_ok++;
  else r.violations.push(`the run after the last kill failed: ${final.stderr.trim()}`);
  check('after the final run');
  const snapshot = filesUnder(join(cache, 'models--test-org--tiny-sdxs', 'snapshots')).length;
  if (snapshot !== files.length) r.violations.push(`the final snapshot has ${snapshot} of ${files.length} files`);

  // Two processes fetching the same files at once: one valid blob each, both succeed.
  rmSync(cache, { recursive: true, force: true });
  cache = await mkdtemp(join(tmpdir(), 'sdxs-kill9-hub-'));
  slow();
  const [a, b] = await Promise.all([sdxs(['info', REPO, '-q'], env()), sdxs(['info', REPO, '-q'], env())]);
  if (a.code !== 0 || b.code !== 0) r.violations.push(`two fetchers: exits ${a.code}, ${b.code}: ${a.stderr}${b.stderr}`);
  check('two fetchers');
  const blobs = filesUnder(join(cache, 'models--test-org--tiny-sdxs', 'blobs')).filter((p) => !p.endsWith('.incomplete'));
  if (blobs.length !== files.length) r.violations.push(`two fetchers: ${blobs.length} blobs for ${files.length} files`);
  log(`download: ${r.killed} killed mid-run, ${r.finished_before_kill} finished first, ${r.violations.length} violations; two fetchers: ${blobs.length} blobs for ${files.length} files`);
  rmSync(cache, { recursive: true, force: true });
  await hub.close();
  return r;
}

async function graphCache(trials: number, log: (s: string) => void): Promise<ScenarioResult> {
  const model = materializeModelFolder(CASE);
  const work = await mkdtemp(join(tmpdir(), 'sdxs-kill9-graphs-'));
  const r: ScenarioResult = { scenario: 'graph cache (sdxs generate)', trials, killed: 0, finished_before_kill: 0, violations: [], final_runs_ok: 0 };
  const args = (out: string) => ['generate', 'a cat', '--model', model.path, '--seed', '3', '--steps', '2', '--out', out, '-q'];
  const refOut = join(work, 'reference.png');
  const ref = await sdxs(args(refOut), { SDXS_CACHE: join(work, 'ref-cache') });
  if (ref.code !== 0) throw new Error(`the reference generate failed: ${ref.stderr}`);
  const refPixels = sha256(decodePng(readFileSync(refOut)).data);
  for (let t = 0; t < trials; t++) {
    const cacheDir = join(work, `cache-${t}`);
    const out = join(work, `out-${t}.png`);
    const at = killMoment(ref.ms);
    const run = await sdxs(args(out), { SDXS_CACHE: cacheDir }, at);
    if (run.signal === 'SIGKILL') r.killed++;
    else r.finished_before_kill++;
    for (const entry of filesUnder(cacheDir)) {
      const name = entry.split('/').pop()!;
      if (name.startsWith('.') && name.endsWith('.tmp')) continue; // the writer's private temporary file
      if (!name.endsWith('.graph')) continue;
      // The cache's own reader: an entry's length and sha256 are checked (a damaged one would read as missing and
      // be dropped, with a warning); what it returns must be a whole packed graph.
      const warnings: string[] = [];
      const payload = await new DiskGraphCache({ dir: dirname(entry), onWarning: (m) => warnings.push(m) }).get(name.slice(0, -'.graph'.length));
      if (!payload || warnings.length) {
        r.violations.push(`trial ${t + 1}: cache entry ${name} is visible but damaged (${warnings.join('; ') || 'unreadable'})`);
        continue;
      }
      try {
        decodePackedGraph(payload);
      } catch (e) {
        r.violations.push(`trial ${t + 1}: cache entry ${name} holds no whole packed graph (${(e as Error).message})`);
      }
    }
    if (existsSync(out)) {
      try {
        if (sha256(decodePng(readFileSync(out)).data) !== refPixels) r.violations.push(`trial ${t + 1}: the PNG is visible with other pixels`);
      } catch (e) {
        r.violations.push(`trial ${t + 1}: the PNG is visible but not whole (${(e as Error).message})`);
      }
    }
    const again = await sdxs(args(out), { SDXS_CACHE: cacheDir });
    if (again.code === 0 && sha256(decodePng(readFileSync(out)).data) === refPixels) r.final_runs_ok++;
    else r.violations.push(`trial ${t + 1}: the next run failed or differs: ${again.stderr.trim()}`);
    rmSync(cacheDir, { recursive: true, force: true });
  }
  log(`graph-cache: ${r.killed} killed mid-run, ${r.finished_before_kill} finished first, ${r.final_runs_ok}/${trials} next runs equal the reference, ${r.violations.length} violations`);
  rmSync(work, { recursive: true, force: true });
  model.cleanup();
  return r;
}

async function checkpoint(trials: number, log: (s: string) => void): Promise<ScenarioResult> {
  const model = materializeModelFolder(CASE);
  const work = await mkdtemp(join(tmpdir(), 'sdxs-kill9-ckpt-'));
  const r: ScenarioResult = { scenario: 'checkpoints (sdxs train)', trials, killed: 0, finished_before_kill: 0, violations: [], final_runs_ok: 0 };
  const steps = 12;
  const args = (out: string, resume: boolean) => ['train', '--teacher', join(model.path, 'vae'), '--out', out, '--steps', String(steps), '--batch', '1', '--latent-size', '4', '--student-width', '8', '--checkpoint-every', '1', '--threads', '2', ...(resume ? ['--resume'] : [])];
  const ref = await sdxs(args(join(work, 'reference'), false), {});
  if (ref.code !== 0) throw new Error(`the reference training failed: ${ref.stderr}`);
  for (let t = 0; t < trials; t++) {
    const out = join(work, `run-${t}`);
    const at = killMoment(ref.ms);
    const run = await sdxs(args(out, false), {}, at);
    if (run.signal === 'SIGKILL') r.killed++;
    else r.finished_before_kill++;
    if (existsSync(out)) {
      for (const name of readdirSync(out).filter((n) => n.startsWith('checkpoint-'))) {
        try {
          await loadCheckpoint(join(out, name));
        } catch (e) {
          r.violations.push(`trial ${t + 1}: ${name} is visible but does not load (${(e as Error).message})`);
        }
      }
      const latest = await latestCheckpoint(out).catch((e: Error) => `error: ${e.message}`);
      if (typeof latest === 'string' && latest.startsWith('error')) r.violations.push(`trial ${t + 1}: latestCheckpoint failed (${latest})`);
    }
    const resumed = await sdxs(args(out, existsSync(out) && readdirSync(out).some((n) => n.startsWith('checkpoint-'))), {});
    const last = join(out, `checkpoint-${String(steps).padStart(6, '0')}`);
    if (resumed.code === 0 && existsSync(last) && (await loadCheckpoint(last).then(() => true, () => false))) r.final_runs_ok++;
    else r.violations.push(`trial ${t + 1}: the resumed run failed: ${resumed.stderr.trim().split('\n').pop()}`);
    rmSync(out, { recursive: true, force: true });
  }
  log(`checkpoint: ${r.killed} killed mid-run, ${r.finished_before_kill} finished first, ${r.final_runs_ok}/${trials} resumed runs finished, ${r.violations.length} violations`);
  rmSync(work, { recursive: true, force: true });
  model.cleanup();
  return r;
}

const SCENARIOS = { download, 'graph-cache': graphCache, checkpoint } as const;

async function main(): Promise<void> {
  const trials = Number(option('--trials') ?? 50);
  const names = (option('--scenarios') ?? Object.keys(SCENARIOS).join(',')).split(',') as (keyof typeof SCENARIOS)[];
  const log = (s: string) => console.log(s);
  const results: ScenarioResult[] = [];
  for (const name of names) {
    if (!Object.hasOwn(SCENARIOS, name)) throw new Error(`unknown scenario ${name}; scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
    results.push(await SCENARIOS[name](trials, log));
  }
  for (const r of results) for (const v of r.violations.slice(0, 5)) log(`  ${r.scenario}: ${v}`);
  const json = option('--json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  if (results.some((r) => r.violations.length > 0)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`kill9: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
