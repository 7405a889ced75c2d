/**
 * `sdxs convert <model> --out <dir>`: the pipeline's ONNX graphs as files for other tools (onnxruntime in
 * Python or C++, Netron): the text encoder and the fused one-step graph, each an `.onnx` file whose weights
 * are ONNX external data in `<component>.weights` beside it, plus `sdxs-onnx.json` saying how to call them.
 * The folder appears whole or not at all (built in a temporary sibling, then renamed).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { dumpGraph, TARGETS, type Graph, type Target } from '@sdxs/graph';
import {
  assembleWeights,
  IMAGE_COMPONENTS,
  newScheduler,
  oneStepGraph,
  packGraph,
  StableDiffusionPipeline,
  TEXT_COMPONENTS,
  TEXT_2_COMPONENTS,
  textEncoderGraph,
  TOKENIZER_FILES,
  type ComponentPrefix,
  type PackedManifest,
} from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { choiceFlag, COMMON_HELP, intFlag, parseCommand, positionals } from '../args.js';
import type { ModelSource } from '@sdxs/tensor';
import { isEmptyDir, publish } from '../atomic.js';
import { CliError, UsageError } from '../errors.js';
import { CONVERT_FORMATS, convertToDiffusers, convertToSingleFile } from './convert-format.js';
import type { CliIO } from '../io.js';
import { modelFlags, openModelSource, SOURCE_HELP, SOURCE_OPTIONS, type ModelFlags } from '../model.js';
import { formatMs, Reporter } from '../progress.js';
import { cliVersion } from '../version.js';

export const CONVERT_HELP = `Usage: sdxs convert <dir|repo|file> --out <dir|file> [--to onnx|single-file|diffusers] [options]

--to onnx (the default): write the model's ONNX graphs for other tools: text_encoder.onnx (input_ids → prompt_embeds) and
one_step.onnx (noise × init_noise_sigma and prompt embeddings → image and RGBA bytes: U-Net, scheduler step,
decoder). Weights are ONNX external data files (<component>.weights) in the same folder, so onnxruntime
loads the .onnx files from there. sdxs-onnx.json lists inputs, outputs and constants; the tokenizer files
are copied beside them. SDXL folders also get text_encoder_2.onnx (penultimate hidden state and text_embeds)
and tokenizer_2/; one_step.onnx then takes text_embeds and time_ids too (the manifest's "sdxl" entry).

--to single-file: write a diffusers folder (or repo id) as one checkpoint in the original Stable Diffusion /
A1111 layout (model.diffusion_model.…, first_stage_model.…, cond_stage_model.…), --out model.safetensors.
--to diffusers: write a single-file checkpoint as a diffusers folder (configs from --config or the weights'
shapes, the tokenizer from --config or the Hugging Face cache). Either appears whole or not at all.

Options:
      --to <format>        onnx (default), single-file or diffusers
  -o, --out <dir>          output folder (must not exist, or be empty; --force replaces it)
      --width <px>         image width of the one-step graph (default: the model's)
      --height <px>        image height
      --batch <n>          images per run (default 1; the text encoder takes any batch)
      --guidance           build the one-step graph with classifier-free guidance (a guidance_scale input)
      --target <t>         lower the graphs for cpu (default), webgpu, cuda or wasm
      --dump               also write a readable text dump of each graph (<name>.onnx.txt)
      --force              replace --out if it exists

Model options:
${SOURCE_HELP}

${COMMON_HELP}

Examples:
  sdxs convert IDKiro/sdxs-512-dreamshaper --out sdxs-onnx --dtype float16 --target webgpu
  sdxs convert ./sd15 --to single-file --out sd15.safetensors
  sdxs convert dreamshaper_8.safetensors --to diffusers --out dreamshaper_8 --config ./sd15`;

const OPTIONS = {
  ...SOURCE_OPTIONS,
  out: { type: 'string', short: 'o' },
  to: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  batch: { type: 'string' },
  guidance: { type: 'boolean' },
  target: { type: 'string' },
  dump: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

/** One graph as written: file names and its interface. */
interface WrittenGraph {
  readonly file: string;
  readonly externalData: readonly string[];
  readonly inputs: readonly { name: string; dtype: string; shape: readonly (number | string)[] }[];
  readonly outputs: readonly { name: string; dtype: string; shape: readonly (number | string)[] }[];
}

function io(graph: Graph): Pick<WrittenGraph, 'inputs' | 'outputs'> {
  const v = (x: { name: string; dtype: string; shape: readonly (number | string)[] }) => ({ name: x.name, dtype: x.dtype, shape: [...x.shape] });
  return { inputs: graph.inputs.map(v), outputs: graph.outputs.map(v) };
}

/**
 * Run `sdxs convert`; returns the exit code.
 *
 * @example
 * await runConvert(['./sdxs-512-dreamshaper', '--out', './sdxs-onnx'], processIO());
 */
export async function runConvert(argv: readonly string[], cli: CliIO): Promise<number> {
  const { values, positionals: given } = parseCommand('convert', argv, OPTIONS);
  if (values.help) {
    cli.stdout.write(`${CONVERT_HELP}\n`);
    return 0;
  }
  const [model] = positionals('convert', given, ['the model (a diffusers folder, a Hugging Face repo id or a single-file checkpoint)']);
  const to = choiceFlag('convert', 'to', values.to, CONVERT_FORMATS) ?? 'onnx';
  if (values.out === undefined) throw new UsageError(`--out is required (the ${to === 'single-file' ? 'file' : 'folder'} to write)`, 'convert');
  const flags = modelFlags('convert', values, model!);
  const target: Target = choiceFlag('convert', 'target', values.target, TARGETS) ?? 'cpu';
  const width = intFlag('convert', 'width', values.width, 8, 4096);
  const height = intFlag('convert', 'height', values.height, 8, 4096);
  const batch = intFlag('convert', 'batch', values.batch, 1, 64) ?? 1;
  const out = resolve(cli.cwd, values.out);
  const empty = await isEmptyDir(out);
  if (to === 'single-file' ? empty !== undefined && !values.force : empty === false && !values.force) {
    throw new UsageError(`--out ${values.out} exists${to === 'single-file' ? '' : ' and is not an empty folder'} (--force replaces it)`, 'convert');
  }

  const progress = new Reporter(cli.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  const job: ConvertJob = { flags, target, width, height, batch, out, empty, guidance: values.guidance === true, dump: values.dump === true };
  try {
    if (to === 'single-file') await convertToSingleFile(flags, out, cli, progress);
    else if (to === 'diffusers') await convertToDiffusers(flags, out, empty, cli, progress);
    else await convertModel(job, cli, progress);
    return 0;
  } finally {
    // Ends a progress line left open on a terminal, so an error message starts on its own line.
    progress.done();
  }
}

interface ConvertJob {
  readonly flags: ModelFlags;
  readonly target: Target;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly batch: number;
  /** Absolute output folder, and whether it exists empty (undefined: it does not exist). */
  readonly out: string;
  readonly empty: boolean | undefined;
  readonly guidance: boolean;
  readonly dump: boolean;
}

/** Build, pack and write the graphs into a staging folder, then move it into place. */
async function convertModel(job: ConvertJob, cli: CliIO, progress: Reporter): Promise<void> {
  const { flags, target, width, height, batch, out } = job;
  const opened = await openModelSource(flags, cli, progress);
  // Nothing runs here: the runtime is only what the pipeline's loader asks for.
  const pipe = await StableDiffusionPipeline.load(opened.source, createNodeRuntime(), { target, dtype: flags.dtype, vae: flags.vae, ...(flags.variant ? { variant: flags.variant } : {}), onProgress: progress.pipeline });
  const stage = join(dirname(out), `.${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const c = pipe.components;
    const size = { width: width ?? pipe.defaultSize?.width, height: height ?? pipe.defaultSize?.height };
    if (size.width === undefined || size.height === undefined) throw new UsageError("the U-Net's config.json has no sample_size: give --width and --height", 'convert');
    const f = c.vae.spatialFactor;
    if (size.width % f || size.height % f) throw new UsageError(`--width and --height must be multiples of ${f} (the VAE's scale factor), got ${size.width}×${size.height}`, 'convert');
    const settings = { target, dtype: flags.dtype };
    const scheduler = newScheduler(c);
    scheduler.setTimesteps(1);
    const t = scheduler.timesteps[0]!;
    const k = scheduler.stepCoefficients(t);
    const step = { timestep: k.timestep, inputDivisor: k.inputDivisor, x0Coef: k.x0Coef, prevCoef: k.prevCoef };
    const shape = { batch, latentHeight: size.height / f, latentWidth: size.width / f, guidance: job.guidance };

    await mkdir(stage, { recursive: true });
    const written: Record<string, WrittenGraph> = {};
    const blobs = new Set<string>();
    const emit = async (name: string, build: () => Graph, components: readonly ComponentPrefix[]): Promise<void> => {
      const t0 = performance.now();
      progress.status(`building the ${name} graph…`);
      const graph = build();
      const shapes = io(graph);
      if (job.dump) await writeFile(join(stage, `${name}.onnx.txt`), dumpGraph(graph));
      const packed = packGraph(graph, components);
      await writeFile(join(stage, `${name}.onnx`), packed.model);
      progress.status(`writing the ${name} weights…`);
      for (const blob of await assembleWeights(packed.manifest, c.weights)) {
        // A blob's layout is its graph's own (tensors in graph order): two graphs must not share a name.
        if (blobs.has(blob.path)) throw new Error(`internal: two graphs write ${blob.path}`);
        blobs.add(blob.path);
        await writeFile(join(stage, blob.path), blob.data);
      }
      written[name] = { file: `${name}.onnx`, externalData: externalFiles(packed.manifest), ...shapes };
      progress.line(`wrote ${name}.onnx in ${formatMs(performance.now() - t0)}`);
    };
    // SDXL: each encoder's penultimate hidden state (concatenated, text_encoder first) and text_encoder_2's
    // text_embeds, as the pipeline's text side; one_step then also takes text_embeds and time_ids.
    const length = c.tokenizer.maxLength;
    await emit('text_encoder', () => textEncoderGraph(c.textConfig, length, settings, { hidden: c.text2 ? 'penultimate' : 'last' }), TEXT_COMPONENTS);
    const second = c.text2;
    if (second) await emit('text_encoder_2', () => textEncoderGraph(second.config, length, settings, { hidden: 'penultimate', textEmbeds: true }), TEXT_2_COMPONENTS);
    await emit('one_step', () => oneStepGraph(pipe.unetSide, c.vae, step, shape, settings), IMAGE_COMPONENTS);
    const tokenizerFiles = await copyTokenizer(opened.source, stage, 'tokenizer');
    const tokenizer2Files = second ? await copyTokenizer(opened.source, stage, 'tokenizer_2') : undefined;
    const manifest = {
      format: 1,
      generator: `sdxs ${cliVersion()}`,
      model: opened.name,
      target,
      dtype: flags.dtype,
      graphs: written,
      tokenizer: { files: tokenizerFiles, maxLength: c.tokenizer.maxLength, padTokenId: c.tokenizer.padTokenId },
      ...(second && tokenizer2Files
        ? {
            // SDXL: encoder_hidden_states = concat(text_encoder's prompt_embeds, text_encoder_2's) on the last axis;
            // one_step's time_ids per image: original size (h, w), crop (top, left), target size (h, w).
            tokenizer_2: { files: tokenizer2Files, maxLength: second.tokenizer.maxLength, padTokenId: second.tokenizer.padTokenId },
            sdxl: { context: ['text_encoder.prompt_embeds', 'text_encoder_2.prompt_embeds'], textEmbeds: 'text_encoder_2.text_embeds', timeIds: ['original_height', 'original_width', 'crop_top', 'crop_left', 'target_height', 'target_width'] },
          }
        : {}),
      oneStep: {
        // How to call one_step.onnx: latents = randn([batch, C, h, w]) × initNoiseSigma.
        initNoiseSigma: scheduler.initNoiseSigma,
        timestep: t,
        scheduler: c.schedulerClass,
        width: size.width,
        height: size.height,
        batch,
        guidance: shape.guidance,
      },
    };
    await writeFile(join(stage, 'sdxs-onnx.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await publish(stage, out, job.empty);
    cli.stdout.write(`${out}\n`);
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    throw e;
  } finally {
    await pipe.dispose();
  }
}

function externalFiles(manifest: PackedManifest): string[] {
  return manifest.blobs.map((b) => b.location);
}

/** Copy a tokenizer folder's files (vocab, merges, configs) so the folder is usable on its own. */
async function copyTokenizer(source: ModelSource, stage: string, dir: 'tokenizer' | 'tokenizer_2'): Promise<string[]> {
  const copied: string[] = [];
  for (const name of TOKENIZER_FILES) {
    const path = `${dir}/${name}`;
    if (!(await source.exists(path))) continue;
    await mkdir(join(stage, dir), { recursive: true });
    await writeFile(join(stage, path), await source.readText(path));
    copied.push(path);
  }
  if (copied.length === 0) throw new CliError(`${source.id}/${dir}: no tokenizer files to copy`);
  return copied;
}
