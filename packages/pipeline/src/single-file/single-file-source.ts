/**
 * One original-layout checkpoint file (`model.safetensors` as A1111 and civitai share them) presented as the
 * diffusers folder the loader reads: `model_index.json`, each component's `config.json` and weights (renamed views
 * of the file's bytes), the scheduler's config and the tokenizers (which the file does not carry: from a `config`
 * folder, or tokenizer folders the platform fetched). The loader then runs unchanged.
 */
import { SafetensorsFile, type ByteSource, type ModelSource } from '@sdxs/tensor';
import { planFolder, type VirtualEntry } from './folder-plan.js';
import { identifyCheckpoint, SingleFileError, type CheckpointFamily } from './identify.js';
import { ldmToDiffusers } from './ldm-to-diffusers.js';
import { SharedByteSource } from './shared-file.js';
import { withPadToken, type FetchTokenizers } from './tokenizers.js';
import { virtualSafetensors } from './virtual-file.js';

export interface SingleFileOptions {
  /**
   * A diffusers folder (or repo) of the same architecture: its configs, scheduler and tokenizers are used instead
   * of those derived from shapes and family defaults, as diffusers' `from_single_file(config=…)`.
   */
  readonly config?: ModelSource | undefined;
  /**
   * Fetch the family's tokenizers (files at each folder's root, in `tokenizer`, `tokenizer_2` order) when `config`
   * has none: a platform resolves TOKENIZER_REPOS through its hub cache. Without it (or when it fails) the
   * tokenizer files are missing, and reading them says which repo was needed.
   */
  readonly tokenizers?: FetchTokenizers | undefined;
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
      const { entries, derived } = await planFolder(id.family, parts, options.config, options.tokenizers).catch((e: unknown) => {
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
      return e.padToken === undefined ? text : withPadToken(path, text, e.padToken);
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
