/**
 * `sdxs train …`: @sdxs/distill's runTrainCommand (tiny-decoder distillation) on an onnxruntime-node CPU
 * runtime, its lines on our streams. distill parses its own flags and prints its own usage and errors; paths
 * are relative to the process's folder (the entry point moves there for `pnpm sdxs`).
 */
import { runTrainCommand } from '@sdxs/distill';
import { createNodeRuntime } from '@sdxs/runtime-node';
import type { CliIO } from '../io.js';

/**
 * Run `sdxs train`; returns distill's exit code (0 done, 1 failure, 2 usage, 130 stopped by Ctrl-C after a
 * checkpoint).
 *
 * @example
 * await runTrain(['--teacher', 'sdxs/vae', '--out', 'runs/tiny', '--steps', '100'], processIO());
 */
export async function runTrain(argv: readonly string[], io: CliIO): Promise<number> {
  const tty = io.stderr.isTTY === true;
  let open = false;
  const end = (): void => {
    if (open) io.stderr.write('\n');
    open = false;
  };
  try {
    return await runTrainCommand(argv, {
      runtime: ({ threads }) => createNodeRuntime(threads !== undefined ? { intraOpThreads: threads } : {}),
      log: (line) => {
        end();
        io.stdout.write(`${line}\n`);
      },
      error: (line) => {
        end();
        io.stderr.write(`${line}\n`);
      },
      // Progress on stderr, redrawn in place on a terminal, so stdout keeps only the run's results.
      progress: (line) => {
        if (tty) {
          io.stderr.write(`\r${line}\x1b[K`);
          open = true;
        } else io.stderr.write(`${line}\n`);
      },
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } finally {
    end();
  }
}
