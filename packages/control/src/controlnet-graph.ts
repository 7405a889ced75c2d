/**
 * A whole ControlNet graph from a config: named inputs (diffusers' argument names) and the residuals as outputs
 * named as diffusers returns them, plus the mapping onto a U-Net graph's ControlNet inputs.
 */
import type { DType, Tensor } from '@sdxs/tensor';
import { Graph, Params, type Dim, type GraphOptions } from '@sdxs/graph';
import type { ControlNetConfig } from './config.js';
import { controlNetModel, type ControlNetInputs } from './controlnet.js';

export interface ControlNetGraphOptions extends GraphOptions {
  /** Parameter and activation dtype (default float32); timesteps, time ids and conditioning_scale stay float32. */
  dtype?: DType;
  /** Batch size, or a name for a free dim (default 'batch'). */
  batch?: Dim;
  /** Latent height and width (a ControlNet config has no sample_size). */
  height: number;
  width: number;
  /** Tokens of encoder_hidden_states (default 77, CLIP's context length). */
  sequenceLength?: Dim;
  /** `'scalar'`: timestep is [] (one for the batch, as in one-step SDXS); `'batch'` (default): [batch]. */
  timestep?: 'scalar' | 'batch';
  /** SDXL time ids per sample (default 6). */
  timeIds?: number;
  /** A fixed number, or `'input'` (default): a float32 [] input `conditioning_scale`. */
  conditioningScale?: number | 'input';
  /** diffusers' guess_mode (residuals scaled 0.1 → 1). */
  guessMode?: boolean;
}

/**
 * Output name of the i-th down residual (diffusers' `down_block_res_samples[i]`).
 *
 * @example
 * const first = outputs[controlNetDownOutput(0)]; // 'down_block_res_samples.0'
 */
export function controlNetDownOutput(i: number): string {
  return `down_block_res_samples.${i}`;
}
/** Output name of the mid residual (diffusers' `mid_block_res_sample`). */
export const CONTROLNET_MID_OUTPUT = 'mid_block_res_sample';

/** A built ControlNet graph and its input and output names. */
export interface ControlNetGraph {
  graph: Graph;
  inputs: string[];
  /** `down_block_res_samples.{i}`, then `mid_block_res_sample`. */
  outputs: string[];
}

/**
 * Build the ControlNet of `config` as a graph with inputs `sample`, `timestep`, `encoder_hidden_states`,
 * `controlnet_cond` [batch, conditioning_channels, 8·height, 8·width] (for SD's embedding), `conditioning_scale`
 * (+ `text_embeds`, `time_ids` for SDXL) and the residuals as outputs. Parameters are declared under their
 * checkpoint keys, unbound: bind them with `bindCheckpoint` (or use `loadControlNet`).
 *
 * @example
 * const { graph } = buildControlNetGraph(config, { height: 64, width: 64, timestep: 'scalar' });
 */
export function buildControlNetGraph(config: ControlNetConfig, options: ControlNetGraphOptions): ControlNetGraph {
  const g = new Graph({ name: options.name ?? 'controlnet', target: options.target, opset: options.opset, lowering: options.lowering });
  const dtype = options.dtype ?? 'float32';
  const batch = options.batch ?? 'batch';
  const { height, width } = options;
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`buildControlNetGraph: ${name} (of the latents) must be a positive integer, got ${v}`);
  }
  const factor = 2 ** (config.conditioning_embedding_out_channels.length - 1);
  const inputs: ControlNetInputs = {
    sample: g.input('sample', dtype, [batch, config.in_channels, height, width]),
    timestep: g.input('timestep', 'float32', options.timestep === 'scalar' ? [] : [batch]),
    encoderHiddenStates: g.input('encoder_hidden_states', dtype, [batch, options.sequenceLength ?? 77, config.cross_attention_dim]),
    controlnetCond: g.input('controlnet_cond', dtype, [batch, config.conditioning_channels, height * factor, width * factor]),
    conditioningScale: options.conditioningScale === 'input' || options.conditioningScale === undefined ? g.input('conditioning_scale', 'float32', []) : options.conditioningScale,
    guessMode: options.guessMode ?? false,
  };
  if (config.addition_embed_type === 'text_time') {
    const ids = options.timeIds ?? 6;
    const textDim = config.projection_class_embeddings_input_dim! - ids * config.addition_time_embed_dim!;
    inputs.textEmbeds = g.input('text_embeds', dtype, [batch, textDim]);
    inputs.timeIds = g.input('time_ids', 'float32', [batch, ids]);
  }
  const { downResiduals, midResidual } = controlNetModel(new Params(g, '', dtype), config, inputs);
  downResiduals.forEach((r, i) => g.output(r, controlNetDownOutput(i)));
  g.output(midResidual, CONTROLNET_MID_OUTPUT);
  return { graph: g, inputs: g.inputs.map((v) => v.name), outputs: g.outputs.map((v) => v.name) };
}

/**
 * A ControlNet session's outputs renamed as a U-Net graph's ControlNet inputs (`buildUNetGraph(..., { controlnet:
 * true })`): `down_block_res_samples.{i}` → `down_block_additional_residuals.{i}`, `mid_block_res_sample` →
 * `mid_block_additional_residual`. Other entries are left out.
 *
 * @example
 * const unetOut = await unetSession.run({ sample, timestep, encoder_hidden_states, ...toUNetResidualFeeds(await controlnetSession.run(feeds)) });
 */
export function toUNetResidualFeeds(outputs: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const down = /^down_block_res_samples\.(\d+)$/.exec(name);
    if (down) feeds[`down_block_additional_residuals.${down[1]}`] = t;
    else if (name === CONTROLNET_MID_OUTPUT) feeds['mid_block_additional_residual'] = t;
  }
  return feeds;
}
