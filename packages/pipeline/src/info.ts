/** What `sdxs info` prints about a loaded pipeline. */
import type { Runtime } from '@sdxs/tensor';
import type { WeightFileIdentity } from './cache/graph-key.js';
import type { BuildSettings } from './graphs/builders.js';
import type { PipelineComponents } from './model/components.js';
import { countParameters, type ComponentWeights } from './model/weights.js';
import { crossAttentionDim, SDXL_TIME_IDS } from './model/text-conditioning.js';
import type { GraphSessionStats } from './runtime/graph-sessions.js';

export interface ComponentInfo {
  /** `unet`, `text_encoder`, `vae`, and extra ones such as `controlnet`. */
  readonly name: string;
  readonly className: string;
  /** Folder in the model source. */
  readonly dir: string;
  /** Elements of every tensor in the weight files (diffusers' `sum(p.numel() for p in model.parameters())`). */
  readonly parameters: number;
  /** dtypes stored in the files. */
  readonly weightDTypes: readonly string[];
  readonly files: readonly WeightFileIdentity[];
}

export interface TokenizerInfo {
  readonly maxLength: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
}

export interface ConditioningInfo {
  /** `sd` (one text encoder) or `sdxl` (two, text_time added conditioning). */
  readonly family: 'sd' | 'sdxl';
  /** encoder_hidden_states width: the text encoder's hidden size, or both SDXL encoders' together. */
  readonly contextDim: number;
  /** Which hidden state of each encoder: `last` (SD) or `penultimate` (SDXL's hidden_states[-2]). */
  readonly hidden: 'last' | 'penultimate';
  readonly added?: { readonly textEmbedsDim: number; readonly timeIds: number; readonly forceZerosForEmptyPrompt: boolean };
}

export interface PipelineInfo {
  readonly source: string;
  readonly pipeline: string;
  readonly runtime: string;
  readonly target: string;
  readonly dtype: string;
  readonly components: readonly ComponentInfo[];
  readonly tokenizer: TokenizerInfo;
  /** SDXL's second tokenizer (its pad token is OpenCLIP's `!`, id 0). */
  readonly tokenizer2?: TokenizerInfo;
  /**
   * What the text side feeds the U-Net: `encoder_hidden_states` width and where it comes from; for SDXL the added
   * `text_embeds` (text_encoder_2's projection) and `time_ids`, and force_zeros_for_empty_prompt.
   */
  readonly conditioning: ConditioningInfo;
  readonly scheduler: { readonly className: string; readonly config: unknown };
  /** Pixels per latent along a side. */
  readonly vaeScaleFactor: number;
  readonly graphs: Readonly<GraphSessionStats>;
}

function tokenizerInfo(t: PipelineComponents['tokenizer']): TokenizerInfo {
  return { maxLength: t.maxLength, bosTokenId: t.bosTokenId, eosTokenId: t.eosTokenId, padTokenId: t.padTokenId };
}

/** Summarize a loaded pipeline. */
export function pipelineInfo(c: PipelineComponents, runtime: Runtime, settings: BuildSettings, stats: GraphSessionStats): PipelineInfo {
  const component = (name: string, className: string, w: ComponentWeights): ComponentInfo => {
    const { parameters, dtypes } = countParameters(w);
    return { name, className, dir: w.dir, parameters, weightDTypes: dtypes, files: w.identity };
  };
  const extra = Object.entries(c.extra ?? {}).map(([name, e]) => component(name, e.className, e.weights));
  return {
    source: c.source.id,
    pipeline: c.index.pipelineClass,
    runtime: runtime.name,
    target: settings.target,
    dtype: settings.dtype,
    components: [
      component('text_encoder', c.index.textEncoder.className, c.weights.text_encoder),
      ...(c.weights.text_encoder_2 ? [component('text_encoder_2', c.index.textEncoder2?.className ?? 'CLIPTextModelWithProjection', c.weights.text_encoder_2)] : []),
      component('unet', c.index.unet.className, c.weights.unet),
      component('vae', c.vae.className, c.weights.vae),
      ...extra,
    ],
    tokenizer: tokenizerInfo(c.tokenizer),
    ...(c.text2 ? { tokenizer2: tokenizerInfo(c.text2.tokenizer) } : {}),
    conditioning: {
      family: c.index.family,
      contextDim: crossAttentionDim(c.unetConfig),
      hidden: c.text2 ? 'penultimate' : 'last',
      ...(c.text2 ? { added: { textEmbedsDim: c.text2.config.projection_dim, timeIds: SDXL_TIME_IDS, forceZerosForEmptyPrompt: c.index.forceZerosForEmptyPrompt } } : {}),
    },
    scheduler: { className: c.schedulerClass, config: c.schedulerConfig },
    vaeScaleFactor: c.vae.spatialFactor,
    graphs: { ...stats },
  };
}
