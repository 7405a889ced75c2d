import type { DecoderLoss } from '../recipes/decoder.js';
import type { UpdateMode } from '../step-graph.js';

/** Options of `sdxs train` (decoder stage), after parsing. See `TRAIN_USAGE`. */
export interface TrainArgs {
  teacher: string;
  out: string;
  studentWidth?: number;
  studentBlocks?: number[];
  init: 'random' | 'teacher';
  steps: number;
  batch: number;
  latentSize: number;
  lr: number;
  optimizer: 'adamw' | 'sgd';
  momentum: number;
  weightDecay?: number;
  clip?: number;
  accumulate: number;
  ema?: number;
  loss: DecoderLoss;
  update: UpdateMode;
  seed: number;
  checkpointEvery: number;
  logEvery: number;
  resume: boolean;
  jsonLog?: string;
  threads?: number;
}

/** The usage text of `sdxs train`. */
export const TRAIN_USAGE = `usage: sdxs train [decoder] --teacher DIR --out DIR [options]

Distil a tiny image decoder from a teacher decoder on synthetic latents (stage one of the SDXS recipe).
  --teacher DIR          AutoencoderTiny folder: config.json + diffusion_pytorch_model.safetensors
  --out DIR              checkpoints (checkpoint-NNNNNN/) and train_log.jsonl go here
  --student-width N      student decoder channels (default: the teacher's)
  --student-blocks LIST  student num_decoder_blocks, e.g. 1,1,1,1 (default: the teacher's)
  --init random|teacher  start from random weights (default) or a copy of the teacher
  --steps N              optimizer steps in all (default 1000)
  --batch N              latents per micro-batch (default 4)
  --latent-size N        latent height and width; images are 8× larger (default 16)
  --lr X                 learning rate (default 1e-3)
  --optimizer adamw|sgd  (default adamw)
  --momentum X           SGD momentum (default 0.9)
  --weight-decay X       (default: 1e-2 for AdamW, 0 for SGD)
  --clip X               clip gradients to this global norm
  --accumulate N         micro-batches per step (default 1)
  --ema X                keep an EMA of the weights with this decay
  --loss l1-down8|mse    (default l1-down8, the paper's decoder loss)
  --update host|graph    where the optimizer runs (default host, faster on the CPU)
  --seed N               latents and initial weights (default 0)
  --checkpoint-every N   steps between checkpoints; 0: only at the end (default 100)
  --log-every N          steps between progress lines (default 1)
  --resume               continue from the newest checkpoint in --out
  --json-log FILE        one JSON object per line (default <out>/train_log.jsonl)
  --threads N            ONNX Runtime intra-op threads`;

/** A command-line mistake: the message says which option and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const FLAGS = new Set(['resume']);

function num(name: string, v: string, integer: boolean, min: number): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min) {
    throw new UsageError(`--${name} needs ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return x;
}

function choice<T extends string>(name: string, v: string, options: readonly T[]): T {
  const found = options.find((o) => o === v);
  if (!found) throw new UsageError(`--${name} is one of ${options.join(', ')}, got ${JSON.stringify(v)}`);
  return found;
}

/**
 * Parse `sdxs train` arguments (after `train`). An optional leading `decoder` names the recipe stage, the only one
 * so far. Options take their value as the next argument or after `=`.
 *
 * @example
 * parseTrainArgs(['--teacher', 'taesd', '--out', 'runs/a', '--steps', '500']);
 */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const args = [...argv];
  if (args[0] === 'decoder') args.shift();
  const raw = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (raw.has(name)) throw new UsageError(`--${name} is given twice`);
    if (FLAGS.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      raw.set(name, 'true');
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    raw.set(name, value);
  }
  const take = (name: string) => {
    const v = raw.get(name);
    raw.delete(name);
    return v;
  };
  const teacher = take('teacher');
  const out = take('out');
  if (!teacher) throw new UsageError('--teacher is required');
  if (!out) throw new UsageError('--out is required');
  const opt = <T>(name: string, parse: (v: string) => T): T | undefined => {
    const v = take(name);
    return v === undefined ? undefined : parse(v);
  };
  const optimizer = opt('optimizer', (v) => choice('optimizer', v, ['adamw', 'sgd'] as const)) ?? 'adamw';
  const parsed: TrainArgs = {
    teacher,
    out,
    init: opt('init', (v) => choice('init', v, ['random', 'teacher'] as const)) ?? 'random',
    steps: opt('steps', (v) => num('steps', v, true, 1)) ?? 1000,
    batch: opt('batch', (v) => num('batch', v, true, 1)) ?? 4,
    latentSize: opt('latent-size', (v) => num('latent-size', v, true, 1)) ?? 16,
    lr: opt('lr', (v) => num('lr', v, false, 0)) ?? 1e-3,
    optimizer,
    momentum: opt('momentum', (v) => num('momentum', v, false, 0)) ?? 0.9,
    accumulate: opt('accumulate', (v) => num('accumulate', v, true, 1)) ?? 1,
    loss: opt('loss', (v) => choice('loss', v, ['l1-down8', 'mse'] as const)) ?? 'l1-down8',
    update: opt('update', (v) => choice('update', v, ['host', 'graph'] as const)) ?? 'host',
    seed: opt('seed', (v) => num('seed', v, true, 0)) ?? 0,
    checkpointEvery: opt('checkpoint-every', (v) => num('checkpoint-every', v, true, 0)) ?? 100,
    logEvery: opt('log-every', (v) => num('log-every', v, true, 1)) ?? 1,
    resume: take('resume') === 'true',
  };
  const width = opt('student-width', (v) => num('student-width', v, true, 1));
  if (width !== undefined) parsed.studentWidth = width;
  const blocks = opt('student-blocks', (v) => v.split(',').map((b) => num('student-blocks', b, true, 0)));
  if (blocks !== undefined) parsed.studentBlocks = blocks;
  const wd = opt('weight-decay', (v) => num('weight-decay', v, false, 0));
  if (wd !== undefined) parsed.weightDecay = wd;
  const clip = opt('clip', (v) => num('clip', v, false, Number.MIN_VALUE));
  if (clip !== undefined) parsed.clip = clip;
  const ema = opt('ema', (v) => num('ema', v, false, 0));
  if (ema !== undefined) {
    if (ema > 1) throw new UsageError(`--ema is a decay in [0, 1], got ${ema}`);
    parsed.ema = ema;
  }
  const jsonLog = take('json-log');
  if (jsonLog !== undefined) parsed.jsonLog = jsonLog;
  const threads = opt('threads', (v) => num('threads', v, true, 1));
  if (threads !== undefined) parsed.threads = threads;
  const unknown = [...raw.keys()];
  if (unknown.length) throw new UsageError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `--${u}`).join(', ')}`);
  return parsed;
}
