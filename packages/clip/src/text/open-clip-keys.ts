/**
 * OpenCLIP's text tower names (SD 2.x's `cond_stage_model.model.…`, SDXL's `conditioner.embedders.1.model.…`)
 * against transformers' CLIPTextModel(WithProjection) names, both ways, as diffusers' `convert_open_clip_checkpoint`
 * (loaders/single_file_utils.py) reads them: `transformer.resblocks.N.{ln_1, attn, ln_2, mlp.c_fc, mlp.c_proj}`,
 * `token_embedding`, `positional_embedding`, `ln_final`, and two changes of layout: `attn.in_proj_weight` [3D, D]
 * holds q, k and v stacked by rows (each third is a contiguous slice), and `text_projection` [D, P] is applied as
 * x @ P, so transformers' `text_projection.weight` [P, D] is its transpose.
 */
import { renamePrefix, type PrefixTable } from '@sdxs/graph';

/** Where a transformers tensor lives in the OpenCLIP layout (or the reverse). */
export interface OpenClipPlace {
  readonly name: string;
  /** Row third (0: q, 1: k, 2: v) of a fused `in_proj_weight` / `in_proj_bias`. */
  readonly third?: 0 | 1 | 2;
  /** The tensor is the 2-D transpose of the one named. */
  readonly transpose?: boolean;
}

const TOP: PrefixTable = [
  ['token_embedding.weight', 'text_model.embeddings.token_embedding.weight'],
  ['positional_embedding', 'text_model.embeddings.position_embedding.weight'],
  ['ln_final.weight', 'text_model.final_layer_norm.weight'],
  ['ln_final.bias', 'text_model.final_layer_norm.bias'],
];

const LAYER: PrefixTable = [
  ['ln_1.', 'layer_norm1.'],
  ['ln_2.', 'layer_norm2.'],
  ['mlp.c_fc.', 'mlp.fc1.'],
  ['mlp.c_proj.', 'mlp.fc2.'],
  ['attn.out_proj.', 'self_attn.out_proj.'],
];

const QKV = ['q_proj', 'k_proj', 'v_proj'] as const;

/**
 * The transformers tensors one OpenCLIP key holds (prefix removed): usually one, three for a fused q/k/v
 * projection; undefined for keys transformers' model has no place for (`logit_scale`, `attn_mask`).
 *
 * @example
 * openClipKeyToTransformers('transformer.resblocks.0.attn.in_proj_bias');
 * // [{ name: 'text_model.encoder.layers.0.self_attn.q_proj.bias', third: 0 }, … k_proj (1), v_proj (2)]
 */
export function openClipKeyToTransformers(key: string): OpenClipPlace[] | undefined {
  for (const [from, to] of TOP) if (key === from) return [{ name: to }];
  if (key === 'text_projection') return [{ name: 'text_projection.weight', transpose: true }];
  const m = /^transformer\.resblocks\.(\d+)\.(.+)$/.exec(key);
  if (!m) return undefined;
  const layer = `text_model.encoder.layers.${m[1]}.`;
  const rest = m[2]!;
  const fused = /^attn\.in_proj_(weight|bias)$/.exec(rest);
  if (fused) return QKV.map((p, i) => ({ name: `${layer}self_attn.${p}.${fused[1]}`, third: i as 0 | 1 | 2 }));
  const renamed = renamePrefix(rest, LAYER, 0);
  return renamed === undefined ? undefined : [{ name: layer + renamed }];
}

/**
 * Where a transformers CLIP text tensor goes in the OpenCLIP layout (prefix not added); undefined for tensors
 * OpenCLIP has no place for (`position_ids`).
 *
 * @example
 * transformersKeyToOpenClip('text_model.encoder.layers.2.self_attn.v_proj.weight');
 * // { name: 'transformer.resblocks.2.attn.in_proj_weight', third: 2 }
 */
export function transformersKeyToOpenClip(key: string): OpenClipPlace | undefined {
  for (const [from, to] of TOP) if (key === to) return { name: from };
  if (key === 'text_projection.weight') return { name: 'text_projection', transpose: true };
  const m = /^text_model\.encoder\.layers\.(\d+)\.(.+)$/.exec(key);
  if (!m) return undefined;
  const layer = `transformer.resblocks.${m[1]}.`;
  const rest = m[2]!;
  const qkv = /^self_attn\.(q_proj|k_proj|v_proj)\.(weight|bias)$/.exec(rest);
  if (qkv) return { name: `${layer}attn.in_proj_${qkv[2]}`, third: QKV.indexOf(qkv[1] as (typeof QKV)[number]) as 0 | 1 | 2 };
  const renamed = renamePrefix(rest, LAYER, 1);
  return renamed === undefined ? undefined : { name: layer + renamed };
}
