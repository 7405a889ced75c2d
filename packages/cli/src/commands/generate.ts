/**
 * `sdxs generate "prompt" --model …`: text (or, with --control, text and a control image; with --init-image, an
 * image to repaint) to PNG files carrying their generation parameters.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { checkRequest, MAX_PROMPT_CHARS, type GenerateRequest, type GenerateResult, type GeneratedImage, type LoraFile } from '@sdxs/pipeline';
import { COMMON_HELP, numberFlag, parseCommand, seedFlag } from '../args.js';
import { checkWritable, writeOutput } from '../atomic.js';
import { anyControlFlag, CONTROL_OPTIONS, controlHelp, controlSettings, strengthFlag, type ControlSettings } from '../conditions.js';
import { CliError, UsageError } from '../errors.js';
import { readImageFlag } from '../images.js';
import type { CliIO } from '../io.js';
import { embeddedFor, loadControlNetPipeline, loadPipeline, LORA_HELP, LORA_OPTIONS, loraFlags, MODEL_FLAG_HELP, MODEL_HELP, MODEL_OPTIONS, modelFlags, type ModelFlags } from '../model.js';
import type { DecodedPng } from '@sdxs/image';
import { formatMs, Reporter } from '../progress.js';

export const GENERATE_HELP = `Usage: sdxs generate "<prompt>" [--model <dir|repo>] [options]

Generate images from a prompt and write them as PNG files whose text chunks hold the generation
parameters (A1111-style "parameters", and an "sdxs" JSON record). Prints the files written.

Options:
      --seed <n>           seed (default: random; printed, and stored in the PNG)
      --steps <n>          denoising steps (default 1: SDXS is a one-step model; the embedded model's own)
      --guidance <g>       classifier-free guidance scale; on above 1 (default 0; the embedded model's own)
      --negative <text>    negative prompt (used with --guidance above 1)
      --width <px>         image width (default: the model's, 512 for SDXS-512)
      --height <px>        image height
      --batch <n>          images to generate at once (out-1.png, out-2.png, …)
      --prompt-file <path> read the prompt from a file ("-": standard input) instead of the argument
  -o, --out <file.png>     output file, or a folder for sdxs-<seed>.png (default: the current folder); a .jpg,
                           .jpeg or .webp name writes that format, the parameters in its EXIF UserComment

Image conditions:
      --control <img.png>  steer the image with a ControlNet and this control image (resized to the output;
                           the output takes its size unless --width/--height say otherwise)
${controlHelp('raw')}
      --init-image <png>   img2img: repaint this image (the output keeps its size; not with --control)
      --strength <s>       how much of --init-image to repaint, from 0 (keep it) to 1 (default 0.8; SDXL 0.3)

SDXL models (two text encoders, as diffusers' StableDiffusionXLPipeline):
      --prompt-2 <text>    the second text encoder's prompt (default: the prompt)
      --negative-2 <text>  the second encoder's negative prompt (default: --negative)
      --original-size <WxH>  size conditioning: the training image's size (default: the output size)
      --target-size <WxH>  size conditioning: the target size (default: the output size)
      --crop <top,left>    size conditioning: crop coordinates (default 0,0)

Model options:
${MODEL_FLAG_HELP}
${LORA_HELP}
${MODEL_HELP}

${COMMON_HELP}

Examples:
  sdxs generate "a red circle on a blue background" --out circle.png     # the embedded model, offline
  sdxs generate "a photo of a cat" --model IDKiro/sdxs-512-dreamshaper --seed 42 --out cat.png
  sdxs generate "a castle" --model IDKiro/sdxs-512-dreamshaper --controlnet IDKiro/sdxs-512-dreamshaper-sketch \\
    --control sketch.png --control-mode sketch --out castle.png
  sdxs generate "a watercolor" --model IDKiro/sdxs-512-dreamshaper --init-image photo.png --strength 0.6
  sdxs generate "a cat" --model IDKiro/sdxs-512-dreamshaper --lora anime.safetensors:0.8 --lora detail.safetensors`;

const OPTIONS = {
  ...MODEL_OPTIONS,
  ...LORA_OPTIONS,
  model: { type: 'string', short: 'm' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  negative: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  batch: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'prompt-file': { type: 'string' },
  ...CONTROL_OPTIONS,
  control: { type: 'string' },
  'init-image': { type: 'string' },
  strength: { type: 'string' },
  'prompt-2': { type: 'string' },
  'negative-2': { type: 'string' },
  'original-size': { type: 'string' },
  'target-size': { type: 'string' },
  crop: { type: 'string' },
} as const;

/** Largest prompt file read (the tokenizer keeps 77 tokens; this only bounds memory). */
const MAX_PROMPT_FILE = 16 * 1024 * 1024;

// checkRequest names GenerateRequest fields; the user typed flags.
const FLAG_OF: Readonly<Record<string, string>> = {
  prompt: 'the prompt',
  negativePrompt: '--negative',
  seed: '--seed',
  steps: '--steps',
  guidanceScale: '--guidance',
  width: '--width',
  height: '--height',
  numImagesPerPrompt: '--batch',
  // img2img's; generate's "image" (the control image) is always given by the time the pipeline sees it.
  image: '--init-image',
  strength: '--strength',
  prompt2: '--prompt-2',
  negativePrompt2: '--negative-2',
  originalSize: '--original-size',
  targetSize: '--target-size',
  cropsCoordsTopLeft: '--crop',
};

/** Two integers `a<sep>b` (`1024x768`, `0,0`) as the request's object, or undefined when the flag is absent. */
function pairFlag<A extends string, B extends string>(flag: string, value: string | undefined, sep: RegExp, keys: readonly [A, B]): Record<A | B, number> | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(sep);
  const nums = parts.map((p) => (/^\d+$/.test(p.trim()) ? Number(p) : NaN));
  if (nums.length !== 2 || nums.some((n) => !Number.isSafeInteger(n))) throw new UsageError(`--${flag}: expected two integers ${keys.join(sep.source === 'x' ? 'x' : ',')}, got ${JSON.stringify(value)}`, 'generate');
  return { [keys[0]]: nums[0]!, [keys[1]]: nums[1]! } as Record<A | B, number>;
}

/** A checkRequest refusal in the words of the command line: `--width must be between …`. */
function asUsageError(e: unknown): unknown {
  if (!(e instanceof RangeError || e instanceof TypeError)) return e;
  const m = /^(?:generate|img2img): "([A-Za-z]+)(\[\d+\])?" (.*)$/s.exec(e.message);
  if (!m) return e;
  const flag = FLAG_OF[m[1]!] ?? m[1]!;
  // "× width × height is …" reads oddly after a flag name: say which flags multiply.
  const rest = m[3]!.replace(/^× width × height/, '× --width × --height');
  return new UsageError(`${flag} ${rest}`, 'generate');
}

async function readPromptFile(path: string, io: CliIO): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += b.length;
      if (size > MAX_PROMPT_FILE) throw new UsageError(`--prompt-file: standard input is over ${MAX_PROMPT_FILE} bytes`, 'generate');
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  const full = resolve(io.cwd, path);
  const st = await stat(full).catch((e: unknown) => {
    throw new UsageError(`--prompt-file: cannot read ${path} (${e instanceof Error ? e.message : String(e)})`, 'generate');
  });
  if (!st.isFile()) throw new UsageError(`--prompt-file: ${path} is not a file`, 'generate');
  if (st.size > MAX_PROMPT_FILE) throw new UsageError(`--prompt-file: ${path} is ${st.size} bytes, over the ${MAX_PROMPT_FILE}-byte limit`, 'generate');
  return (await readFile(full, 'utf8')).replace(/\r?\n$/, '');
}

/** `--out`: a file name as given, or `sdxs-<seed>.png` inside it when it names a folder (default: the current one). */
async function outputPath(out: string, seed: bigint): Promise<string> {
  const isDir = await stat(out).then((s) => s.isDirectory(), () => false);
  return isDir ? join(out, `sdxs-${seed}.png`) : out;
}

/** The file for `path`'s extension: JPEG or WebP (quality 95, the infotext as EXIF UserComment), else PNG. */
function fileBytes(image: GeneratedImage, path: string): Promise<Uint8Array> | Uint8Array {
  const ext = extname(path).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return image.toJpeg({ quality: 95 });
  if (ext === '.webp') return image.toWebp({ quality: 95 });
  return image.toPng();
}

/** out.png → out-1.png, out-2.png… for a batch; the name itself for one image. */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const ext = extname(out);
  const stem = ext ? out.slice(0, -ext.length) : out;
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext || '.png'}`);
}

/**
 * Run `sdxs generate`; returns the exit code.
 *
 * @example
 * await runGenerate(['a cat', '--model', './sdxs-512-dreamshaper', '--seed', '1'], processIO());
 */
export async function runGenerate(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommand('generate', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(`${GENERATE_HELP}\n`);
    return 0;
  }
  const fromFile = values['prompt-file'];
  if (fromFile !== undefined && positionals.length > 0) throw new UsageError('give the prompt as an argument or with --prompt-file, not both', 'generate');
  if (fromFile === undefined && positionals.length === 0) throw new UsageError('missing the prompt', 'generate');
  if (positionals.length > 1) throw new UsageError(`one prompt per run; quote it ("${positionals.join(' ')}")`, 'generate');
  // No --model: the embedded model (no network needed), run with the steps and guidance it was trained for.
  const embedded = embeddedFor(values.model, io);
  const flags = modelFlags('generate', values, values.model ?? embedded!.name);
  const condition = conditionFlags(values);
  const lora = loraFlags('generate', values.lora, io);
  const guidanceScale = numberFlag('generate', 'guidance', values.guidance) ?? embedded?.guidanceScale;
  const request: Omit<GenerateRequest, 'prompt'> = {
    seed: seedFlag('generate', values.seed) ?? BigInt(Math.floor(Math.random() * 2 ** 53)),
    ...optional('steps', numberFlag('generate', 'steps', values.steps) ?? embedded?.steps),
    ...optional('guidanceScale', guidanceScale),
    ...optional('negativePrompt', values.negative),
    ...optional('width', numberFlag('generate', 'width', values.width)),
    ...optional('height', numberFlag('generate', 'height', values.height)),
    ...optional('numImagesPerPrompt', numberFlag('generate', 'batch', values.batch)),
    ...optional('prompt2', values['prompt-2']),
    ...optional('negativePrompt2', values['negative-2']),
    ...optional('originalSize', pairFlag('original-size', values['original-size'], /x/, ['width', 'height'] as const)),
    ...optional('targetSize', pairFlag('target-size', values['target-size'], /x/, ['width', 'height'] as const)),
    ...optional('cropsCoordsTopLeft', pairFlag('crop', values.crop, /,/, ['top', 'left'] as const)),
  };
  // Refuse absurd sizes, steps and batches before any download or load: the model's own size check
  // (multiples of its VAE factor, its default size) runs again in generate().
  try {
    checkRequest({ prompt: '', ...request }, { width: 8, height: 8, spatialFactor: 1 });
  } catch (e) {
    throw asUsageError(e);
  }
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  try {
    if (values.negative !== undefined && !((guidanceScale ?? 0) > 1)) progress.warn('--negative is only used with --guidance above 1; ignored');
    const prompt = fromFile !== undefined ? await readPromptFile(fromFile, io) : positionals[0]!;
    if (prompt.length > MAX_PROMPT_CHARS) throw new UsageError(`the prompt is ${prompt.length} characters; at most ${MAX_PROMPT_CHARS} (CLIP reads the first 77 tokens)`, 'generate');
    // Read the image before any download or load: a missing or corrupt file is a usage error, found at once.
    const image = condition.kind === 'text' ? undefined : await readImageFlag('generate', condition.kind === 'control' ? '--control' : '--init-image', condition.path, io);
    const out = values.out;
    // A path that cannot be written is found now, not after the model is loaded and the images are made.
    await checkWritable(resolve(io.cwd, out ?? '.'), '--out', out ?? '.');
    await generateFiles({ prompt, request, negative: values.negative, out, flags, condition, image, lora }, io, progress);
    return 0;
  } finally {
    // Ends a progress line left open on a terminal, so an error message starts on its own line.
    progress.done();
  }
}

/** What the image is conditioned on besides the prompt. */
type Condition =
  | { readonly kind: 'text' }
  | { readonly kind: 'control'; readonly path: string; readonly control: ControlSettings }
  | { readonly kind: 'init'; readonly path: string; readonly strength: number };

interface ConditionValues {
  control?: string | undefined;
  'init-image'?: string | undefined;
  strength?: string | undefined;
  width?: string | undefined;
  height?: string | undefined;
  'control-mode'?: string | undefined;
  'control-scale'?: string | undefined;
  'canny-low'?: string | undefined;
  'canny-high'?: string | undefined;
  controlnet?: string | undefined;
}

/** Check the image-condition flags together: each set of flags needs its image, and the two images exclude each other. */
function conditionFlags(values: ConditionValues): Condition {
  const init = values['init-image'];
  if (values.control !== undefined && init !== undefined) {
    // ControlNetPipeline has no img2img (diffusers' StableDiffusionControlNetImg2ImgPipeline is another pipeline).
    throw new UsageError('--init-image cannot be combined with --control: the ControlNet pipeline has no img2img', 'generate');
  }
  if (values.control !== undefined) return { kind: 'control', path: values.control, control: controlSettings('generate', values, 'raw') };
  const stray = anyControlFlag(values);
  if (stray !== undefined) throw new UsageError(`--${stray} is only used with --control`, 'generate');
  if (init === undefined) {
    if (values.strength !== undefined) throw new UsageError('--strength is only used with --init-image', 'generate');
    return { kind: 'text' };
  }
  if (values.width !== undefined || values.height !== undefined) throw new UsageError('--width and --height cannot be used with --init-image: the output keeps its size', 'generate');
  return { kind: 'init', path: init, strength: strengthFlag('generate', values.strength) };
}

interface GenerateJob {
  readonly prompt: string;
  readonly request: Omit<GenerateRequest, 'prompt'>;
  readonly negative: string | undefined;
  readonly out: string | undefined;
  readonly flags: ModelFlags;
  readonly condition: Condition;
  /** The --control or --init-image image. */
  readonly image: DecodedPng | undefined;
  /** The --lora adapters. */
  readonly lora: readonly LoraFile[];
}

/** A loaded pipeline of either kind, reduced to what writing the files needs. */
interface Renderer {
  readonly name: string;
  readonly provider: string;
  readonly schedulerClass: string;
  render(): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

/** Load the pipeline the condition needs and bind the request to it. */
async function openRenderer(job: GenerateJob, io: CliIO, progress: Reporter): Promise<Renderer> {
  const { prompt, request, flags, condition, image } = job;
  const signal = io.signal ? { signal: io.signal } : {};
  const extra = job.lora.length ? { lora: job.lora } : {};
  if (condition.kind === 'control' && image) {
    const { control } = condition;
    const loaded = await loadControlNetPipeline(flags, control.controlnet, io, progress, extra);
    const { pipe } = loaded;
    return {
      name: loaded.name,
      provider: loaded.runtime.provider,
      schedulerClass: pipe.components.schedulerClass,
      render: () => pipe.generate({ prompt, ...request, ...signal, image, controlMode: control.mode, controlOptions: control.options, controlScale: control.scale }),
      dispose: () => pipe.dispose(),
    };
  }
  const loaded = await loadPipeline(flags, io, progress, extra);
  const { pipe } = loaded;
  return {
    name: loaded.name,
    provider: loaded.runtime.provider,
    schedulerClass: pipe.components.schedulerClass,
    render: () => (condition.kind === 'init' && image ? pipe.img2img({ prompt, ...request, ...signal, image, strength: condition.strength }) : pipe.generate({ prompt, ...request, ...signal })),
    dispose: () => pipe.dispose(),
  };
}

/** Load the model, generate, and write one PNG per image (paths on stdout). */
async function generateFiles(job: GenerateJob, io: CliIO, progress: Reporter): Promise<void> {
  const { prompt, request, flags } = job;
  const loaded = await openRenderer(job, io, progress);
  try {
    let result;
    try {
      result = await loaded.render();
    } catch (e) {
      throw asUsageError(e);
    }
    progress.done();
    const seed = result.seed ?? BigInt(request.seed ?? 0);
    const first = result.images[0];
    if (!first) throw new CliError('the pipeline returned no image');
    const out = await outputPath(resolve(io.cwd, job.out ?? '.'), seed);
    const paths = outputPaths(out, result.images.length);
    await mkdir(dirname(out), { recursive: true });
    for (const [i, image] of result.images.entries()) {
      // The image knows its parameters (model name from the load, seed, steps, …): A1111's text and the sdxs record.
      await writeOutput(paths[i]!, await fileBytes(image, paths[i]!));
      io.stdout.write(`${paths[i]}\n`);
    }
    progress.line(`${result.images.length} image(s) of ${first.width}×${first.height}, seed ${seed}, in ${formatMs(result.timings.totalMs)}`);
  } finally {
    await loaded.dispose();
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
