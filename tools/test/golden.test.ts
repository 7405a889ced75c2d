import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCase } from '../golden/run.js';
import { KINDS } from '../golden/kinds/index.js';
import { openSafetensorsFile } from '@sdxs/tensor/node';

const GOLDEN = fileURLToPath(new URL('../../../shared/golden/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cases = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(GOLDEN, d.name, 'case.json')))
  .map((d) => d.name)
  .sort();

describe('golden runner on every shared case', () => {
  it('finds the shared cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  // A failing gradient case may search ReLU subgradient choices (tools/golden/grad/kinks.ts): up to 24 forward and
  // backward passes of the model on two CPU cores. grad-vae-tiny-decoder needs 6 and takes about a minute.
  const timeout = (name: string) => (/"kind"\s*:\s*"grad"/.test(readFileSync(join(GOLDEN, name, 'case.json'), 'utf8')) ? 400_000 : undefined);
  for (const name of cases) {
    it(name, { timeout: timeout(name) }, async () => {
      const report = await runCase(join(GOLDEN, name));
      if (KINDS[report.case.kind]) {
        const failures = report.comparisons.filter((c) => !c.ok).map((c) => `${c.output}: max abs ${c.maxAbs}, rel ${c.maxRel} ${c.problem ?? ''}`);
        expect({ failures, missing: report.missing, unexpected: report.unexpected }).toEqual({ failures: [], missing: [], unexpected: [] });
        expect(report.status).toBe('pass');
        expect(report.comparisons.length).toBeGreaterThan(0);
      } else {
        // Kinds later issues implement are reported as such, never as a pass.
        expect(report.status).toBe('unsupported');
      }
    });
  }
});

describe('golden CLI', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/golden.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });

  it('exits 0 on a passing case and writes what it computed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdxs-golden-'));
    try {
      const file = join(dir, 'rng.safetensors');
      const r = cli([join(GOLDEN, 'rng-torch-randn'), '--write', file]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/rng-torch-randn \(rng\): PASS/);
      expect(r.stdout).toMatch(/ok {3}seed0_1x4x64x64: max abs 0\.00e\+0, max rel 0\.00e\+0 \(bit-exact\)/);
      const written = await openSafetensorsFile(file);
      const reference = await openSafetensorsFile(join(GOLDEN, 'rng-torch-randn/outputs.safetensors'));
      expect(written.names().sort()).toEqual(reference.names().sort());
      const a = await written.read('seed42_17');
      const b = await reference.read('seed42_17');
      expect(a.dtype).toBe('float32');
      expect(a.toArray()).toEqual(b.toArray());
      await written.close();
      await reference.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 for a kind that is not implemented, 1 on a mismatch, 64 on bad usage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdxs-golden-'));
    try {
      const unknown = join(dir, 'unknown');
      mkdirSync(unknown);
      writeFileSync(join(unknown, 'case.json'), JSON.stringify({ kind: 'no-such-kind' }));
      const r2 = cli([unknown]);
      expect(r2.status).toBe(2);
      expect(r2.stdout).toMatch(/kind "no-such-kind" is not implemented yet/);

      // A case whose declared seed does not match the stored reference must fail.
      const wrong = join(dir, 'wrong');
      mkdirSync(wrong);
      writeFileSync(join(wrong, 'case.json'), JSON.stringify({ kind: 'rng', seed0_33: { seed: 1, shape: [33] } }));
      symlinkSync(join(GOLDEN, 'rng-torch-randn/outputs.safetensors'), join(wrong, 'outputs.safetensors'));
      const r1 = cli([wrong]);
      expect(r1.status).toBe(1);
      expect(r1.stdout).toMatch(/FAIL seed0_33: max abs/);
      expect(r1.stdout).toMatch(/FAIL seed0_3: not computed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(cli([]).status).toBe(64);
  });

  it('exits 1 with a clear message for a folder that is not a case', () => {
    const r = cli([ROOT]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/case\.json/);
  });
});
