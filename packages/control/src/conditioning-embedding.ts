/**
 * diffusers' `ControlNetConditioningEmbedding` (diffusers/models/controlnets/controlnet.py): the small conv net that
 * brings the control image to latent resolution — conv_in → SiLU → (3×3 conv, SiLU, stride-2 3×3 conv, SiLU) per
 * step → conv_out (a zero convolution when trained from scratch).
 */
import { conv2d, silu, type Params, type Value } from '@sdxs/graph';

/**
 * `conv_in` [e0, conditioningChannels, 3, 3], `blocks.{2i}` [ei, ei, 3, 3], `blocks.{2i+1}` [ei+1, ei, 3, 3]
 * (stride 2), `conv_out` [outChannels, e_last, 3, 3], where e = `conditioning_embedding_out_channels`. The output
 * is smaller than the input by 2^(e.length − 1) (8 for SD's four entries).
 *
 * @example
 * const emb = controlNetConditioningEmbedding(controlnet.child('controlnet_cond_embedding'), cond, 3, [16, 32, 96, 256], 320);
 */
export function controlNetConditioningEmbedding(p: Params, cond: Value, conditioningChannels: number, embeddingChannels: readonly number[], outChannels: number): Value {
  return p.scoped(() => {
    const first = embeddingChannels[0]!;
    let h = silu(conv2d(p.child('conv_in'), cond, conditioningChannels, first, 3, { padding: 1 }));
    const blocks = p.child('blocks');
    for (let i = 0; i + 1 < embeddingChannels.length; i++) {
      const [cin, cout] = [embeddingChannels[i]!, embeddingChannels[i + 1]!];
      h = silu(conv2d(blocks.child(2 * i), h, cin, cin, 3, { padding: 1 }));
      h = silu(conv2d(blocks.child(2 * i + 1), h, cin, cout, 3, { padding: 1, stride: 2 }));
    }
    return conv2d(p.child('conv_out'), h, embeddingChannels[embeddingChannels.length - 1]!, outChannels, 3, { padding: 1 });
  });
}
