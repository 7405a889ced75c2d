// Shared by the cli*.test.ts files: in-process runs of `sdxs` with captured output, and the golden model.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';
import type { CliIO, OutStream } from '../src/io.js';
import { materializeModelFolder, type MaterializedFolder } from '../../../tools/golden/materialize.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const GOLDEN = join(REPO_ROOT, '../shared/golden');
export const PIPELINE_CASE = join(GOLDEN, 'pipeline-sdxs512-t2i');

/** A stream that keeps what is written. */
export class Capture implements OutStream {
  text = '';
  readonly isTTY: boolean;
  readonly columns = 80;
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `sdxs <argv>` in-process with its own cwd and environment (HF offline, a private graph cache). */
export async function runCli(argv: readonly string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<RunResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIO = { stdout, stderr, cwd: options.cwd, env: { HF_HUB_OFFLINE: '1', SDXS_CACHE: join(options.cwd, '.sdxs-cache'), ...options.env } };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A temporary folder, removed by `cleanup()`. */
export function tempDir(prefix = 'sdxs-cli-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The golden pipeline case's model folder with real symlinks (tools/golden/materialize.ts). */
export function goldenModel(): MaterializedFolder {
  return materializeModelFolder(join(PIPELINE_CASE, 'model'));
}
