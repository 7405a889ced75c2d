/** The models a server runs: loaded pipelines with their names and per-model defaults. */
import type { ControlNetPipeline, StableDiffusionPipeline } from '@sdxs/pipeline';

export interface ServedModel {
  /** What clients call it (OpenAI's `model`, A1111's sd_model_checkpoint): a repo id or folder name. */
  readonly name: string;
  readonly pipe: StableDiffusionPipeline;
  /** The same model under its ControlNet (its `base` is `pipe`): the sketch stream needs one. */
  readonly control?: ControlNetPipeline;
  /** Defaults for requests that do not say: steps 1 and no guidance for one-step models. */
  readonly steps: number;
  readonly guidanceScale: number;
  /** The ControlNet's conditioning scale for the sketch stream (default 1). */
  readonly controlScale?: number;
  /** For image metadata. */
  readonly executionProvider: string;
  readonly dtype: string;
}

/** The size a model makes by default (its U-Net's sample_size), or 512² when the config does not say. */
export function defaultSize(model: ServedModel): { width: number; height: number } {
  return model.pipe.defaultSize ?? { width: 512, height: 512 };
}
