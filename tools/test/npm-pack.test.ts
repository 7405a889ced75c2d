/**
 * "Ready for npm" (issue 19): @sdxs/runtime-node and @sdxs/pipeline, with the workspace packages they depend on,
 * are built (tsup, through turbo), packed (`pnpm pack` turns `workspace:*` into versions), installed from the
 * tarballs alone with plain npm in an empty folder, and the README's example (npm-pack/example.mjs) runs there with
 * plain `node`: the embedded micro model makes one 64×64 image. A `files` entry that leaves out what the code
 * needs, a dependency left as `workspace:*` or missing, or a README/LICENSE that does not reach the tarball fails it.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readPngText } from '@sdxs/image';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = join(ROOT, 'tools/test/npm-pack/example.mjs');
const TARGETS = ['@sdxs/runtime-node', '@sdxs/pipeline'];
// A fresh clone downloads onnxruntime-node (tens of MB) once; npm's cache makes later runs take seconds.
const TIMEOUT_MS = 10 * 60_000;

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The workspace packages by name: their folders and manifests. */
function workspacePackages(): Map<string, { dir: string; manifest: Manifest }> {
  const dirs = readdirSync(join(ROOT, 'packages')).map((d) => join(ROOT, 'packages', d)).filter((d) => existsSync(join(d, 'package.json')));
  return new Map(dirs.map((dir) => [readManifest(dir).name, { dir, manifest: readManifest(dir) }] as const));
}

/** `names` and every workspace package they reach through `dependencies`. */
function closure(names: readonly string[], packages: ReturnType<typeof workspacePackages>): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const p = packages.get(name);
    if (!p || seen.has(name)) return;
    seen.add(name);
    for (const [dep, range] of Object.entries(p.manifest.dependencies ?? {})) if (range.startsWith('workspace:')) visit(dep);
  };
  names.forEach(visit);
  return [...seen].sort();
}

/**
 * The environment for npm and node in the temporary folder: pnpm passes its own settings to the scripts it runs
 * as npm_config_* (onnxruntime-node-install=skip from the repository's .npmrc among them, and its global rc file);
 * they are dropped so the folder's own .npmrc is what npm reads. Where the registry is and how to reach it stays.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cafile', 'npm_config_proxy', 'npm_config_https_proxy', 'npm_config_noproxy', 'npm_config_cache']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    if ((lower.startsWith('npm_') || lower.startsWith('pnpm_')) && !keep.has(lower)) continue;
    if (k === 'NODE_PATH' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

async function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      const line = `${command} ${args.join(' ')}`;
      console.log(`${line.slice(0, 120)}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (error) reject(new Error(`${line} failed (${error.message.split('\n')[0]})\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('npm pack', () => {
  const work = mkdtempSync(join(tmpdir(), 'sdxs-npm-pack-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    'the tarballs of runtime-node, pipeline and their workspace dependencies install in an empty folder, and the example makes an image',
    async () => {
      const packages = workspacePackages();
      const packed = closure(TARGETS, packages);
      expect(packed).toEqual(expect.arrayContaining([...TARGETS, '@sdxs/model-micro', '@sdxs/tensor']));
      const filters = TARGETS.map((t) => `--filter=${t}...`);

      await run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], ROOT, { ...process.env, TURBO_TELEMETRY_DISABLED: '1' });
      const tarballs = join(work, 'tarballs');
      mkdirSync(tarballs);
      await run('pnpm', ['-r', ...filters, 'pack', '--pack-destination', tarballs], ROOT);
      const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz')).sort();
      expect(files).toEqual(packed.map((name) => `${name.replace(/^@/, '').replace('/', '-')}-${packages.get(name)!.manifest.version}.tgz`).sort());

      // An empty folder outside the repository: nothing above it has a node_modules to fall back on.
      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'sdxs-npm-pack-check', private: true, type: 'module' }));
      // onnxruntime-node's postinstall downloads CUDA libraries from GitHub unless told not to (as the repo's .npmrc does).
      writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
      copyFileSync(EXAMPLE, join(app, 'example.mjs'));
      const env = npmEnv();
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...files.map((f) => join(tarballs, f))], app, env);

      for (const name of packed) {
        const dir = join(app, 'node_modules', name);
        expect(existsSync(join(dir, 'README.md')), `${name} README.md`).toBe(true);
        expect(existsSync(join(dir, 'LICENSE')), `${name} LICENSE`).toBe(true);
        const deps = Object.entries(readManifest(dir).dependencies ?? {});
        expect(deps.filter(([, range]) => range.startsWith('workspace:')), name).toEqual([]);
      }
      // The example's imports resolve inside the folder, to the installed tarballs.
      const resolved = await run(process.execPath, ['--input-type=module', '-e', `for (const p of ${JSON.stringify(TARGETS)}) console.log(import.meta.resolve(p))`], app, env);
      for (const url of resolved.trim().split('\n')) expect(url.startsWith(pathToFileURL(join(app, 'node_modules')).href), url).toBe(true);

      const out = await run(process.execPath, ['example.mjs'], app, env);
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as { model: string; width: number; height: number; bytes: number; colours: number; parameters: string };
      expect(result).toMatchObject({ model: 'sdxs-micro', width: 64, height: 64, bytes: 64 * 64 * 4 });
      expect(result.colours, 'a constant image').toBeGreaterThan(1);
      // The PNG the library wrote carries A1111's parameters text.
      const png = readPngText(readFileSync(join(app, 'circle.png')));
      expect(png.parameters).toBe(result.parameters);
      expect(png.parameters).toMatch(/^a red circle on a blue background\nSteps: 25, Sampler: .*, CFG scale: 2\.5, Seed: 42, Size: 64x64, Model: sdxs-micro/);
    },
    TIMEOUT_MS,
  );
});
