/** What `sdxs info` prints about a loaded pipeline. */
import type { Runtime } from '@sdxs/tensor';
import type { WeightFileIdentity } from './cache/graph-key.js';
import type { BuildSettings } from './graphs/builders.js';
import type { PipelineComponents } from './model/components.js';
import { countParameters, type ComponentWeights } from './model/weights.js';
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

export interface PipelineInfo {
  readonly source: string;
  readonly pipeline: string;
  readonly runtime: string;
  readonly target: string;
  readonly dtype: string;
  readonly components: readonly ComponentInfo[];
  readonly tokenizer: { readonly maxLength: number; readonly bosTokenId: number; readonly eosTokenId: number; readonly padTokenId: number };
  readonly scheduler: { readonly className: string; readonly config: unknown };
  /** Pixels per latent along a side. */
  readonly vaeScaleFactor: number;
  readonly graphs: Readonly<GraphSessionStats>;
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
      component('unet', c.index.unet.className, c.weights.unet),
      component('vae', c.vae.className, c.weights.vae),
      ...extra,
    ],
    tokenizer: { maxLength: c.tokenizer.maxLength, bosTokenId: c.tokenizer.bosTokenId, eosTokenId: c.tokenizer.eosTokenId, padTokenId: c.tokenizer.padTokenId },
    scheduler: { className: c.schedulerClass, config: c.schedulerConfig },
    vaeScaleFactor: c.vae.spatialFactor,
    graphs: { ...stats },
  };
}
