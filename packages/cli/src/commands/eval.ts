/**
 * `sdxs eval`: score a text-to-image model on the shapes task with the shipped evaluator — accuracy (every
 * attribute the prompt asked for is what the evaluator sees) and FID_shapes (Fréchet distance to real images in the
 * evaluator's feature space). Without --model it scores the embedded default model with its own settings.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ControlNetPipeline, StableDiffusionPipeline } from '@sdxs/pipeline';
import { asDrawn, evaluatePrompts, evaluateSketches, rgbaToRgb, ShapesEvaluator, type PromptEvaluation, type RgbImage, type SketchEvaluation } from '@sdxs/shapes';
import { embeddedModel, embeddedModels, createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
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
      --sketch             score sketch-to-image instead: the model's ControlNet (controlnet/) draws held-out
                           sketches of the data set (dark strokes on white, --control-mode sketch, as a user
                           draws); prints sketch agreement: the sketched shape, and a silhouette IoU ≥ 0.6
      --control-scale <s>  --sketch: ControlNet conditioning scale (default: the embedded model's, else 0.8, as
                           \`sdxs sketch\`)
      --json               print the result as one JSON object on stdout

${COMMON_HELP}

Example:
  sdxs eval --prompts 2000 --json
  sdxs eval --model runs/micro/one-step-model --steps 1 --guidance 0 --sketch`;

const OPTIONS = {
  model: { type: 'string', short: 'm' },
  evaluator: { type: 'string' },
  prompts: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  threads: { type: 'string' },
  sketch: { type: 'boolean' },
  'control-scale': { type: 'string' },
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

export interface EvaluateSketchModelOptions extends EvaluateModelOptions {
  controlScale: number;
}

/** Sketch agreement of a model folder's ControlNet on held-out sketches, drawn as a user draws them. */
export async function evaluateSketchModel(o: EvaluateSketchModelOptions): Promise<SketchEvaluation & { model: string; steps: number; guidance: number; control_scale: number }> {
  const runtime = createNodeRuntime(o.threads !== undefined ? { intraOpThreads: o.threads } : {});
  for (const [what, dir] of [['model', o.model], ['evaluator', o.evaluator]] as const) if (!existsSync(dir)) throw new UsageError(`--${what}: ${dir} does not exist`, 'eval');
  const steps = o.steps ?? 25;
  const guidance = o.guidance ?? 5;
  const pipe = await ControlNetPipeline.load(new LocalFolderSource(o.model), undefined, runtime);
  const evaluator = await ShapesEvaluator.load(runtime, new LocalFolderSource(o.evaluator), '');
  try {
    const r = await evaluateSketches(
      async (sketches, prompts, seed) => {
        const out: RgbImage[] = [];
        for (let i = 0; i < sketches.length; i++) {
          const s = sketches[i]!;
          // The data set's sketches are white on black; a user draws dark on white, which sketch mode inverts.
          const drawn = asDrawn(s);
          const { images } = await pipe.generate({ prompt: prompts[i]!, image: drawn, controlMode: 'sketch', controlScale: o.controlScale, seed: seed * 1000 + i, steps, guidanceScale: guidance });
          out.push(rgbaToRgb(images[0]!.width, images[0]!.height, images[0]!.data));
        }
        o.progress.status(`eval: sketch batch ${seed - (o.seed ?? 0) + 1}`);
        return out;
      },
      evaluator,
      { count: o.prompts, ...(o.seed !== undefined ? { seed: o.seed } : {}) },
    );
    o.progress.line(
      `eval ${o.model} (sketch): agreement ${(100 * r.agreement).toFixed(1)} % (shape ${(100 * r.shapeAccuracy).toFixed(1)}, IoU ≥ 0.6 ${(100 * r.iouAgreement).toFixed(1)}, mean IoU ${r.meanIoU.toFixed(3)}, colours ${(100 * r.colorAccuracy).toFixed(1)}), ${r.count} sketches, ${steps} steps, guidance ${guidance}, scale ${o.controlScale}, ${r.seconds.toFixed(1)} s`,
    );
    return { model: o.model, steps, guidance, control_scale: o.controlScale, ...r };
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
    const settings = {
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
    };
    const scale = numberFlag('eval', 'control-scale', values['control-scale']);
    if (scale !== undefined && !values.sketch) throw new UsageError('--control-scale is an option of --sketch', 'eval');
    if (scale !== undefined && !(scale >= 0 && scale <= 100)) throw new UsageError(`--control-scale must be from 0 to 100, got ${values['control-scale']}`, 'eval');
    const r = values.sketch ? await evaluateSketchModel({ ...settings, controlScale: scale ?? embedded?.controlScale ?? 0.8 }) : await evaluateModel(settings);
    if (values.json) io.stdout.write(`${JSON.stringify(r)}\n`);
    return 0;
  } finally {
    progress.done();
  }
}
