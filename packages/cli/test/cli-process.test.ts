import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { decodePng } from '@sdxs/image';
import { goldenModel, REPO_ROOT, tempDir } from './cli-helpers.js';

// The CLI as users run it: a separate node process (tsx for the TypeScript sources), exit codes and streams.
function sdxs(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HF_HUB_OFFLINE: '1', SDXS_CACHE: join(cwd, 'cache') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the sdxs process', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  beforeAll(() => {
    model = goldenModel();
    work = tempDir();
  });
  afterAll(() => {
    model?.cleanup();
    work?.cleanup();
  });

  it('generates a PNG end to end and exits 0, paths on stdout, progress on stderr', () => {
    const out = join(work.path, 'cat.png');
    const r = sdxs(['generate', 'a photo of a cat', '--model', model.path, '--seed', '42', '--out', out], work.path);
    expect(r.stderr).toMatch(/1 image\(s\) of 128×128, seed 42, in /);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${out}\n`);
    expect(decodePng(readFileSync(out)).text.parameters).toMatch(/^a photo of a cat\nSteps: 1, Sampler: Euler, CFG scale: 0\.0, Seed: 42, /);
  });

  it('exits 2 on an unknown flag, 1 on a failure, with the stack only under --verbose', () => {
    const unknown = sdxs(['info', model.path, '--frobnicate'], work.path);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("sdxs info: Unknown option '--frobnicate'. (see `sdxs info --help`)\n");
    const missing = sdxs(['info', join(work.path, 'missing')], work.path);
    expect(missing.status).toBe(1);
    expect(missing.stderr.split('\n')).toHaveLength(2);
    const verbose = sdxs(['info', join(work.path, 'missing'), '--verbose'], work.path);
    expect(verbose.status).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at .*resolve-model\.ts/);
  });
});
