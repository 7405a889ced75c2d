import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, runCli, tempDir } from './cli-helpers.js';

// `sdxs train` is @sdxs/distill's runTrainCommand; these check the wiring (streams, runtime, exit codes).
describe('sdxs train', () => {
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

  it('distils a tiny decoder from the golden model\'s vae: results on stdout, progress on stderr, a checkpoint written', async () => {
    const out = join(work.path, 'run');
    const r = await runCli(['train', '--teacher', join(model.path, 'vae'), '--out', out, '--steps', '2', '--batch', '1', '--latent-size', '4', '--student-width', '8', '--checkpoint-every', '0', '--threads', '2'], { cwd: work.path });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/done: 2 steps; weights in .*checkpoint-000002\/vae/);
    expect(r.stderr).toMatch(/^step 2\/2 +loss /m);
    expect(existsSync(join(out, 'checkpoint-000002', 'vae', 'config.json'))).toBe(true);
    expect(readFileSync(join(out, 'train_log.jsonl'), 'utf8')).toMatch(/"event":"done"/);
  });

  it('a bad flag is a usage error (exit 2) reported on stderr', async () => {
    const r = await runCli(['train', '--teacher'], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sdxs train: /);
    expect(r.stdout).toBe('');
  });
});
