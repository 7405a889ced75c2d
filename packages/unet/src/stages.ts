import type { StageTransformerLayers, UNet2DConditionConfig } from './config.js';

/** Attention settings of one stage's Transformer2DModels. */
export interface StageAttention {
  heads: number;
  crossAttentionDim: number;
  onlyCrossAttention: boolean;
  /** Transformer depth of each layer (resnet/attention pair) of the block. */
  transformerLayers: number[];
}

/** One down or up stage as UNet2DConditionModel.__init__ hands it to `get_down_block` / `get_up_block`. */
export interface Stage {
  /** Resnets of the block: layers_per_block down, one more up. */
  layers: number;
  attention: StageAttention;
}

/** Per-stage settings resolved from the config's scalar-or-list fields. */
export interface ResolvedStages {
  down: Stage[];
  up: Stage[];
  /** The mid block's attention (UNetMidBlock2DCrossAttn has one transformer). */
  mid: StageAttention;
  /** Width of the time embedding every resnet is conditioned on. */
  timeEmbedDim: number;
}

function perStage<T extends number | boolean>(v: T | readonly T[], n: number): T[] {
  return typeof v === 'object' ? [...v] : Array<T>(n).fill(v);
}

/** CrossAttn*Block2D / UNetMidBlock2DCrossAttn: an int applies to every layer, a list gives each layer's depth. */
function perLayer(v: StageTransformerLayers, layers: number): number[] {
  return typeof v === 'number' ? Array<number>(layers).fill(v) : v.slice(0, layers);
}

/**
 * Resolve per-stage settings exactly as UNet2DConditionModel.__init__ does, including the historic naming:
 * heads = `num_attention_heads or attention_head_dim` (diffusers issue #2011), up stages read the lists reversed,
 * and the mid block takes the last stage's values (but never `only_cross_attention`, which it ignores).
 *
 * @example
 * const { down, up, mid } = resolveStages(config);
 */
export function resolveStages(c: UNet2DConditionConfig): ResolvedStages {
  const n = c.block_out_channels.length;
  const heads = perStage(c.num_attention_heads ?? c.attention_head_dim, n);
  const cross = perStage(c.cross_attention_dim, n);
  const layers = perStage(c.layers_per_block, n);
  const onlyCross = perStage(c.only_cross_attention, n);
  // A top-level list is per stage; an entry may itself list per-layer depths.
  const t = c.transformer_layers_per_block;
  const tlpb: StageTransformerLayers[] = typeof t === 'number' ? Array<number>(n).fill(t) : [...t];
  const reverseTlpb = c.reverse_transformer_layers_per_block ?? [...tlpb].reverse();
  const at = <T>(xs: readonly T[], i: number): T => xs[i]!;

  const down = [...Array(n).keys()].map((i) => ({
    layers: at(layers, i),
    attention: { heads: at(heads, i), crossAttentionDim: at(cross, i), onlyCrossAttention: at(onlyCross, i), transformerLayers: perLayer(at(tlpb, i), at(layers, i)) },
  }));
  const up = [...Array(n).keys()].map((i) => {
    const j = n - 1 - i;
    const count = at(layers, j) + 1;
    return {
      layers: count,
      attention: { heads: at(heads, j), crossAttentionDim: at(cross, j), onlyCrossAttention: at(onlyCross, j), transformerLayers: perLayer(at(reverseTlpb, i), count) },
    };
  });
  const mid = { heads: at(heads, n - 1), crossAttentionDim: at(cross, n - 1), onlyCrossAttention: false, transformerLayers: perLayer(at(tlpb, n - 1), 1) };
  const timeEmbedDim = c.time_embedding_dim ?? at(c.block_out_channels, 0) * 4;
  return { down, up, mid, timeEmbedDim };
}
