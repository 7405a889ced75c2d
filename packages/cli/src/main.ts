#!/usr/bin/env node
/**
 * The `sdxs` command: generate, sketch, serve, worker, info, convert, train, distill and eval. `main(argv, io)`
 * runs one command line and resolves to its exit code, so tests call it in-process; run as a script, it
 * uses the process's streams and sets process.exitCode.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runConvert } from './commands/convert.js';
import { runGenerate } from './commands/generate.js';
import { runInfo } from './commands/info.js';
import { runServe } from './commands/serve.js';
import { runSketch } from './commands/sketch.js';
import { runTrain } from './commands/train.js';
import { runDistill } from './commands/distill.js';
import { runEval } from './commands/eval.js';
import { runWorker } from './commands/worker.js';
import { errorDetails, errorLine, exitCodeOf, UsageError } from './errors.js';
import { processIO, userCwd, type CliIO } from './io.js';
import { cliVersion } from './version.js';

type Command = (argv: readonly string[], io: CliIO) => Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  generate: { run: runGenerate, summary: 'text to image, or with a control image or an initial image: PNGs with their parameters' },
  sketch: { run: runSketch, summary: 'live ControlNet rendering: re-render a drawing every time it is saved' },
  serve: { run: runServe, summary: 'an image API: OpenAI and A1111 routes, batching, a sketch WebSocket, metrics; --queue for Redis' },
  worker: { run: runWorker, summary: 'run the jobs of `sdxs serve --queue` from BullMQ on Redis (any number, any machines)' },
  info: { run: runInfo, summary: 'describe a model: components, parameters, dtypes, scheduler, where it runs' },
  convert: { run: runConvert, summary: 'write the ONNX graphs (text encoder, fused one-step) for other tools' },
  train: { run: runTrain, summary: 'distil a tiny image decoder from a teacher (stage one of the SDXS recipe)' },
  distill: { run: runDistill, summary: 'train the micro Stable Diffusion here from nothing: data, evaluator, vae, teacher, all' },
  eval: { run: runEval, summary: 'score a shapes model: accuracy and FID_shapes with the shipped evaluator' },
};

export const MAIN_HELP = `Usage: sdxs <command> [options]

Real-time one-step diffusion (SDXS) in Node, on onnxruntime (cpu, webgpu, cuda).

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`sdxs <command> --help\` for a command's options.
      --version            print the version
  -h, --help               this help

Example:
  sdxs generate "a red circle on a blue background" --out circle.png      # the embedded model, offline
  sdxs generate "a photo of a cat" --model IDKiro/sdxs-512-dreamshaper --out cat.png`;

/**
 * Run one `sdxs` command line (without the program name); resolves to the exit code: 0, 1 on failure, 2 on a
 * usage error. Never throws: failures are reported on `io.stderr` as one line (plus the stack with --verbose).
 *
 * @example
 * process.exitCode = await main(['info', './sdxs-512-dreamshaper']);
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const command = first !== undefined && Object.hasOwn(COMMANDS, first) ? first : '';
  try {
    if (first === undefined) {
      io.stderr.write(`${MAIN_HELP}\n`);
      return 2;
    }
    if (first === '--help' || first === '-h' || first === 'help') {
      const topic = rest[0];
      if (first === 'help' && topic !== undefined) return await main([topic, '--help'], io);
      io.stdout.write(`${MAIN_HELP}\n`);
      return 0;
    }
    if (first === '--version') {
      io.stdout.write(`sdxs ${cliVersion()}\n`);
      return 0;
    }
    const entry = COMMANDS[command];
    if (!entry) throw new UsageError(first.startsWith('-') ? `unknown option ${first} before the command` : `unknown command ${JSON.stringify(first)}; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return await entry.run(rest, io);
  } catch (e) {
    io.stderr.write(`${errorLine(e, command)}\n`);
    if (verbose) io.stderr.write(`${errorDetails(e)}\n`);
    return exitCodeOf(e);
  }
}

/** True when this module is the program node started (not imported by a test or a bundle's other entry). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `pnpm sdxs …` runs in the repository root: work in the folder the user typed the command in, so every
  // relative path (--out, --model, train's --teacher) means what they meant.
  const cwd = userCwd();
  if (cwd !== process.cwd()) process.chdir(cwd);
  const controller = new AbortController();
  // The first Ctrl-C stops between steps and cleans up temporary files; a second one ends the process at once.
  process.once('SIGINT', () => {
    controller.abort(new Error('interrupted'));
    process.once('SIGINT', () => process.exit(130));
  });
  // SIGTERM (a service manager, a container stop) ends long-running commands (serve, worker) as Ctrl-C does.
  process.once('SIGTERM', () => controller.abort(new Error('terminated')));
  process.exitCode = await main(process.argv.slice(2), processIO(controller.signal));
}
