/**
 * The original Stable Diffusion (LDM, A1111) names of UNet2DConditionModel's parameters, both ways, as diffusers'
 * `convert_ldm_unet_checkpoint` (loaders/single_file_utils.py) reads them: `input_blocks.N.M…` in place of
 * `down_blocks.B.resnets|attentions.L…`, `middle_block.0/1/2`, `output_blocks.N.M…`, `time_embed.0/2`, `out.0/2`,
 * SDXL's `label_emb.0.0/0.2`. Names only, without the `model.diffusion_model.` prefix; the tensors are the same
 * bytes and shapes in both layouts. Transformer blocks keep their inner names (`transformer_blocks.0.attn1.to_q`).
 */
import { renamePrefix, type PrefixTable } from '@sdxs/graph';

/** What the numbering of LDM blocks depends on. */
export interface LdmUNetLayout {
  /** `layers_per_block`: each LDM level has this many resnets (+ a downsampler) in input_blocks, one more in output_blocks. */
  readonly layersPerBlock: number;
  /** Per up block (diffusers order): whether it has attentions (its upsampler is then `output_blocks.N.2`, else `.1`). */
  readonly upBlockHasAttention: readonly boolean[];
}

// ResnetBlock2D's sub-layers: LDM's Sequential indices against diffusers' names.
const RESNET_LDM_TO_DIFFUSERS: PrefixTable = [
  ['in_layers.0.', 'norm1.'],
  ['in_layers.2.', 'conv1.'],
  ['out_layers.0.', 'norm2.'],
  ['out_layers.3.', 'conv2.'],
  ['emb_layers.1.', 'time_emb_proj.'],
  ['skip_connection.', 'conv_shortcut.'],
];

const TOP_LDM_TO_DIFFUSERS: PrefixTable = [
  ['time_embed.0.', 'time_embedding.linear_1.'],
  ['time_embed.2.', 'time_embedding.linear_2.'],
  ['label_emb.0.0.', 'add_embedding.linear_1.'],
  ['label_emb.0.2.', 'add_embedding.linear_2.'],
  ['input_blocks.0.0.', 'conv_in.'],
  ['out.0.', 'conv_norm_out.'],
  ['out.2.', 'conv_out.'],
];

/**
 * The diffusers name of an LDM U-Net key (prefix removed), or undefined when the key is not a U-Net parameter
 * this layout knows.
 *
 * @example
 * unetKeyFromLdm('input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight', 2);
 * // 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight'
 */
export function unetKeyFromLdm(key: string, layersPerBlock: number): string | undefined {
  const top = renamePrefix(key, TOP_LDM_TO_DIFFUSERS, 0);
  if (top !== undefined) return top;
  const m = /^(input_blocks|middle_block|output_blocks)\.(\d+)\.(?:(\d+)\.)?(.+)$/.exec(key);
  if (!m) return undefined;
  const part = m[1]!;
  const n = Number(m[2]);
  const b = m[3];
  const rest = m[4]!;
  const resnet = (prefix: string) => {
    const inner = renamePrefix(rest, RESNET_LDM_TO_DIFFUSERS, 0);
    return inner === undefined ? undefined : prefix + inner;
  };
  if (part === 'middle_block') {
    // middle_block.0.<resnet>, middle_block.1.<attention>, middle_block.2.<resnet> (no sub-index).
    const rest2 = b === undefined ? rest : `${b}.${rest}`;
    if (n === 1) return `mid_block.attentions.0.${rest2}`;
    const inner = renamePrefix(rest2, RESNET_LDM_TO_DIFFUSERS, 0);
    return inner === undefined || n > 2 ? undefined : `mid_block.resnets.${n / 2}.${inner}`;
  }
  if (b === undefined) return undefined;
  const per = layersPerBlock + 1;
  if (part === 'input_blocks') {
    if (n === 0) return undefined;
    const block = Math.floor((n - 1) / per);
    const layer = (n - 1) % per;
    if (b === '0' && rest.startsWith('op.')) return `down_blocks.${block}.downsamplers.0.conv.${rest.slice(3)}`;
    if (b === '0') return resnet(`down_blocks.${block}.resnets.${layer}.`);
    if (b === '1') return `down_blocks.${block}.attentions.${layer}.${rest}`;
    return undefined;
  }
  const block = Math.floor(n / per);
  const layer = n % per;
  if (b === '0') return resnet(`up_blocks.${block}.resnets.${layer}.`);
  if (rest.startsWith('conv.') && (b === '1' || b === '2')) return `up_blocks.${block}.upsamplers.0.conv.${rest.slice(5)}`;
  if (b === '1') return `up_blocks.${block}.attentions.${layer}.${rest}`;
  return undefined;
}

/**
 * The LDM name (without `model.diffusion_model.`) of a diffusers U-Net parameter; throws for a name outside
 * the SD layout.
 *
 * @example
 * unetKeyToLdm('up_blocks.1.upsamplers.0.conv.weight', { layersPerBlock: 2, upBlockHasAttention: [false, true, true] });
 * // 'output_blocks.5.2.conv.weight'
 */
export function unetKeyToLdm(key: string, layout: LdmUNetLayout): string {
  const top = renamePrefix(key, TOP_LDM_TO_DIFFUSERS, 1);
  if (top !== undefined) return top;
  const per = layout.layersPerBlock + 1;
  const resnet = (prefix: string, rest: string) => {
    const inner = renamePrefix(rest, RESNET_LDM_TO_DIFFUSERS, 1);
    if (inner === undefined) throw new Error(`${key}: not a ResnetBlock2D parameter of the Stable Diffusion layout`);
    return prefix + inner;
  };
  let m = /^down_blocks\.(\d+)\.(resnets|attentions|downsamplers)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const block = Number(m[1]);
    const layer = Number(m[3]);
    const rest = m[4]!;
    if (m[2] === 'downsamplers') return `input_blocks.${1 + block * per + layout.layersPerBlock}.0.op.${rest.replace(/^conv\./, '')}`;
    const n = 1 + block * per + layer;
    return m[2] === 'resnets' ? resnet(`input_blocks.${n}.0.`, rest) : `input_blocks.${n}.1.${rest}`;
  }
  m = /^mid_block\.(resnets|attentions)\.(\d+)\.(.+)$/.exec(key);
  if (m) return m[1] === 'attentions' ? `middle_block.1.${m[3]}` : resnet(`middle_block.${Number(m[2]) * 2}.`, m[3]!);
  m = /^up_blocks\.(\d+)\.(resnets|attentions|upsamplers)\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const block = Number(m[1]);
    const rest = m[4]!;
    if (m[2] === 'upsamplers') {
      const last = block * per + layout.layersPerBlock;
      return `output_blocks.${last}.${layout.upBlockHasAttention[block] ? 2 : 1}.${rest}`;
    }
    const n = block * per + Number(m[3]);
    return m[2] === 'resnets' ? resnet(`output_blocks.${n}.0.`, rest) : `output_blocks.${n}.1.${rest}`;
  }
  throw new Error(`${key}: not a parameter of the Stable Diffusion U-Net layout`);
}
