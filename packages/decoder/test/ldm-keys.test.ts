// AutoencoderKL's LDM names, written out from diffusers' convert_ldm_vae_checkpoint (SD's four-level VAE).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AutoencoderKL, isVaeAttentionProjection, vaeKeyFromLdm, vaeKeyToLdm } from '@sdxs/decoder';
import { resolveGoldenPath } from '../../../tools/golden/links.js';

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['encoder.conv_in.weight', 'encoder.conv_in.weight'],
  ['encoder.conv_norm_out.weight', 'encoder.norm_out.weight'],
  ['decoder.conv_norm_out.bias', 'decoder.norm_out.bias'],
  ['quant_conv.weight', 'quant_conv.weight'],
  ['post_quant_conv.bias', 'post_quant_conv.bias'],
  ['encoder.down_blocks.0.resnets.1.conv2.weight', 'encoder.down.0.block.1.conv2.weight'],
  ['encoder.down_blocks.1.resnets.0.conv_shortcut.weight', 'encoder.down.1.block.0.nin_shortcut.weight'],
  ['encoder.down_blocks.2.downsamplers.0.conv.bias', 'encoder.down.2.downsample.conv.bias'],
  ['encoder.mid_block.resnets.0.norm1.weight', 'encoder.mid.block_1.norm1.weight'],
  ['decoder.mid_block.resnets.1.conv2.bias', 'decoder.mid.block_2.conv2.bias'],
  ['encoder.mid_block.attentions.0.group_norm.weight', 'encoder.mid.attn_1.norm.weight'],
  ['encoder.mid_block.attentions.0.to_q.weight', 'encoder.mid.attn_1.q.weight'],
  ['decoder.mid_block.attentions.0.to_k.bias', 'decoder.mid.attn_1.k.bias'],
  ['decoder.mid_block.attentions.0.to_v.weight', 'decoder.mid.attn_1.v.weight'],
  ['decoder.mid_block.attentions.0.to_out.0.weight', 'decoder.mid.attn_1.proj_out.weight'],
  // Decoder levels count from the lowest resolution in LDM: up_blocks.0 is up.3.
  ['decoder.up_blocks.0.resnets.2.norm1.weight', 'decoder.up.3.block.2.norm1.weight'],
  ['decoder.up_blocks.0.upsamplers.0.conv.weight', 'decoder.up.3.upsample.conv.weight'],
  ['decoder.up_blocks.2.upsamplers.0.conv.bias', 'decoder.up.1.upsample.conv.bias'],
  ['decoder.up_blocks.3.resnets.0.conv_shortcut.weight', 'decoder.up.0.block.0.nin_shortcut.weight'],
];

describe('AutoencoderKL LDM key names', () => {
  it.each(CASES)('%s <-> %s', (diffusers, ldm) => {
    expect(vaeKeyToLdm(diffusers, 4)).toBe(ldm);
    expect(vaeKeyFromLdm(ldm, 4)).toBe(diffusers);
  });

  it('marks the attention projections stored as 1×1 convolutions', () => {
    expect(isVaeAttentionProjection('encoder.mid_block.attentions.0.to_q.weight')).toBe(true);
    expect(isVaeAttentionProjection('decoder.mid_block.attentions.0.to_out.0.weight')).toBe(true);
    expect(isVaeAttentionProjection('decoder.mid_block.attentions.0.to_out.0.bias')).toBe(false);
    expect(isVaeAttentionProjection('decoder.mid_block.attentions.0.group_norm.weight')).toBe(false);
  });

  it('refuses names outside the layout', () => {
    expect(vaeKeyFromLdm('encoder.up.0.block.0.conv1.weight', 4)).toBeUndefined();
    expect(vaeKeyFromLdm('loss.discriminator.main.0.weight', 4)).toBeUndefined();
    expect(() => vaeKeyToLdm('decoder.foo.weight', 4)).toThrow(/not a parameter/);
  });
});

// SD's full-size VAE as this package builds it (encoder and decoder graphs), named the LDM way: 248 tensors, in
// exactly the original checkpoint's blocks.
describe('the full-size SD VAE in LDM names', () => {
  it('has 248 tensors, in encoder.down.0–3 (downsample in 0–2), decoder.up.0–3 (upsample in 1–3), mid.block_1/2, mid.attn_1', () => {
    // SD's VAE: four levels of 128–512 channels, two resnets each; the other fields as the golden tiny VAE's.
    const golden = JSON.parse(readFileSync(resolveGoldenPath(fileURLToPath(new URL('../../../../shared/golden/vae-kl/config.json', import.meta.url))), 'utf8')) as object;
    const levels = (t: string) => Array<string>(4).fill(t);
    const vae = AutoencoderKL.fromConfig({ ...golden, block_out_channels: [128, 256, 512, 512], layers_per_block: 2, down_block_types: levels('DownEncoderBlock2D'), up_block_types: levels('UpDecoderBlock2D') });
    const names = new Set([...vae.encoderGraph({ height: 16, width: 16 }).graph.parameterNames, ...vae.decoderGraph({ height: 2, width: 2 }).graph.parameterNames]);
    const ldm = [...names].map((k) => vaeKeyToLdm(k, 4));
    expect(ldm).toHaveLength(248);
    const heads = new Set(ldm.map((n) => /^((?:en|de)coder\.(?:(?:down|up)\.\d\.(?:block\.\d|downsample|upsample)|mid\.(?:block_\d|attn_1)|[a-z_]+)|[a-z_]+)\./.exec(n)![1]));
    const want = ['quant_conv', 'post_quant_conv', 'encoder.conv_in', 'encoder.norm_out', 'encoder.conv_out', 'decoder.conv_in', 'decoder.norm_out', 'decoder.conv_out'];
    for (const side of ['encoder', 'decoder']) want.push(`${side}.mid.block_1`, `${side}.mid.block_2`, `${side}.mid.attn_1`);
    for (let i = 0; i < 4; i++) {
      for (let b = 0; b < 2; b++) want.push(`encoder.down.${i}.block.${b}`);
      for (let b = 0; b < 3; b++) want.push(`decoder.up.${i}.block.${b}`);
      if (i < 3) want.push(`encoder.down.${i}.downsample`);
      if (i > 0) want.push(`decoder.up.${i}.upsample`);
    }
    expect([...heads].sort()).toEqual(want.sort());
    expect(ldm).toContain('decoder.up.3.block.0.conv1.weight');
    expect(ldm).toContain('decoder.up.1.block.0.nin_shortcut.weight');
  });
});
