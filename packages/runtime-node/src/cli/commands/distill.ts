/**
 * `sdxs distill <stage>`: build the micro Stable Diffusion here, from nothing — the data set preview, the evaluator,
 * the VAE, the teacher (text encoder + U-Net) — each stage with progress, checkpoints, --resume, --minutes and a
 * JSON log; `all` runs them in order, scores the result and, with --ship, copies it into @sdxs/model-micro.
 */
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MICRO_STAGES, microPaths, runMicroStage, type MicroStage } from '@sdxs/distill';
import { shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { embeddedPackageDir } from '../../embedded.js';
import { createNodeRuntime } from '../../runtime.js';
import { COMMON_HELP, intFlag, numberFlag, parseCommand } from '../args.js';
import { writeFileAtomic } from '../atomic.js';
import { CliError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { encodePng } from '../png/index.js';
import { Reporter } from '../progress.js';
import { evaluateModel } from './eval.js';

export const DISTILL_HELP = `Usage: sdxs distill <stage> [options]

Train the micro Stable Diffusion (the offline default model) on this machine, from nothing, on the synthetic
shapes data set. Stages, in the order \`all\` runs them:
  data        write a preview of the data set: images, sketch conditions, captions (--out preview.png)
  evaluator   train the shapes classifier that scores generators (accuracy, FID_shapes)
  vae         train the AutoencoderKL (64×64 ↔ 8×8×4); report PSNR; set scaling_factor from the latents
  vae-decoder train the VAE's decoder further, encoder frozen (the latents do not change); report PSNR
  text-encoder teach the CLIP text encoder the grammar (attributes from the pooled output), SD's pretrained CLIP
  teacher     train the text encoder and the U-Net together (ε-prediction, min-SNR, 10 % caption dropout, EMA)
  eval        score the trained model (as \`sdxs eval\`)
  ship        copy the trained model and evaluator into @sdxs/model-micro (what the CLI uses by default)
  all         evaluator, vae, vae-decoder, text-encoder, teacher, eval (and ship with --ship)

Options:
      --out <dir>          run folder (default runs/micro; for data: the PNG to write, default shapes-preview.png)
      --steps <n>          optimizer steps of the stage (default: the stage's own)
      --batch <n>          batch size (default: the stage's own)
      --lr <x>             peak learning rate (default: the stage's own)
      --seed <n>           seed of the stage's noise and initial weights (default 0)
      --minutes <m>        stop the stage after m minutes; a checkpoint is saved and --resume continues it
      --resume             continue each stage from its newest checkpoint
      --threads <n>        CPU threads for onnxruntime (default: one per core)
      --prompts <n>        eval: prompts to score (default 200; FID_shapes is defined on 2000)
      --count <n>          data: samples in the preview (default 16)
      --ship               all: copy the result into @sdxs/model-micro at the end
      --json               print each stage's report as JSON on stdout

${COMMON_HELP}

Examples:
  sdxs distill all --ship                # reproduce the shipped weights (see the README for the time it takes)
  sdxs distill teacher --minutes 10      # train for ten minutes, then: sdxs distill teacher --resume
  sdxs distill data --count 32 --out shapes.png`;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  minutes: { type: 'string' },
  resume: { type: 'boolean' },
  threads: { type: 'string' },
  prompts: { type: 'string' },
  count: { type: 'string' },
  ship: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const STAGES = ['data', ...MICRO_STAGES, 'eval', 'ship', 'all'] as const;
type Stage = (typeof STAGES)[number];

/** Write a grid of samples: images on the top row, sketches below; captions on stdout. */
async function preview(count: number, out: string, io: CliIO): Promise<void> {
  const S = 64;
  const cols = Math.min(count, 8);
  const rows = Math.ceil(count / cols);
  const width = cols * S;
  const height = rows * 2 * S;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < count; i++) {
    const s = shapeSample(SPLIT_SEEDS.train, i);
    const [cx, cy] = [(i % cols) * S, Math.floor(i / cols) * 2 * S];
    for (const [dy, im] of [[0, s.image], [S, s.sketch]] as const) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const o = ((cy + dy + y) * width + cx + x) * 4;
          data.set(im.data.subarray((y * S + x) * 3, (y * S + x) * 3 + 3), o);
          data[o + 3] = 255;
        }
      }
    }
    io.stdout.write(`${i}: ${s.caption}\n`);
  }
  await writeFileAtomic(out, encodePng({ width, height, data }));
  io.stdout.write(`${out}\n`);
}

/**
 * Run `sdxs distill`; returns the exit code (130 when stopped by Ctrl-C after a checkpoint).
 *
 * @example
 * await runDistill(['vae', '--minutes', '5'], processIO());
 */
export async function runDistill(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommand('distill', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(`${DISTILL_HELP}\n`);
    return 0;
  }
  const stage = positionals[0] as Stage | undefined;
  if (stage === undefined) throw new UsageError(`missing the stage: one of ${STAGES.join(', ')}`, 'distill');
  if (!(STAGES as readonly string[]).includes(stage)) throw new UsageError(`unknown stage ${JSON.stringify(stage)}; stages: ${STAGES.join(', ')}`, 'distill');
  if (positionals.length > 1) throw new UsageError(`one stage per run, got ${positionals.join(' ')}`, 'distill');
  const threads = intFlag('distill', 'threads', values.threads, 1, 1024);
  const common = {
    steps: intFlag('distill', 'steps', values.steps, 1, 10_000_000),
    batch: intFlag('distill', 'batch', values.batch, 1, 4096),
    lr: numberFlag('distill', 'lr', values.lr),
    seed: intFlag('distill', 'seed', values.seed, 0, 2 ** 31 - 1),
    minutes: numberFlag('distill', 'minutes', values.minutes),
    resume: values.resume === true,
  };
  if (common.lr !== undefined && !(common.lr > 0)) throw new UsageError(`--lr must be positive, got ${values.lr}`, 'distill');
  if (common.minutes !== undefined && !(common.minutes > 0)) throw new UsageError(`--minutes must be positive, got ${values.minutes}`, 'distill');
  const prompts = intFlag('distill', 'prompts', values.prompts, 1, 100_000) ?? 200;
  if (stage === 'data') {
    await preview(intFlag('distill', 'count', values.count, 1, 1024) ?? 16, resolve(io.cwd, values.out ?? 'shapes-preview.png'), io);
    return 0;
  }
  const root = resolve(io.cwd, values.out ?? 'runs/micro');
  const paths = microPaths(root);
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  const runtime = createNodeRuntime(threads !== undefined ? { intraOpThreads: threads } : {});
  const stageIO = {
    log: (line: string) => progress.line(line),
    progress: (line: string) => progress.status(line),
    ...(io.signal ? { signal: io.signal } : {}),
  };
  const report = async (r: Record<string, unknown>) => {
    const all = JSON.parse(await readFile(paths.report, 'utf8').catch(() => '{}')) as Record<string, unknown>;
    all[String(r['stage'])] = { ...r, date: new Date().toISOString() };
    await mkdir(root, { recursive: true });
    await writeFile(paths.report, JSON.stringify(all, null, 2) + '\n');
    if (values.json) io.stdout.write(`${JSON.stringify(r)}\n`);
  };
  const stopped = () => io.signal?.aborted === true;
  const order: Stage[] = stage === 'all' ? [...MICRO_STAGES, 'eval', ...(values.ship ? (['ship'] as const) : [])] : [stage];
  const t0 = performance.now();
  try {
    for (const s of order) {
      if (s === 'eval') {
        const r = await evaluateModel({ model: paths.model, evaluator: paths.evaluator, prompts, io, progress, ...(threads !== undefined ? { threads } : {}) });
        await report({ stage: 'eval', ...r });
      } else if (s === 'ship') {
        await ship(paths, io);
      } else {
        const r = await runMicroStage(s as MicroStage, { root, runtime, ...common }, stageIO);
        await report(r);
        if (r['finished'] === false || stopped()) return 130;
      }
    }
    if (stage === 'all') progress.line(`all stages done in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
    return 0;
  } finally {
    progress.done();
  }
}

/** Copy the run's model and evaluator into @sdxs/model-micro (replacing what is there). */
async function ship(paths: ReturnType<typeof microPaths>, io: CliIO): Promise<void> {
  const dir = embeddedPackageDir();
  if (!dir) throw new CliError('@sdxs/model-micro is not installed here; --ship works in a clone of the repository');
  for (const [from, name] of [[paths.model, 'sdxs-micro'], [paths.evaluator, 'evaluator']] as const) {
    const to = join(dir, 'models', name);
    const tmp = `${to}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await cp(from, tmp, { recursive: true });
    await rm(to, { recursive: true, force: true });
    await rename(tmp, to);
    io.stdout.write(`shipped ${from} → ${to}\n`);
  }
}
