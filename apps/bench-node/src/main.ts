/**
 * `pnpm bench [suite...] [--json FILE] [--option value...]` — the sdxs benchmark. Suites: `foundation` (safetensors
 * read throughput, half-float conversion, randn), `models` (the SDXS networks at full size: per-stage latency,
 * images/s, memory, FLOP/s against the MatMul peak; options in models/options.ts), `training`, `realtime`, `micro` (the
 * shipped micro model: one-step image latency, sketch-loop frames/s), and `serve` (only when named: load and fault
 * test of `sdxs serve`, batched, unbatched and over Redis), and `libraries` (only when named: the hand-written hub client,
 * tokenizer and protobuf writer against @huggingface/hub, @huggingface/tokenizers and protobufjs), and `encoders` (only when
 * named: PNG, JPEG and WebP encoders against fast-png, pngjs, jpeg-js and sharp), and `abort` (only when named: how
 * fast an aborted call ends, in process and isolated), `anchor` (the SDXS-512 graphs against ../shared/perf-anchor's
 * torch.onnx export, runs alternating in one process: the ratio), `lora` (only when named: a LoRA adapter merged and as
 * switchable graph nodes, against no adapter). Results are medians; the machine
 * is printed with them. Options other than --json take one value each and go to the suites.
 */
import { writeFile } from 'node:fs/promises';
import { describeMachine } from './machine.js';
import { MODELS_USAGE } from './models/options.js';
import { runFoundation } from './suites/foundation.js';
import { runModels } from './suites/models.js';
import { runLibraries } from './suites/libraries.js';
import { runEncoders } from './suites/encoders.js';
import { runAbort } from './suites/abort.js';
import { runAnchor } from './suites/anchor.js';
import { LORA_USAGE, runLora } from './suites/lora.js';
import { runMicro } from './suites/micro.js';
import { runServe, SERVE_USAGE } from './suites/serve.js';
import { runRealtime } from './suites/realtime.js';
import { runTraining } from './suites/training.js';

const SUITES = { foundation: (log: (s: string) => void) => runFoundation(log), models: runModels, training: (log: (s: string) => void) => runTraining(log), realtime: runRealtime, micro: runMicro, serve: runServe, libraries: runLibraries, encoders: runEncoders, abort: runAbort, anchor: runAnchor, lora: runLora } as const;
type SuiteName = keyof typeof SUITES;

function isSuite(s: string): s is SuiteName {
  return Object.hasOwn(SUITES, s);
}

async function main(argv: string[]): Promise<void> {
  let json: string | undefined;
  const suites: SuiteName[] = [];
  const suiteArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') {
      json = argv[++i];
      if (!json) throw new Error('--json needs a file name');
    } else if (isSuite(a)) suites.push(a);
    else if (a.startsWith('--') && i + 1 < argv.length) suiteArgs.push(a, argv[++i]!);
    else throw new Error(`unknown argument ${a} (suites: ${Object.keys(SUITES).join(', ')}; options: --json FILE; ${MODELS_USAGE}; ${SERVE_USAGE}; ${LORA_USAGE})`);
  }
  // `serve` starts processes and a Redis and runs for minutes, `libraries` needs the compared libraries: only when named.
  if (suites.length === 0) suites.push(...(Object.keys(SUITES) as SuiteName[]).filter((s) => s !== 'serve' && s !== 'libraries' && s !== 'encoders' && s !== 'abort' && s !== 'lora'));
  const machine = describeMachine();
  const log = (s: string) => console.log(s);
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`);
  const results: Record<string, unknown> = { machine };
  for (const s of suites) {
    log(`— ${s}`);
    results[s] = await SUITES[s](log, suiteArgs);
  }
  if (json) {
    await writeFile(json, JSON.stringify(results, null, 2) + '\n');
    log(`wrote ${json}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
