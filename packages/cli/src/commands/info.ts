/** `sdxs info <model>`: components, parameters, dtypes, scheduler, and what runs where. */
import { SingleFileSource, type CheckpointFamily, type PipelineInfo } from '@sdxs/pipeline';
import { formatBytes, defaultGraphCacheDir } from '@sdxs/runtime-node';
import { samplerName } from '@sdxs/image';
import { COMMON_HELP, parseCommand, positionals } from '../args.js';
import type { CliIO } from '../io.js';
import { loadPipeline, MODEL_HELP, MODEL_OPTIONS, modelFlags, type LoadedPipeline } from '../model.js';
import { Reporter } from '../progress.js';

export const INFO_HELP = `Usage: sdxs info <dir|repo> [options]

Describe a model without running it: its components (class, parameters, stored dtypes, files), tokenizer,
scheduler, default image size, and which execution provider and compute dtype each graph would use.

Options:
      --json               print the description as JSON

Model options:
${MODEL_HELP}

${COMMON_HELP}

Example:
  sdxs info IDKiro/sdxs-512-dreamshaper --ep webgpu`;

const OPTIONS = { ...MODEL_OPTIONS, json: { type: 'boolean' } } as const;

/** `315746244` → `'315.7 M'`. */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

/** Where each graph runs and in which dtype (the pipeline's graphs: see @sdxs/pipeline's builders). */
export interface GraphPlacement {
  readonly graph: string;
  readonly when: string;
  readonly components: readonly string[];
  readonly computeDType: string;
  readonly provider: string;
}

function placements(loaded: LoadedPipeline, info: PipelineInfo): GraphPlacement[] {
  const provider = loaded.runtime.provider;
  const vaeDType = info.dtype === 'float16' && loaded.pipe.components.vae.forceUpcast ? 'float32' : info.dtype;
  const text: GraphPlacement[] = info.tokenizer2
    ? [
        { graph: 'text-encoder-penultimate', when: 'every prompt not yet cached: hidden_states[-2]', components: ['text_encoder'], computeDType: 'float32', provider },
        { graph: 'text-encoder-2', when: 'every prompt_2 not yet cached: hidden_states[-2] and text_embeds', components: ['text_encoder_2'], computeDType: 'float32', provider },
      ]
    : [{ graph: 'text-encoder', when: 'every prompt not yet cached', components: ['text_encoder'], computeDType: 'float32', provider }];
  return [
    ...text,
    { graph: 'one-step', when: '--steps 1: U-Net, scheduler step (folded in), decoder and postprocessing in one graph', components: ['unet', 'vae'], computeDType: info.dtype === vaeDType ? info.dtype : `unet ${info.dtype}, vae ${vaeDType}`, provider },
    { graph: 'unet-step', when: '--steps above 1: once per step, the scheduler runs in TypeScript', components: ['unet'], computeDType: info.dtype, provider },
    { graph: 'decode', when: '--steps above 1: after the last step', components: ['vae'], computeDType: vaeDType, provider },
  ];
}

const FAMILY_NAMES: Readonly<Record<CheckpointFamily, string>> = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' };

function describe(loaded: LoadedPipeline, info: PipelineInfo, io: CliIO): string {
  const size = loaded.pipe.defaultSize;
  const config = info.scheduler.config;
  const field = (k: string): unknown => (typeof config === 'object' && config !== null && k in config ? (config as Record<string, unknown>)[k] : undefined);
  const lines = [
    `model         ${loaded.name}${loaded.fromHub && loaded.root ? ` (${loaded.root})` : ''}`,
    ...(loaded.source instanceof SingleFileSource ? [`checkpoint    single file, ${FAMILY_NAMES[loaded.source.family]} layout; ${loaded.source.derived.length ? `from the weights' shapes and the family's defaults: ${loaded.source.derived.join(', ')}` : 'every config from --config'}`] : []),
    `pipeline      ${info.pipeline}; default size ${size ? `${size.width}×${size.height}` : 'none (give --width and --height)'}; VAE scale factor ${info.vaeScaleFactor}`,
    'components',
  ];
  const width = Math.max(...info.components.map((c) => c.className.length));
  for (const c of info.components) {
    const bytes = c.files.reduce((n, f) => n + f.size, 0);
    lines.push(`  ${c.name.padEnd(13)} ${c.className.padEnd(width)}  ${formatCount(c.parameters).padStart(8)} parameters  stored ${c.weightDTypes.join('+')}  ${c.files.map((f) => f.path).join(', ')} (${formatBytes(bytes)})`);
  }
  const tokenizer = (t: PipelineInfo['tokenizer']) => `CLIP BPE, ${t.maxLength} tokens (bos ${t.bosTokenId}, eos ${t.eosTokenId}, pad ${t.padTokenId})`;
  lines.push(`tokenizer     ${tokenizer(info.tokenizer)}`);
  if (info.tokenizer2) lines.push(`tokenizer_2   ${tokenizer(info.tokenizer2)}`);
  const k = info.conditioning;
  const added = k.added ? `; added text_time conditioning: text_embeds ${k.added.textEmbedsDim} (text_encoder_2's projection) + ${k.added.timeIds} time ids (original size, crop, target size); negative prompt left out: ${k.added.forceZerosForEmptyPrompt ? 'zeros' : 'encodes ""'}` : '';
  lines.push(`conditioning  encoder_hidden_states ${k.contextDim} wide from ${k.added ? "both text encoders' hidden_states[-2], concatenated" : "the text encoder's last hidden state"}${added}`);
  const details = ['timestep_spacing', 'prediction_type', 'beta_schedule']
    .map((k) => [k, field(k)] as const)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${String(v)}`);
  lines.push(`scheduler     ${info.scheduler.className} ("${samplerName(info.scheduler.className)}"${details.length ? `; ${details.join(', ')}` : ''})`);
  const requested = loaded.runtime.requested === loaded.runtime.provider ? '' : ` (asked for ${loaded.runtime.requested}, unavailable here)`;
  lines.push(`runtime       ${info.runtime}${requested}; graphs built for target ${info.target}`);
  lines.push('graphs');
  for (const g of placements(loaded, info)) {
    lines.push(`  ${g.graph.padEnd(13)} ${g.components.join(' + ')}, ${g.computeDType} on ${g.provider}: ${g.when}`);
  }
  lines.push(`graph cache   ${defaultGraphCacheDir(io.env)}`);
  return lines.join('\n');
}

/**
 * Run `sdxs info`; returns the exit code.
 *
 * @example
 * await runInfo(['./sdxs-512-dreamshaper', '--json'], processIO());
 */
export async function runInfo(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals: given } = parseCommand('info', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(`${INFO_HELP}\n`);
    return 0;
  }
  const [model] = positionals('info', given, ['the model (a diffusers folder or a Hugging Face repo id)']);
  const flags = modelFlags('info', values, model!);
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  let loaded: LoadedPipeline;
  try {
    loaded = await loadPipeline(flags, io, progress);
  } finally {
    progress.done();
  }
  try {
    // Every tensor the graphs need, against the files' headers: a checkpoint missing one fails here, not at the first image.
    const tensorsChecked = await loaded.pipe.checkWeights();
    const info = loaded.pipe.info();
    if (values.json) {
      const json = { ...info, model: loaded.name, tensorsChecked, defaultSize: loaded.pipe.defaultSize ?? null, provider: loaded.runtime.provider, requestedProvider: loaded.runtime.requested, placements: placements(loaded, info) };
      io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else io.stdout.write(`${describe(loaded, info, io)}\nweights: all ${tensorsChecked} tensors the graphs read are present, with their shapes and dtypes\n`);
    return 0;
  } finally {
    await loaded.pipe.dispose();
  }
}
