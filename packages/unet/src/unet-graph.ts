/**
 * A whole U-Net graph from a config: named inputs (diffusers' argument names), the prediction, and optionally the
 * ControlNet residual inputs and the block taps as extra outputs.
 */
import type { DType } from '@sdxs/tensor';
import { Concat, Expand, Graph, int64s, Params, Shape, type Dim, type GraphOptions, type SymShape, type Value } from '@sdxs/graph';
import type { UNet2DConditionConfig } from './config.js';
import { resolveStages } from './stages.js';
import { unet2DCondition, type UNetInputs } from './unet-2d-condition.js';

export interface UNetGraphOptions extends GraphOptions {
  /** Parameter and activation dtype (default float32); timesteps and time ids stay float32. */
  dtype?: DType;
  /** Batch size, or a name for a free dim (default 'batch'). */
  batch?: Dim;
  /** Latent height and width; default the config's `sample_size`. */
  height?: number;
  width?: number;
  /** Tokens of encoder_hidden_states (default 77, CLIP's context length). */
  sequenceLength?: Dim;
  /** `'scalar'`: timestep is [] (one for the batch, as in one-step SDXS); `'batch'` (default): [batch]. */
  timestep?: 'scalar' | 'batch';
  /** SDXL time ids per sample (default 6: original size, crop top-left, target size). */
  timeIds?: number;
  /** Add ControlNet inputs `down_block_additional_residuals.{i}` and `mid_block_additional_residual`. */
  controlnet?: boolean;
  /** Add the block outputs as graph outputs `intermediate.{time_embedding, down_blocks.i, mid_block, up_blocks.i}`. */
  taps?: boolean;
}

/** Output names of a U-Net graph; the prediction is `out_sample` (the input holds the name `sample`). */
export const UNET_OUTPUT = 'out_sample';

/** Size after Downsample2D's stride-2 3×3 conv: padding p on every side, or (0, 1) when p is 0. */
function downsampled(d: number, padding: number): number {
  return padding === 0 ? Math.floor((d - 2) / 2) + 1 : Math.floor((d + 2 * padding - 3) / 2) + 1;
}

/**
 * Shapes of the skip connections a ControlNet adds to (conv_in's output, then each resnet and downsampler of the
 * down path) and of the mid residual, for latents of `height` × `width`.
 *
 * @example
 * const { down, mid } = unetResidualShapes(config, 1, 64, 64); // SD 1.5: 12 down shapes, mid [1, 1280, 8, 8]
 */
export function unetResidualShapes(c: UNet2DConditionConfig, batch: Dim, height: number, width: number): { down: SymShape[]; mid: SymShape } {
  const stages = resolveStages(c);
  const n = c.block_out_channels.length;
  let [h, w] = [height, width];
  const down: SymShape[] = [[batch, c.block_out_channels[0]!, h, w]];
  stages.down.forEach((s, i) => {
    const ch = c.block_out_channels[i]!;
    for (let l = 0; l < s.layers; l++) down.push([batch, ch, h, w]);
    if (i < n - 1) {
      [h, w] = [downsampled(h, c.downsample_padding), downsampled(w, c.downsample_padding)];
      down.push([batch, ch, h, w]);
    }
  });
  return { down, mid: [batch, c.block_out_channels[n - 1]!, h, w] };
}

/** A built U-Net graph and the names of its inputs. */
export interface UNetGraph {
  graph: Graph;
  /** Input names in the order declared. */
  inputs: string[];
  /** Output names: `out_sample`, then the taps when asked for. */
  outputs: string[];
}

/**
 * Build the U-Net of `config` as a graph with inputs `sample`, `timestep`, `encoder_hidden_states`
 * (+ `text_embeds`, `time_ids` for SDXL; + ControlNet residuals) and output `out_sample`. Parameters are declared
 * under their checkpoint keys, unbound: bind them with `bindCheckpoint`.
 *
 * @example
 * const { graph } = buildUNetGraph(config, { height: 64, width: 64, timestep: 'scalar' });
 * await bindCheckpoint(graph, [await openSafetensorsFile('unet/diffusion_pytorch_model.safetensors')]);
 */
export function buildUNetGraph(config: UNet2DConditionConfig, options: UNetGraphOptions = {}): UNetGraph {
  const g = new Graph({ name: options.name ?? 'unet', target: options.target, opset: options.opset, lowering: options.lowering });
  const dtype = options.dtype ?? 'float32';
  const batch = options.batch ?? 'batch';
  const size = config.sample_size;
  const height = options.height ?? (typeof size === 'number' ? size : size?.[0]);
  const width = options.width ?? (typeof size === 'number' ? size : size?.[1]);
  if (height === undefined || width === undefined) throw new Error('buildUNetGraph: the config has no sample_size; give height and width');
  const crossDim = typeof config.cross_attention_dim === 'number' ? config.cross_attention_dim : config.cross_attention_dim[0]!;

  const inputs: UNetInputs = {
    sample: g.input('sample', dtype, [batch, config.in_channels, height, width]),
    timestep: g.input('timestep', 'float32', options.timestep === 'scalar' ? [] : [batch]),
    encoderHiddenStates: g.input('encoder_hidden_states', dtype, [batch, options.sequenceLength ?? 77, crossDim]),
  };
  if (config.addition_embed_type === 'text_time') {
    const ids = options.timeIds ?? 6;
    const textDim = config.projection_class_embeddings_input_dim! - ids * config.addition_time_embed_dim!;
    inputs.textEmbeds = g.input('text_embeds', dtype, [batch, textDim]);
    inputs.timeIds = g.input('time_ids', 'float32', [batch, ids]);
  }
  if (options.controlnet) {
    const shapes = unetResidualShapes(config, batch, height, width);
    inputs.downBlockAdditionalResiduals = shapes.down.map((s, i) => g.input(`down_block_additional_residuals.${i}`, dtype, s));
    inputs.midBlockAdditionalResidual = g.input('mid_block_additional_residual', dtype, shapes.mid);
  }

  const { sample, taps } = unet2DCondition(new Params(g, '', dtype), config, inputs);
  g.output(sample, UNET_OUTPUT);
  if (options.taps) {
    g.output(batchOf(taps.timeEmbedding, inputs.sample), 'intermediate.time_embedding');
    taps.downBlocks.forEach((v, i) => g.output(v, `intermediate.down_blocks.${i}`));
    if (taps.midBlock) g.output(taps.midBlock, 'intermediate.mid_block');
    taps.upBlocks.forEach((v, i) => g.output(v, `intermediate.up_blocks.${i}`));
  }
  return { graph: g, inputs: g.inputs.map((v) => v.name), outputs: g.outputs.map((v) => v.name) };
}

/** `emb` [1, D] (from a scalar timestep) expanded to the batch of `like`, as diffusers expands the timesteps. */
function batchOf(emb: Value, like: Value): Value {
  if (emb.shape[0] === like.shape[0]) return emb;
  return Expand(emb, Concat([Shape(like, 0, 1), int64s(emb.graph, [Number(emb.shape[1])])], 0));
}
