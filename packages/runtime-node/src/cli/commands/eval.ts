/**
 * `sdxs eval`: score a text-to-image model on the shapes task with the shipped evaluator — accuracy (every
 * attribute the prompt asked for is what the evaluator sees) and FID_shapes (Fréchet distance to real images in the
 * evaluator's feature space). Without --model it scores the embedded default model with its own settings.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { evaluatePrompts, rgbaToRgb, ShapesEvaluator, type PromptEvaluation } from '@sdxs/shapes';
import { embeddedModel, embeddedModels } from '../../embedded.js';
import { createNodeRuntime } from '../../runtime.js';
import { LocalFolderSource } from '../../sources/local-folder.js';
import { COMMON_HELP, intFlag, numberFlag, parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { Reporter } from '../progress.js';

export const EVAL_HELP = `Usage: sdxs eval [--model <dir|name>] [options]

Score a shapes model: generate one image per held-out prompt of the shapes grammar and classify it with the
evaluator. Prints accuracy (share of images whose shape, colour and background all match the prompt), per
attribute, and FID_shapes against as many real test images.

Options:
  -m, --model <dir|name>   a diffusers folder or an embedded model's name (default: the embedded default model)
      --evaluator <dir>    the evaluator folder (default: the embedded one)
      --prompts <n>        prompts to score (default 200; FID_shapes is defined on 2000)
      --steps <n>          denoising steps (default: the embedded model's, else 25)
      --guidance <g>       guidance scale (default: the embedded model's, else 5)
      --seed <n>           seed of the first batch; batch k uses seed + k (default 0)
      --batch <n>          prompts per generate call (default 50)
      --threads <n>        CPU threads for onnxruntime
      --json               print the result as one JSON object on stdout

${COMMON_HELP}

Example:
  sdxs eval --prompts 2000 --json`;

const OPTIONS = {
  model: { type: 'string', short: 'm' },
  evaluator: { type: 'string' },
  prompts: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export interface EvaluateModelOptions {
  /** A diffusers folder. */
  model: string;
  /** An evaluator folder. */
  evaluator: string;
  prompts: number;
  steps?: number | undefined;
  guidance?: number | undefined;
  seed?: number | undefined;
  batch?: number | undefined;
  threads?: number | undefined;
  io: CliIO;
  progress: Reporter;
}

/** Load the model and the evaluator, score, report; returns the figures (what `--json` prints). */
export async function evaluateModel(o: EvaluateModelOptions): Promise<Omit<PromptEvaluation, 'samples'> & { model: string; steps: number; guidance: number }> {
  const runtime = createNodeRuntime(o.threads !== undefined ? { intraOpThreads: o.threads } : {});
  for (const [what, dir] of [['model', o.model], ['evaluator', o.evaluator]] as const) if (!existsSync(dir)) throw new UsageError(`--${what}: ${dir} does not exist`, 'eval');
  const steps = o.steps ?? 25;
  const guidance = o.guidance ?? 5;
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(o.model), runtime);
  const evaluator = await ShapesEvaluator.load(runtime, new LocalFolderSource(o.evaluator), '');
  try {
    const r = await evaluatePrompts(
      async (prompts, seed) => (await pipe.generate({ prompt: prompts, seed, steps, guidanceScale: guidance })).images.map((im) => rgbaToRgb(im.width, im.height, im.data)),
      evaluator,
      { prompts: o.prompts, ...(o.seed !== undefined ? { seed: o.seed } : {}), ...(o.batch !== undefined ? { batch: o.batch } : {}), onProgress: (done, total) => o.progress.status(`eval: ${done}/${total} images`) },
    );
    o.progress.line(
      `eval ${o.model}: accuracy ${(100 * r.accuracy).toFixed(1)} % (shape ${(100 * r.shapeAccuracy).toFixed(1)}, colour ${(100 * r.colorAccuracy).toFixed(1)}, background ${(100 * r.backgroundAccuracy).toFixed(1)}), FID_shapes ${r.fid?.toFixed(3) ?? '-'}, ${r.count} prompts, ${steps} steps, guidance ${guidance}, ${r.seconds.toFixed(1)} s`,
    );
    const { samples: _samples, ...figures } = r;
    return { model: o.model, steps, guidance, ...figures };
  } finally {
    await pipe.dispose();
    await evaluator.dispose();
  }
}

/**
 * Run `sdxs eval`; returns the exit code.
 *
 * @example
 * await runEval(['--prompts', '100', '--json'], processIO());
 */
export async function runEval(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommand('eval', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(`${EVAL_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}; name the model with --model`, 'eval');
  const named = values.model;
  const local = named !== undefined ? resolve(io.cwd, named) : undefined;
  const embedded = named === undefined ? embeddedModels().default : local && existsSync(local) ? undefined : embeddedModel(named);
  if (named !== undefined && !embedded && !(local && existsSync(local))) throw new UsageError(`--model: ${named} is neither a folder nor an embedded model`, 'eval');
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  try {
    const r = await evaluateModel({
      model: embedded?.path ?? local!,
      evaluator: values.evaluator !== undefined ? resolve(io.cwd, values.evaluator) : embeddedModels().evaluator,
      prompts: intFlag('eval', 'prompts', values.prompts, 1, 100_000) ?? 200,
      steps: intFlag('eval', 'steps', values.steps, 1, 1000) ?? embedded?.steps,
      guidance: numberFlag('eval', 'guidance', values.guidance) ?? embedded?.guidanceScale,
      seed: intFlag('eval', 'seed', values.seed, 0, 2 ** 31 - 1),
      batch: intFlag('eval', 'batch', values.batch, 1, 64),
      threads: intFlag('eval', 'threads', values.threads, 1, 1024),
      io,
      progress,
    });
    if (values.json) io.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  } finally {
    progress.done();
  }
}
