/**
 * The original Stable Diffusion (LDM) names of AutoencoderKL's parameters, both ways, as diffusers'
 * `convert_ldm_vae_checkpoint` (loaders/single_file_utils.py) reads them: `encoder.down.N.block.M`,
 * `decoder.up.N.block.M` (numbered from the lowest resolution, so reversed against diffusers' up_blocks),
 * `mid.block_1/2`, `mid.attn_1.q/k/v/proj_out` (1×1 convolutions there, linear layers here), `norm_out`,
 * `nin_shortcut`. Names only, without the `first_stage_model.` prefix.
 */
import { renamePrefix, type PrefixTable } from '@sdxs/graph';

const MID_ATTENTION: PrefixTable = [
  ['norm.', 'group_norm.'],
  ['q.', 'to_q.'],
  ['k.', 'to_k.'],
  ['v.', 'to_v.'],
  ['proj_out.', 'to_out.0.'],
];

/**
 * The diffusers name of an LDM VAE key (prefix removed), or undefined for keys outside the layout.
 * `upBlocks` is the number of decoder levels (`decoder.up.N` counts down from it).
 *
 * @example
 * vaeKeyFromLdm('decoder.up.0.block.1.nin_shortcut.weight', 4); // 'decoder.up_blocks.3.resnets.1.conv_shortcut.weight'
 */
export function vaeKeyFromLdm(key: string, upBlocks: number): string | undefined {
  if (/^(quant_conv|post_quant_conv)\./.test(key)) return key;
  const m = /^(encoder|decoder)\.(.+)$/.exec(key);
  if (!m) return undefined;
  const side = m[1]!;
  const rest = m[2]!;
  const resnet = (r: string) => r.replace(/^nin_shortcut\./, 'conv_shortcut.');
  if (/^(conv_in|conv_out)\./.test(rest)) return key;
  if (rest.startsWith('norm_out.')) return `${side}.conv_norm_out.${rest.slice(9)}`;
  let b = /^mid\.block_([12])\.(.+)$/.exec(rest);
  if (b) return `${side}.mid_block.resnets.${Number(b[1]) - 1}.${resnet(b[2]!)}`;
  b = /^mid\.attn_1\.(.+)$/.exec(rest);
  if (b) {
    const inner = renamePrefix(b[1]!, MID_ATTENTION, 0);
    return inner === undefined ? undefined : `${side}.mid_block.attentions.0.${inner}`;
  }
  b = /^(down|up)\.(\d+)\.(block\.(\d+)|downsample|upsample)\.(.+)$/.exec(rest);
  if (!b || (b[1] === 'down') !== (side === 'encoder')) return undefined;
  const level = b[1] === 'down' ? Number(b[2]) : upBlocks - 1 - Number(b[2]);
  const blocks = b[1] === 'down' ? 'down_blocks' : 'up_blocks';
  if (b[4] !== undefined) return `${side}.${blocks}.${level}.resnets.${b[4]}.${resnet(b[5]!)}`;
  return `${side}.${blocks}.${level}.${b[3] === 'downsample' ? 'downsamplers' : 'upsamplers'}.0.${b[5]}`;
}

/**
 * The LDM name of a diffusers AutoencoderKL parameter; throws for names outside the layout.
 *
 * @example
 * vaeKeyToLdm('encoder.mid_block.attentions.0.to_q.weight', 4); // 'encoder.mid.attn_1.q.weight'
 */
export function vaeKeyToLdm(key: string, upBlocks: number): string {
  if (/^(quant_conv|post_quant_conv)\./.test(key)) return key;
  const m = /^(encoder|decoder)\.(.+)$/.exec(key);
  const fail = () => new Error(`${key}: not a parameter of the Stable Diffusion AutoencoderKL layout`);
  if (!m) throw fail();
  const side = m[1]!;
  const rest = m[2]!;
  const resnet = (r: string) => r.replace(/^conv_shortcut\./, 'nin_shortcut.');
  if (/^(conv_in|conv_out)\./.test(rest)) return key;
  if (rest.startsWith('conv_norm_out.')) return `${side}.norm_out.${rest.slice(14)}`;
  let b = /^mid_block\.resnets\.([01])\.(.+)$/.exec(rest);
  if (b) return `${side}.mid.block_${Number(b[1]) + 1}.${resnet(b[2]!)}`;
  b = /^mid_block\.attentions\.0\.(.+)$/.exec(rest);
  if (b) {
    const inner = renamePrefix(b[1]!, MID_ATTENTION, 1);
    if (inner === undefined) throw fail();
    return `${side}.mid.attn_1.${inner}`;
  }
  b = /^(down|up)_blocks\.(\d+)\.(resnets\.(\d+)|downsamplers\.0|upsamplers\.0)\.(.+)$/.exec(rest);
  if (!b) throw fail();
  const level = b[1] === 'down' ? Number(b[2]) : upBlocks - 1 - Number(b[2]);
  if (b[4] !== undefined) return `${side}.${b[1]}.${level}.block.${b[4]}.${resnet(b[5]!)}`;
  return `${side}.${b[1]}.${level}.${b[1] === 'down' ? 'downsample' : 'upsample'}.${b[5]}`;
}

/**
 * Whether a diffusers VAE weight is a mid-block attention projection: a [C, C] matrix here, stored by LDM as a
 * [C, C, 1, 1] convolution (the same bytes).
 *
 * @example
 * isVaeAttentionProjection('decoder.mid_block.attentions.0.to_out.0.weight'); // true
 */
export function isVaeAttentionProjection(key: string): boolean {
  return /^(encoder|decoder)\.mid_block\.attentions\.0\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(key);
}
