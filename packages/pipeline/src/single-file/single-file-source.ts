/**
 * One original-layout checkpoint file (`model.safetensors` as A1111 and civitai share them) presented as the
 * diffusers folder the loader reads: `model_index.json`, each component's `config.json` and weights (renamed views
 * of the file's bytes), the scheduler's config and the tokenizers (which the file does not carry: from a `config`
 * folder, or tokenizer folders the platform fetched). The loader then runs unchanged.
 */
import { SafetensorsFile, type ByteSource, type ModelSource } from '@sdxs/tensor';
import { unetConfigFromShapes, vaeConfigFromShapes, textConfigFromShapes, type Shapes } from './config-from-shapes.js';
import { identifyCheckpoint, SingleFileError, type CheckpointFamily } from './identify.js';
import { ldmToDiffusers } from './ldm-to-diffusers.js';
import { SharedByteSource } from './shared-file.js';
import { virtualSafetensors, type VirtualTensor } from './virtual-file.js';

/** The files of a tokenizer folder the loader reads. */
export const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

/** Where a family's tokenizer comes from when no `config` folder is given (what diffusers fetches). */
export interface TokenizerRepo {
  readonly repo: string;
  /** OpenCLIP pads with "!" (id 0); the LAION repos' files say the end token, so it is set here. */
  readonly padToken?: string;
}

const CLIP_L: TokenizerRepo = { repo: 'openai/clip-vit-large-patch14' };

/** Per family, the tokenizers for `tokenizer` (and `tokenizer_2`). */
export const TOKENIZER_REPOS: Readonly<Record<CheckpointFamily, readonly TokenizerRepo[]>> = {
  sd1: [CLIP_L],
  sd2: [{ repo: 'laion/CLIP-ViT-H-14-laion2B-s32B-b79K', padToken: '!' }],
  sdxl: [CLIP_L, { repo: 'laion/CLIP-ViT-bigG-14-laion2B-39B-b160k', padToken: '!' }],
};

export interface SingleFileOptions {
  /**
   * A diffusers folder (or repo) of the same architecture: its configs, scheduler and tokenizers are used instead
   * of those derived from shapes and family defaults, as diffusers' `from_single_file(config=…)`.
   */
  readonly config?: ModelSource | undefined;
  /**
   * Fetch the family's tokenizers (files at each folder's root, in `tokenizer`, `tokenizer_2` order) when `config`
   * has none: a platform resolves {@link TOKENIZER_REPOS} through its hub cache. Without it (or when it fails) the
   * tokenizer files are missing, and reading them says which repo was needed.
   */
  readonly tokenizers?: ((family: CheckpointFamily, repos: readonly TokenizerRepo[]) => Promise<readonly ModelSource[]>) | undefined;
}

type VirtualEntry =
  | { readonly text: string }
  | { readonly tensors: readonly VirtualTensor[] }
  | { readonly from: ModelSource; readonly path: string; readonly padToken?: string | undefined }
  /** A file the checkpoint cannot provide: reading it is this error. */
  | { readonly missing: string };

const WEIGHTS = 'diffusion_pytorch_model.safetensors';
const TEXT_WEIGHTS = 'model.safetensors';

/** SD's own scheduler settings (scaled_linear 0.00085–0.012), run by Euler as diffusers' from_single_file defaults. */
const DEFAULT_SCHEDULER = {
  _class_name: 'EulerDiscreteScheduler',
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 1,
};

const json = (o: unknown) => `${JSON.stringify(o, null, 2)}\n`;

function shapesOf(tensors: readonly VirtualTensor[]): Shapes {
  return new Map(tensors.map((t) => [t.name, t.shape]));
}

async function readJson(source: ModelSource, path: string): Promise<Record<string, unknown> | undefined> {
  if (!(await source.exists(path))) return undefined;
  const v: unknown = JSON.parse(await source.readText(path));
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * A single-file checkpoint as a diffusers {@link ModelSource}.
 *
 * @example
 * const source = await SingleFileSource.open(await FileByteSource.open('dreamshaper.safetensors'), { config: new LocalFolderSource('./sd15') });
 * const pipe = await StableDiffusionPipeline.load(source, runtime);
 */
export class SingleFileSource implements ModelSource {
  readonly id: string;
  readonly family: CheckpointFamily;
  /** The config files made from the weights' shapes and the family's defaults (not taken from `config`). */
  readonly derived: readonly string[];
  readonly #entries: ReadonlyMap<string, VirtualEntry>;
  readonly #shared: SharedByteSource;
  readonly #owned: ByteSource | undefined;

  private constructor(id: string, family: CheckpointFamily, entries: ReadonlyMap<string, VirtualEntry>, derived: readonly string[], shared: SharedByteSource, owned: ByteSource | undefined) {
    this.id = id;
    this.family = family;
    this.derived = derived;
    this.#entries = entries;
    this.#shared = shared;
    this.#owned = owned;
  }

  /**
   * Read the file's header, identify it and plan the folder. `file` is the checkpoint's bytes — then the source
   * owns them and {@link close} closes them — or a function opening them: then the file is open only while the
   * loader holds a weight file (closing the pipeline closes it).
   */
  static async open(file: ByteSource | (() => Promise<ByteSource>), options: SingleFileOptions = {}): Promise<SingleFileSource> {
    const factory = typeof file === 'function';
    const first = factory ? await file() : file;
    const header = await SafetensorsFile.open(first);
    // Bytes given are kept open for the source's life: the shared reader only borrows them.
    const borrowed: ByteSource = { name: first.name, size: first.size, read: (o, l) => first.read(o, l) };
    const shared = new SharedByteSource(first.name, first.size, factory ? file : async () => borrowed);
    let ok = false;
    try {
      const id = identifyCheckpoint(header.names(), first.name);
      const parts = ldmToDiffusers(header.entries, shared, id, first.name);
      const { entries, derived } = await plan(id.family, parts, options).catch((e: unknown) => {
        throw e instanceof SingleFileError ? new SingleFileError(`${first.name}: ${e.message}`) : e;
      });
      ok = true;
      return new SingleFileSource(first.name, id.family, entries, derived, shared, factory ? undefined : first);
    } finally {
      if (factory || !ok) await header.close();
    }
  }

  /** Every file of the virtual folder (what `sdxs convert --to diffusers` writes). */
  files(): string[] {
    return [...this.#entries.keys()];
  }

  async exists(path: string): Promise<boolean> {
    return this.#entries.has(path);
  }

  async readText(path: string): Promise<string> {
    const e = this.#entry(path);
    if ('text' in e) return e.text;
    if ('from' in e) {
      const text = await e.from.readText(e.path);
      return e.padToken === undefined || !/(tokenizer_config|special_tokens_map)\.json$/.test(path) ? text : withPadToken(text, e.padToken);
    }
    if ('missing' in e) throw new Error(`${this.id}: ${e.missing}`);
    throw new Error(`${this.id}#${path}: weights, not text`);
  }

  async open(path: string): Promise<ByteSource> {
    const e = this.#entry(path);
    if ('tensors' in e) {
      this.#shared.acquire();
      return virtualSafetensors(`${this.id}#${path}`, e.tensors, { format: 'pt' }, () => this.#shared.release());
    }
    if ('from' in e && e.padToken === undefined) return e.from.open(e.path);
    const data = new TextEncoder().encode(await this.readText(path));
    return { name: `${this.id}#${path}`, size: data.length, read: async (o, l) => data.slice(o, o + l) };
  }

  /** Close the checkpoint's bytes when they were given open (a file opened on demand closes with its readers). */
  async close(): Promise<void> {
    await this.#owned?.close?.();
  }

  #entry(path: string): VirtualEntry {
    const e = this.#entries.get(path);
    if (!e) throw new Error(`${this.id}: the single-file checkpoint has no ${path}`);
    return e;
  }
}

/**
 * Stable Diffusion's GroupNorm has 32 groups, which shapes cannot show: channels it does not divide mean a model of
 * other sizes, whose config must be given.
 */
function sdGroups(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  const channels = config.block_out_channels as number[];
  if (channels.every((c) => c % 32 === 0)) return config;
  throw new SingleFileError(
    `its ${dir}'s channels (${channels.join(', ')}) are not Stable Diffusion's (32 GroupNorm groups do not divide them), so its config cannot be read from the shapes: give a diffusers folder of the same model as config (--config <folder|repo id>)`,
  );
}

function withPadToken(text: string, pad: string): string {
  const o = JSON.parse(text) as Record<string, unknown>;
  return json({ ...o, pad_token: pad });
}

/** The virtual folder's files: configs from `config` where it has them, else from shapes; weights; tokenizers. */
async function plan(family: CheckpointFamily, parts: Readonly<Record<string, readonly VirtualTensor[]>>, options: SingleFileOptions): Promise<{ entries: Map<string, VirtualEntry>; derived: string[] }> {
  const { config } = options;
  const entries = new Map<string, VirtualEntry>();
  const texts = ['text_encoder', ...(parts.text_encoder_2 ? ['text_encoder_2'] : [])];
  const pooled = parts.text_encoder_2 ? shapesOf(parts.text_encoder_2).get('text_projection.weight')?.[0] : undefined;
  // Derived only where `config` has none: a model of other sizes may need its own.
  const derived: Record<string, () => Record<string, unknown>> = {
    unet: () => sdGroups(unetConfigFromShapes(shapesOf(parts.unet!), family, pooled), 'unet'),
    vae: () => sdGroups(vaeConfigFromShapes(shapesOf(parts.vae!), family), 'vae'),
    text_encoder: () => textConfigFromShapes(shapesOf(parts.text_encoder!), family === 'sd2'),
    text_encoder_2: () => textConfigFromShapes(shapesOf(parts.text_encoder_2!), true),
  };
  const index = config ? await readJson(config, 'model_index.json') : undefined;
  const derivedFiles: string[] = [];
  for (const dir of ['unet', 'vae', ...texts]) {
    const file = `${dir}/config.json`;
    let own = config ? await readJson(config, file) : undefined;
    // An SDXS folder's vae/ is the tiny decoder; its AutoencoderKL is vae_large/.
    if (dir === 'vae' && own && own._class_name !== 'AutoencoderKL') own = config ? await readJson(config, 'vae_large/config.json') : undefined;
    if (!own) derivedFiles.push(file);
    entries.set(file, { text: json(own ?? derived[dir]!()) });
    entries.set(`${dir}/${dir.startsWith('text') ? TEXT_WEIGHTS : WEIGHTS}`, { tensors: parts[dir]! });
  }
  const scheduler = config ? await readJson(config, 'scheduler/scheduler_config.json') : undefined;
  if (!scheduler) derivedFiles.push('scheduler/scheduler_config.json');
  entries.set('scheduler/scheduler_config.json', { text: json(scheduler ?? DEFAULT_SCHEDULER) });
  const schedulerClass = (Array.isArray(index?.scheduler) ? index.scheduler[1] : undefined) ?? scheduler?._class_name ?? DEFAULT_SCHEDULER._class_name;
  const tokenizers = texts.map((t) => t.replace('text_encoder', 'tokenizer'));
  let fetchedAll: readonly ModelSource[] | undefined;
  for (const [i, dir] of tokenizers.entries()) {
    const repo = TOKENIZER_REPOS[family][i];
    const fromConfig = config !== undefined && (await config.exists(`${dir}/vocab.json`));
    if (!fromConfig && fetchedAll === undefined && options.tokenizers) fetchedAll = await options.tokenizers(family, TOKENIZER_REPOS[family]);
    const fetched = fromConfig ? undefined : fetchedAll?.[i];
    const missing = `a single-file checkpoint carries no tokenizer: this ${family} checkpoint needs ${repo?.repo ?? 'a CLIP'} tokenizer for ${dir}/ (vocab.json, merges.txt), from the Hugging Face hub or cache, or from a diffusers folder of the same model given as config (--config <folder|repo id>)`;
    for (const name of TOKENIZER_FILES) {
      const path = `${dir}/${name}`;
      if (fromConfig) {
        if (await config.exists(path)) entries.set(path, { from: config, path });
      } else if (fetched) {
        if (await fetched.exists(name)) entries.set(path, { from: fetched, path: name, padToken: repo?.padToken });
      } else {
        entries.set(path, { missing });
      }
    }
  }
  entries.set(
    'model_index.json',
    {
      text: json({
        _class_name: family === 'sdxl' ? 'StableDiffusionXLPipeline' : 'StableDiffusionPipeline',
        _diffusers_version: '0.31.0',
        scheduler: ['diffusers', schedulerClass],
        text_encoder: ['transformers', 'CLIPTextModel'],
        tokenizer: ['transformers', 'CLIPTokenizer'],
        unet: ['diffusers', 'UNet2DConditionModel'],
        vae: ['diffusers', 'AutoencoderKL'],
        ...(parts.text_encoder_2 ? { text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'], tokenizer_2: ['transformers', 'CLIPTokenizer'] } : {}),
        ...(typeof index?.force_zeros_for_empty_prompt === 'boolean' ? { force_zeros_for_empty_prompt: index.force_zeros_for_empty_prompt } : {}),
      }),
    },
  );
  return { entries, derived: derivedFiles };
}
