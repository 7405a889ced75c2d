// The kill -9 harness itself, briefly (two trials per scenario; `pnpm kill9` runs fifty): it must find no
// violation, and the trials must really have been killed mid-run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('pnpm kill9 --trials 2: processes killed mid-download, mid graph-cache write and mid checkpoint leave nothing corrupt, and the next runs finish', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdxs-kill9-test-'));
  try {
    const json = join(dir, 'kill9.json');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/kill9.ts'), '--trials', '2', '--json', json], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const results = JSON.parse(readFileSync(json, 'utf8')) as { scenario: string; trials: number; killed: number; violations: string[] }[];
    expect(results.map((x) => x.violations)).toEqual([[], [], []]);
    expect(results.map((x) => x.trials)).toEqual([2, 2, 2]);
    // Kills land before 80 % of an uninterrupted run: training (no cache to warm) is always interrupted.
    expect(results[2]!.killed).toBe(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
