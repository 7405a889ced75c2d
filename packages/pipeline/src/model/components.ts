/**
 * Reading a diffusers folder into what StableDiffusionPipeline holds: configs (validated), the tokenizer, the
 * scheduler's config and the open weight files. Cross-component mismatches (a text encoder narrower than the
 * U-Net's cross-attention, a VAE with other latent channels) are refused here, naming both files.
 */
import { CLIPTokenizer, clipBindOptions, parseCLIPTextConfig, type CLIPTextConfig } from '@sdxs/clip';
import { parsePythonJson, SCHEDULERS, schedulerFromConfig, type AnyScheduler, type SchedulerClassName } from '@sdxs/schedulers';
import type { ModelSource } from '@sdxs/tensor';
import { parseUNetConfig, type LdmUNetLayout, type UNet2DConditionConfig } from '@sdxs/unet';
import type { ProgressCallback } from '../progress.js';
import { parseModelIndex, type ModelIndex } from './model-index.js';
import { pipelineVae, type PipelineVae } from './vae.js';
import { closeWeights, openComponentWeights, type ComponentWeights } from './weights.js';
import { loadLora, withLora, type AppliedLora, type LoraAdapter, type LoraMode } from '../lora/load.js';
import { loraFiles } from '../pretrained.js';
import { checkTextConditioning, type SecondTextEncoder } from './text-conditioning.js';

export interface ComponentOptions {
  /** Prefer `*.<variant>.safetensors` weight files (e.g. 'fp16'). */
  readonly variant?: string | undefined;
  /** The decoder folder: `vae` (default; SDXS's tiny decoder) or `vae_large` (SDXS's full AutoencoderKL). */
  readonly vae?: 'vae' | 'vae_large' | undefined;
  /** Load the folder's scheduler config into another class, as diffusers' `Other.from_config(pipe.scheduler.config)`. */
  readonly scheduler?: SchedulerClassName | undefined;
  readonly onProgress?: ProgressCallback | undefined;
  /** LoRA adapters merged into the U-Net's and text encoder's weights (see lora/load.ts). */
  readonly lora?: readonly LoraAdapter[] | undefined;
  /** How the adapters reach the graphs: merged into the weights (default) or as graph nodes with switchable scales. */
  readonly loraMode?: LoraMode | undefined;
}

/** A component beyond the text-to-image three (a ControlNet), added by the pipeline that needs it. */
export interface ExtraComponent {
  readonly className: string;
  /** The parsed config.json (part of graph keys). */
  readonly config: unknown;
  readonly weights: ComponentWeights;
}

/** Everything loaded from a model folder. */
export interface PipelineComponents {
  readonly source: ModelSource;
  readonly index: ModelIndex;
  readonly tokenizer: CLIPTokenizer;
  readonly textConfig: CLIPTextConfig;
  /** SDXL's `tokenizer_2` and `text_encoder_2` (index.family 'sdxl'). */
  readonly text2?: SecondTextEncoder;
  readonly unetConfig: UNet2DConditionConfig;
  readonly vae: PipelineVae;
  /** Parsed scheduler_config.json and the class to build from it (a fresh scheduler per generate call). */
  readonly schedulerConfig: unknown;
  readonly schedulerFile: string;
  readonly schedulerClass: SchedulerClassName;
  /** Open weight files by component: `unet`, `vae`, `text_encoder` (and SDXL's `text_encoder_2`). */
  readonly weights: Readonly<Record<'unet' | 'vae' | 'text_encoder', ComponentWeights>> & { readonly text_encoder_2?: ComponentWeights };
  /** LoRA adapters merged into the weights, in the order given (image metadata names them). */
  readonly lora?: readonly AppliedLora[];
  /** Further components by name (`controlnet`); their weights fill graphs under that name. */
  readonly extra?: Readonly<Record<string, ExtraComponent>>;
}

async function readJsonFile(source: ModelSource, path: string): Promise<unknown> {
  const where = `${source.id}/${path}`;
  // A missing file is said once, in words: the folder is not a model, or lacks this part.
  if (!(await source.exists(path).catch(() => true))) {
    throw new Error(path === 'model_index.json' ? `${source.id}: not a diffusers model folder (it has no model_index.json)` : `${where}: missing (the model folder has no ${path})`);
  }
  let text: string;
  try {
    text = await source.readText(path);
  } catch (e) {
    // Sources name the file in their errors; add it only when they did not.
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(message.includes(path) ? message : `${where}: cannot read (${message})`);
  }
  try {
    // Python's json writes Infinity/NaN (e.g. a scheduler's s_tmax); parsePythonJson accepts them.
    return parsePythonJson(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** How the U-Net's LDM (original SD) block numbering runs, for LoRA files that name modules that way; undefined when it cannot. */
function ldmLayout(c: UNet2DConditionConfig): LdmUNetLayout | undefined {
  if (typeof c.layers_per_block !== 'number') return undefined;
  return { layersPerBlock: c.layers_per_block, upBlockHasAttention: c.up_block_types.map((t) => t.startsWith('CrossAttn')) };
}

function isSchedulerClass(name: string): name is SchedulerClassName {
  return Object.hasOwn(SCHEDULERS, name);
}

/** A new scheduler from the loaded config (each generate call gets its own, so calls never share step state). */
export function newScheduler(c: PipelineComponents): AnyScheduler {
  return schedulerFromConfig(c.schedulerConfig, c.schedulerFile, { className: c.schedulerClass });
}

/**
 * Load a StableDiffusionPipeline folder's components; on any error, files already opened are closed.
 *
 * @example
 * const components = await loadComponents(new LocalFolderSource('./sdxs-512-dreamshaper'));
 */
export async function loadComponents(source: ModelSource, options: ComponentOptions = {}): Promise<PipelineComponents> {
  const where = (path: string) => `${source.id}/${path}`;
  const progress = options.onProgress;
  const timed = async <T>(component: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    progress?.({ stage: 'load', component });
    const out = await fn();
    progress?.({ stage: 'load', component, ms: performance.now() - t0 });
    return out;
  };
  const index = await timed('model_index', async () => parseModelIndex(await readJsonFile(source, 'model_index.json'), where('model_index.json')));

  const tokenizer = await timed('tokenizer', () => CLIPTokenizer.fromSource(source, 'tokenizer'));
  const textConfig = parseCLIPTextConfig(await readJsonFile(source, 'text_encoder/config.json'), where('text_encoder/config.json'));
  const text2: SecondTextEncoder | undefined =
    index.family === 'sdxl'
      ? {
          tokenizer: await timed('tokenizer_2', () => CLIPTokenizer.fromSource(source, 'tokenizer_2')),
          config: parseCLIPTextConfig(await readJsonFile(source, 'text_encoder_2/config.json'), where('text_encoder_2/config.json')),
        }
      : undefined;
  const unetConfig = parseUNetConfig(await readJsonFile(source, 'unet/config.json'), where('unet/config.json'));
  const vaeDir = options.vae ?? 'vae';
  const vaeJson = await readJsonFile(source, `${vaeDir}/config.json`);
  // vae_large is not listed in model_index.json: its config's own _class_name says what it is.
  const ownClass = typeof vaeJson === 'object' && vaeJson !== null && !Array.isArray(vaeJson) ? (vaeJson as Record<string, unknown>)._class_name : undefined;
  const vaeClass = vaeDir === 'vae' ? index.vae.className : typeof ownClass === 'string' ? ownClass : JSON.stringify(ownClass ?? null);
  const vae = pipelineVae(vaeClass, vaeJson, where(`${vaeDir}/config.json`));

  const schedulerFile = where('scheduler/scheduler_config.json');
  const schedulerConfig = await readJsonFile(source, 'scheduler/scheduler_config.json');
  const schedulerName = options.scheduler ?? index.scheduler.className;
  if (!isSchedulerClass(schedulerName)) {
    throw new Error(`${where('model_index.json')}: field "scheduler" is class ${schedulerName}, which sdxs does not implement; supported: ${Object.keys(SCHEDULERS).join(', ')} (the \`scheduler\` load option runs this config with one of them)`);
  }
  // Built once now so that a bad config fails the load, not the first generate call.
  schedulerFromConfig(schedulerConfig, schedulerFile, { className: schedulerName });

  checkTextConditioning(unetConfig, textConfig, text2, tokenizer, where);
  if (vae.latentChannels !== unetConfig.in_channels || vae.latentChannels !== unetConfig.out_channels) {
    throw new Error(
      `${where(`${vaeDir}/config.json`)}: latent_channels ${vae.latentChannels} does not match the U-Net's in/out channels ${unetConfig.in_channels}/${unetConfig.out_channels} (${where('unet/config.json')})`,
    );
  }
  if (tokenizer.maxLength > textConfig.max_position_embeddings) {
    throw new Error(`${where('tokenizer')}: model_max_length ${tokenizer.maxLength} exceeds the text encoder's max_position_embeddings ${textConfig.max_position_embeddings}`);
  }

  const opened: ComponentWeights[] = [];
  try {
    const open = async (dir: string, bind: Parameters<typeof openComponentWeights>[3]) => {
      const w = await timed(dir, () => openComponentWeights(source, dir, { ...(options.variant ? { variant: options.variant } : {}) }, bind));
      opened.push(w);
      return w;
    };
    const textEncoder = await open('text_encoder', clipBindOptions);
    const textEncoder2 = text2 ? await open('text_encoder_2', clipBindOptions) : undefined;
    const unet = await open('unet', () => ({}));
    const vaeWeights = await open(vaeDir, () => ({ ignore: vae.ignore }));
    const adapted = { unet, text_encoder: textEncoder, ...(textEncoder2 ? { text_encoder_2: textEncoder2 } : {}) };
    const lora = options.lora?.length ? await timed('lora', () => loadLora(loraFiles(options.lora!), adapted, source.id, { unetLdm: ldmLayout(unetConfig) })) : { components: {}, applied: [] };
    return {
      source,
      index,
      tokenizer,
      textConfig,
      ...(text2 ? { text2 } : {}),
      unetConfig,
      vae,
      schedulerConfig,
      schedulerFile,
      schedulerClass: schedulerName,
      weights: { unet: withLora(unet, lora.components.unet, options.loraMode), vae: vaeWeights, text_encoder: withLora(textEncoder, lora.components.text_encoder, options.loraMode), ...(textEncoder2 ? { text_encoder_2: withLora(textEncoder2, lora.components.text_encoder_2, options.loraMode) } : {}) },
      ...(lora.applied.length ? { lora: lora.applied } : {}),
    };
  } catch (e) {
    await closeWeights(opened);
    throw e;
  }
}
