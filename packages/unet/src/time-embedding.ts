/** diffusers' `TimestepEmbedding` (diffusers/models/embeddings.py): linear_1 → SiLU → linear_2 (→ optional SiLU). */
import { linear, silu, type Params, type Value } from '@sdxs/graph';

export interface TimeEmbeddingOptions {
  /** `post_act_fn`: a SiLU after linear_2 (the U-Net's `timestep_post_act`). */
  postAct?: boolean;
}

/**
 * `TimestepEmbedding(inChannels, embedDim)`: `linear_1` [embedDim, inChannels], SiLU, `linear_2` [embedDim, embedDim].
 * The U-Net's `time_embedding` (on the sinusoidal embedding) and SDXL's `add_embedding` (on text_embeds ‖ time ids).
 *
 * @example
 * const emb = timeEmbedding(unet.child('time_embedding'), tEmb, 320, 1280);
 */
export function timeEmbedding(p: Params, x: Value, inChannels: number, embedDim: number, options: TimeEmbeddingOptions = {}): Value {
  return p.scoped(() => {
    const h = linear(p.child('linear_2'), silu(linear(p.child('linear_1'), x, inChannels, embedDim)), embedDim, embedDim);
    return options.postAct ? silu(h) : h;
  });
}
