import type { Value } from '@sdxs/graph';

/** What every block of a U-Net shares: the time conditioning and the resnets' norm settings. */
export interface BlockContext {
  /** SiLU(time embedding) [B or 1, tembChannels], the input of every resnet's `time_emb_proj`. */
  tembAct: Value;
  tembChannels: number;
  /** `norm_num_groups` and `norm_eps` of the resnets (and the groups of the transformers' GroupNorm). */
  groups: number;
  eps: number;
}

/** The Transformer2DModel settings of a cross-attention block. */
export interface CrossAttentionSettings {
  /** encoder_hidden_states [B, T, crossAttentionDim]. */
  context: Value;
  heads: number;
  crossAttentionDim: number;
  /** Transformer depth of each layer of the block. */
  transformerLayers: readonly number[];
  useLinearProjection: boolean;
  onlyCrossAttention: boolean;
  upcastAttention: boolean;
}

/** A down block's result: its output, and the skip connections it adds (one per resnet, one per downsampler). */
export interface DownBlockOutput {
  hidden: Value;
  residuals: Value[];
}
