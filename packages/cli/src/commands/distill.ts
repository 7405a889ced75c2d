/**
 * `sdxs distill <stage>`: build the micro Stable Diffusion here, from nothing — the data set preview, the evaluator,
 * the VAE, the teacher (text encoder + U-Net) — each stage with progress, checkpoints, --resume, --minutes and a
 * JSON log; `all` runs them in order, scores the result and, with --ship, copies it into @sdxs/model-micro.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MICRO_STAGES, microPaths, runMicroDiffInstruct, runMicroOdePairs, runMicroOneStep, runMicroSketch, runMicroStage, type MicroStage } from '@sdxs/distill';
import { shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { embeddedPackageDir, createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { encodePng } from '@sdxs/image';
import { choiceFlag, COMMON_HELP, intFlag, numberFlag, parseCommand } from '../args.js';
import { writeFileAtomic } from '../atomic.js';
import { CliError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { Reporter } from '../progress.js';
import { evaluateModel, evaluateSketchModel } from './eval.js';

export const DISTILL_HELP = `Usage: sdxs distill <stage> [options]

Train the micro Stable Diffusion (the offline default model) on this machine, from nothing, on the synthetic
shapes data set. Stages, in the order \`all\` runs them:
  data        write a preview of the data set: images, sketch conditions, captions (--out preview.png)
  evaluator   train the shapes classifier that scores generators (accuracy, FID_shapes)
  vae         train the AutoencoderKL (64×64 ↔ 8×8×4); report PSNR; set scaling_factor from the latents
  vae-decoder train the VAE's decoder further, encoder frozen (the latents do not change); report PSNR
  text-encoder teach the CLIP text encoder the grammar (attributes from the pooled output), SD's pretrained CLIP
  teacher     train the text encoder and the U-Net together (ε-prediction, min-SNR, 10 % caption dropout, EMA)
  ode-pairs   sample noise → latents pairs from the teacher (the one-step stages' data) into ode-pairs/,
              safetensors shards; existing shards are skipped; split it over processes with --worker
  one-step    the SDXS one-step student: the teacher with blocks removed (no mid block, one layer per block),
              trained on the pairs by feature matching (teacher-encoder SSIM) into one-step-model/
  diff-instruct segmented Diff-Instruct on the one-step student: an online diffusion model learns its samples,
              the student follows the teacher's minus the online model's score for t ≤ α·T, plus λ·feature
              matching (α, λ decay); refines one-step-model/ (feature matching alone stays in one-step-fm-model/)
  sketch      the one-step sketch ControlNet for one-step-model/, into its controlnet/
  eval        score the teacher, the one-step model and its sketch ControlNet (as \`sdxs eval\`)
  ship        copy the teacher (sdxs-micro, the text default), the one-step model with its ControlNet
              (sdxs-micro-1step, the sketch default) and the evaluator into @sdxs/model-micro
  all         evaluator, vae, vae-decoder, text-encoder, teacher, ode-pairs, one-step, diff-instruct, sketch, eval (and ship
              with --ship)

Options:
      --out <dir>          run folder (default runs/micro; for data: the PNG to write, default shapes-preview.png)
      --steps <n>          optimizer steps of the stage (default: the stage's own); ode-pairs: the teacher's
                           denoising steps (default 25)
      --batch <n>          batch size (default: the stage's own); ode-pairs: captions per generate call (≤ 64)
      --lr <x>             peak learning rate (default: the stage's own)
      --seed <n>           seed of the stage's noise and initial weights (default 0); ode-pairs: shard s uses seed + s
      --minutes <m>        stop the stage after m minutes; a checkpoint is saved and --resume continues it
      --resume             continue each stage from its newest checkpoint
      --threads <n>        CPU threads for onnxruntime (default: one per core)
      --prompts <n>        eval: prompts to score (default 200; FID_shapes is defined on 2000)
      --count <n>          data: samples in the preview (default 16)
      --pairs <n>          ode-pairs: pairs in all (default 8192, in shards of 256)
      --guidance <g>       ode-pairs: the teacher's guidance scale (default 5)
      --worker <i/n>       ode-pairs: make only the shards s with s % n = i (run n processes, i = 0 … n−1)
      --loss <l>           one-step: feature-matching (default) or mse, the paper's blurry baseline (into one-step-mse/, one-step-model-mse/)
      --ship               all: copy the result into @sdxs/model-micro at the end
      --json               print each stage's report as JSON on stdout

${COMMON_HELP}

Examples:
  sdxs distill all --ship                # reproduce the shipped weights (see the README for the time it takes)
  sdxs distill teacher --minutes 10      # train for ten minutes, then: sdxs distill teacher --resume
  sdxs distill ode-pairs --worker 0/2 & sdxs distill ode-pairs --worker 1/2   # two processes, one set
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
  pairs: { type: 'string' },
  guidance: { type: 'string' },
  worker: { type: 'string' },
  loss: { type: 'string' },
  ship: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const STAGES = ['data', ...MICRO_STAGES, 'ode-pairs', 'one-step', 'diff-instruct', 'sketch', 'eval', 'ship', 'all'] as const;
type Stage = (typeof STAGES)[number];

/** `--worker i/n`: this process makes the shards s with s % n === i. */
function workerFlag(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index < count)) throw new UsageError(`--worker: expected i/n with 0 ≤ i < n (e.g. 0/2), got ${JSON.stringify(value)}`, 'distill');
  return { index, count };
}

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
  // ode-pairs samples rather than trains: --steps and --batch are the teacher's sampling steps and batch there.
  const odePairs = {
    steps: common.steps,
    batch: common.batch,
    seed: common.seed,
    minutes: common.minutes,
    pairs: intFlag('distill', 'pairs', values.pairs, 1, 10_000_000),
    guidance: numberFlag('distill', 'guidance', values.guidance),
    shards: workerFlag(values.worker),
  };
  const loss = choiceFlag('distill', 'loss', values.loss, ['feature-matching', 'mse'] as const);
  if (loss !== undefined && stage !== 'one-step') throw new UsageError('--loss is an option of the one-step stage', 'distill');
  if (odePairs.guidance !== undefined && !(odePairs.guidance >= 0)) throw new UsageError(`--guidance must be ≥ 0, got ${values.guidance}`, 'distill');
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
  const order: Stage[] = stage === 'all' ? [...MICRO_STAGES, 'ode-pairs', 'one-step', 'diff-instruct', 'sketch', 'eval', ...(values.ship ? (['ship'] as const) : [])] : [stage];
  const t0 = performance.now();
  try {
    for (const s of order) {
      if (s === 'eval') {
        const base = { evaluator: paths.evaluator, prompts, io, progress, ...(threads !== undefined ? { threads } : {}) };
        await report({ stage: 'eval', ...(await evaluateModel({ ...base, model: paths.model })) });
        // The one-step model as it ships: one step, no guidance; its ControlNet on held-out sketches.
        if (existsSync(join(paths.oneStepModel, 'model_index.json'))) {
          await report({ stage: 'eval-one-step', ...(await evaluateModel({ ...base, model: paths.oneStepModel, steps: 1, guidance: 0 })) });
        }
        if (existsSync(join(paths.oneStepModel, 'controlnet', 'config.json'))) {
          await report({ stage: 'eval-sketch', ...(await evaluateSketchModel({ ...base, model: paths.oneStepModel, steps: 1, guidance: 0, controlScale: 0.8 })) });
        }
      } else if (s === 'ship') {
        await ship(paths, io);
      } else if (s === 'ode-pairs') {
        const r = await runMicroOdePairs({ root, runtime, openFolder: (dir) => new LocalFolderSource(dir), ...odePairs }, stageIO);
        await report(r);
        if (r['finished'] === false || stopped()) return 130;
      } else if (s === 'one-step' || s === 'diff-instruct' || s === 'sketch') {
        const r =
          s === 'one-step'
            ? await runMicroOneStep({ root, runtime, ...common, ...(loss ? { loss } : {}) }, stageIO)
            : await (s === 'sketch' ? runMicroSketch : runMicroDiffInstruct)({ root, runtime, ...common }, stageIO);
        await report(loss === 'mse' ? { ...r, stage: 'one-step-mse' } : r);
        if (r['finished'] === false || stopped()) return 130;
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

/**
 * Copy the run's models and evaluator into @sdxs/model-micro (replacing what is there): the teacher as `sdxs-micro`
 * (the text-to-image default while the one-step student trails it in accuracy; BENCHMARKS.md) and the one-step model
 * with its sketch ControlNet as `sdxs-micro-1step` (the sketch default, selectable for real-time text-to-image).
 */
async function ship(paths: ReturnType<typeof microPaths>, io: CliIO): Promise<void> {
  const dir = embeddedPackageDir();
  if (!dir) throw new CliError('@sdxs/model-micro is not installed here; --ship works in a clone of the repository');
  if (!existsSync(join(paths.oneStepModel, 'controlnet', 'config.json'))) {
    throw new CliError(`${paths.oneStepModel}: no one-step model with its sketch ControlNet; run \`sdxs distill ode-pairs\`, \`one-step\` and \`sketch\` first`);
  }
  for (const [from, name] of [[paths.model, 'sdxs-micro'], [paths.oneStepModel, 'sdxs-micro-1step'], [paths.evaluator, 'evaluator']] as const) {
    const to = join(dir, 'models', name);
    const tmp = `${to}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await cp(from, tmp, { recursive: true });
    await rm(to, { recursive: true, force: true });
    await rename(tmp, to);
    io.stdout.write(`shipped ${from} → ${to}\n`);
  }
}
