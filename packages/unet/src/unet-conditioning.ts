/**
 * The U-Net's conditioning vector (UNet2DConditionModel.get_time_embed / time_embedding / get_aug_embed in
 * diffusers/models/unets/unet_2d_condition.py): sinusoidal timestep embedding → `time_embedding`, plus SDXL's
 * `text_time` added conditioning (`add_time_proj` on the time ids, concatenated with text_embeds → `add_embedding`).
 */
import { Add, Cast, Concat, GraphError, Reshape, silu, Unsqueeze, type Params, type Value } from '@sdxs/graph';
import type { UNet2DConditionConfig } from './config.js';
import { timeEmbedding } from './time-embedding.js';
import { timestepEmbedding } from './timestep-embedding.js';

export interface ConditioningInputs {
  /** float32 [] (one timestep for the batch) or [B]. */
  timestep: Value;
  /** `added_cond_kwargs.text_embeds` [B, projection_class_embeddings_input_dim − ids·addition_time_embed_dim]. */
  textEmbeds?: Value;
  /** `added_cond_kwargs.time_ids` [B, ids] (float32; SDXL: 6 — original size, crop, target size). */
  timeIds?: Value;
}

export interface Conditioning {
  /** The embedding handed to the blocks, after `time_embedding_act_fn` ([1, D] for a scalar timestep). */
  emb: Value;
  /** `time_embedding`'s own output (before added conditioning), diffusers' hook point. */
  timeEmbedding: Value;
}

/**
 * Build `time_proj` → `time_embedding` (+ `add_embedding` for `addition_embed_type: "text_time"`) under `p` (the
 * U-Net's root). The sinusoids are computed in float32 and cast to the parameters' dtype, as diffusers does.
 *
 * @example
 * const { emb } = unetConditioning(unet, config, 1280, { timestep });
 */
export function unetConditioning(p: Params, c: UNet2DConditionConfig, timeEmbedDim: number, inputs: ConditioningInputs): Conditioning {
  const op = 'UNet2DConditionModel';
  const { timestep } = inputs;
  if (timestep.rank > 1) throw new GraphError(op, `timestep must be [] or [batch], got [${timestep.shape.join(', ')}]`);
  const toDType = (v: Value) => (v.dtype === p.dtype ? v : Cast(v, p.dtype));
  const flip = { flipSinToCos: c.flip_sin_to_cos, downscaleFreqShift: c.freq_shift };
  const channels = c.block_out_channels[0]!;

  // A scalar timestep becomes [1]: it broadcasts over the batch wherever the embedding is added.
  const t = timestep.rank === 0 ? Unsqueeze(timestep, [0]) : timestep;
  const tEmb = p.child('time_proj').scoped(() => toDType(timestepEmbedding(t, channels, flip)));
  const timeEmb = timeEmbedding(p.child('time_embedding'), tEmb, channels, timeEmbedDim, { postAct: c.timestep_post_act !== null });
  let emb = timeEmb;

  if (c.addition_embed_type === 'text_time') {
    const { textEmbeds, timeIds } = inputs;
    if (!textEmbeds || !timeIds) throw new GraphError(op, 'addition_embed_type "text_time" needs text_embeds and time_ids (added_cond_kwargs)');
    if (textEmbeds.rank !== 2 || timeIds.rank !== 2) {
      throw new GraphError(op, `text_embeds and time_ids must be [batch, n], got [${textEmbeds.shape.join(', ')}] and [${timeIds.shape.join(', ')}]`);
    }
    const addDim = c.addition_time_embed_dim!;
    const projDim = c.projection_class_embeddings_input_dim!;
    const [ids, textDim] = [timeIds.shape[1], textEmbeds.shape[1]];
    if (typeof ids !== 'number' || typeof textDim !== 'number' || textDim + ids * addDim !== projDim) {
      throw new GraphError(op, `text_embeds width ${textDim} + ${ids} time ids × addition_time_embed_dim ${addDim} must equal projection_class_embeddings_input_dim ${projDim}`);
    }
    // add_time_proj(time_ids.flatten()).reshape(B, -1): [B, ids] → [B, ids, addDim] → [B, ids·addDim].
    const timeEmbeds = p.child('add_time_proj').scoped(() => toDType(Reshape(timestepEmbedding(timeIds, addDim, flip), [0, -1])));
    const addEmbeds = Concat([toDType(textEmbeds), timeEmbeds], -1);
    emb = Add(emb, timeEmbedding(p.child('add_embedding'), addEmbeds, projDim, timeEmbedDim));
  } else if (inputs.textEmbeds || inputs.timeIds) {
    throw new GraphError(op, 'text_embeds and time_ids are only used with addition_embed_type "text_time"');
  }
  if (c.time_embedding_act_fn !== null) emb = silu(emb);
  return { emb, timeEmbedding: timeEmb };
}
