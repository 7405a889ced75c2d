import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlNetCase, syntheticSketch, type BuiltCase } from '../../../tools/golden/build-controlnet-case.js';
import { decodePng, encodePng } from '@sdxs/image';
import { REPO_ROOT, tempDir } from './cli-helpers.js';

/** A grey drawing whose strokes shift with `k`, as successive saves of a sketch would. */
function drawing(k: number): Uint8Array {
  const rgb = syntheticSketch(128, 128);
  const data = new Uint8Array(128 * 128 * 4);
  for (let i = 0; i < 128 * 128; i++) data.set([rgb[3 * i]!, rgb[3 * i + 1]!, (rgb[3 * i + 2]! + 40 * k) % 256, 255], 4 * i);
  return encodePng({ width: 128, height: 128, data });
}

describe('sdxs sketch --watch (a child process)', () => {
  let built: BuiltCase;
  let work: { path: string; cleanup(): void };
  beforeAll(async () => {
    built = await buildControlNetCase({ width: 128, height: 128 });
    work = tempDir();
  }, 120_000);
  afterAll(() => {
    built?.cleanup();
    work?.cleanup();
  });

  it('renders at start and after saves, one line per frame, and exits 0 on SIGINT', async () => {
    const pad = join(work.path, 'pad.png');
    const out = join(work.path, 'out.png');
    writeFileSync(pad, drawing(0));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), 'sketch', '--watch', pad, 'a house', '--model', join(built.dir, 'model'), '--seed', '1', '--out', out], {
      cwd: REPO_ROOT,
      env: { ...process.env, HF_HUB_OFFLINE: '1', SDXS_CACHE: join(work.path, 'cache') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const frames = () => stdout.split('\n').filter((l) => l.startsWith('frame '));
    const until = async (check: () => boolean, what: string) => {
      for (let t = 0; t < 600 && !check(); t++) await new Promise((r) => setTimeout(r, 100));
      if (!check()) throw new Error(`timed out waiting for ${what}; stdout: ${stdout}; stderr: ${stderr}`);
    };
    try {
      await until(() => frames().length >= 1, 'the first frame');
      const first = Buffer.from(decodePng(readFileSync(out)).data);
      writeFileSync(pad, drawing(1));
      await new Promise((r) => setTimeout(r, 10));
      writeFileSync(pad, drawing(2));
      await until(() => frames().length >= 2, 'a frame after the saves');
      expect(frames()[0]).toMatch(new RegExp(`^frame 1: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in \\d+ (ms|s) \\(render \\d+`));
      // The newest drawing was rendered: the output changed.
      expect(Buffer.from(decodePng(readFileSync(out)).data).equals(first)).toBe(false);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/^sdxs sketch:/m);
  }, 120_000);
});
