/** `sdxs generate "prompt" --model …`: text to PNG files carrying their generation parameters. */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { checkRequest, type GenerateRequest } from '@sdxs/pipeline';
import { COMMON_HELP, numberFlag, parseCommand, seedFlag } from '../args.js';
import { writeFileAtomic } from '../atomic.js';
import { CliError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { loadPipeline, MODEL_FLAG_HELP, MODEL_HELP, MODEL_OPTIONS, modelFlags, type ModelFlags } from '../model.js';
import { a1111Parameters, sdxsParameters, type ImageParameters } from '../parameters.js';
import { encodePng } from '../png/index.js';
import { formatMs, Reporter } from '../progress.js';
import { cliVersion } from '../version.js';

export const GENERATE_HELP = `Usage: sdxs generate "<prompt>" --model <dir|repo> [options]

Generate images from a prompt and write them as PNG files whose text chunks hold the generation
parameters (A1111-style "parameters", and an "sdxs" JSON record). Prints the files written.

Options:
      --seed <n>           seed (default: random; printed, and stored in the PNG)
      --steps <n>          denoising steps (default 1: SDXS is a one-step model)
      --guidance <g>       classifier-free guidance scale; on above 1 (default 0)
      --negative <text>    negative prompt (used with --guidance above 1)
      --width <px>         image width (default: the model's, 512 for SDXS-512)
      --height <px>        image height
      --batch <n>          images to generate at once (out-1.png, out-2.png, …)
      --prompt-file <path> read the prompt from a file ("-": standard input) instead of the argument
  -o, --out <file.png>     output file, or a folder for sdxs-<seed>.png (default: the current folder)

Model options:
${MODEL_FLAG_HELP}
${MODEL_HELP}

${COMMON_HELP}

Example:
  sdxs generate "a photo of a cat" --model IDKiro/sdxs-512-dreamshaper --seed 42 --out cat.png`;

const OPTIONS = {
  ...MODEL_OPTIONS,
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
};

/** A checkRequest refusal in the words of the command line: `--width must be between …`. */
function asUsageError(e: unknown): unknown {
  if (!(e instanceof RangeError || e instanceof TypeError)) return e;
  const m = /^generate: "([A-Za-z]+)(\[\d+\])?" (.*)$/s.exec(e.message);
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
  if (values.model === undefined) throw new UsageError('--model is required (a diffusers folder or a Hugging Face repo id)', 'generate');
  const fromFile = values['prompt-file'];
  if (fromFile !== undefined && positionals.length > 0) throw new UsageError('give the prompt as an argument or with --prompt-file, not both', 'generate');
  if (fromFile === undefined && positionals.length === 0) throw new UsageError('missing the prompt', 'generate');
  if (positionals.length > 1) throw new UsageError(`one prompt per run; quote it ("${positionals.join(' ')}")`, 'generate');
  const flags = modelFlags('generate', values, values.model);
  const guidanceScale = numberFlag('generate', 'guidance', values.guidance);
  const request: Omit<GenerateRequest, 'prompt'> = {
    seed: seedFlag('generate', values.seed) ?? BigInt(Math.floor(Math.random() * 2 ** 53)),
    ...optional('steps', numberFlag('generate', 'steps', values.steps)),
    ...optional('guidanceScale', guidanceScale),
    ...optional('negativePrompt', values.negative),
    ...optional('width', numberFlag('generate', 'width', values.width)),
    ...optional('height', numberFlag('generate', 'height', values.height)),
    ...optional('numImagesPerPrompt', numberFlag('generate', 'batch', values.batch)),
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
    const out = values.out;
    await generateFiles({ prompt, request, negative: values.negative, out, flags }, io, progress);
    return 0;
  } finally {
    // Ends a progress line left open on a terminal, so an error message starts on its own line.
    progress.done();
  }
}

interface GenerateJob {
  readonly prompt: string;
  readonly request: Omit<GenerateRequest, 'prompt'>;
  readonly negative: string | undefined;
  readonly out: string | undefined;
  readonly flags: ModelFlags;
}

/** Load the model, generate, and write one PNG per image (paths on stdout). */
async function generateFiles(job: GenerateJob, io: CliIO, progress: Reporter): Promise<void> {
  const { prompt, request, flags } = job;
  const loaded = await loadPipeline(flags, io, progress);
  try {
    const { pipe } = loaded;
    let result;
    try {
      result = await pipe.generate({ prompt, ...request, ...(io.signal ? { signal: io.signal } : {}) });
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
    const guidance = request.guidanceScale ?? 0;
    for (const [i, image] of result.images.entries()) {
      const p: ImageParameters = {
        prompt,
        ...(guidance > 1 && job.negative ? { negativePrompt: job.negative } : {}),
        seed,
        steps: request.steps ?? 1,
        guidanceScale: guidance,
        width: image.width,
        height: image.height,
        batchSize: result.images.length,
        batchIndex: i + 1,
        model: loaded.name,
        scheduler: pipe.components.schedulerClass,
        executionProvider: loaded.runtime.provider,
        dtype: flags.dtype,
        version: cliVersion(),
      };
      const png = encodePng(image, { text: [['parameters', a1111Parameters(p)], ['sdxs', sdxsParameters(p)]] });
      await writeFileAtomic(paths[i]!, png);
      io.stdout.write(`${paths[i]}\n`);
    }
    progress.line(`${result.images.length} image(s) of ${first.width}×${first.height}, seed ${seed}, in ${formatMs(result.timings.totalMs)}`);
  } finally {
    await loaded.pipe.dispose();
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
