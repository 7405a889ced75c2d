// The LDM (original Stable Diffusion) names, written out from diffusers' convert_ldm_unet_checkpoint and the keys
// its single_file_utils.py uses to recognise checkpoints, so a mapping that is merely self-consistent fails here.
import { describe, expect, it } from 'vitest';
import { unetKeyFromLdm, unetKeyToLdm, type LdmUNetLayout } from '@sdxs/unet';

const SD15: LdmUNetLayout = { layersPerBlock: 2, upBlockHasAttention: [false, true, true, true] };
const SDXL: LdmUNetLayout = { layersPerBlock: 2, upBlockHasAttention: [true, true, false] };
const SDXS512: LdmUNetLayout = { layersPerBlock: 1, upBlockHasAttention: [true, true, false] };

const CASES: ReadonlyArray<readonly [LdmUNetLayout, string, string]> = [
  [SD15, 'conv_in.weight', 'input_blocks.0.0.weight'],
  [SD15, 'time_embedding.linear_1.weight', 'time_embed.0.weight'],
  [SD15, 'time_embedding.linear_2.bias', 'time_embed.2.bias'],
  [SD15, 'conv_norm_out.weight', 'out.0.weight'],
  [SD15, 'conv_out.bias', 'out.2.bias'],
  [SD15, 'down_blocks.0.resnets.0.norm1.weight', 'input_blocks.1.0.in_layers.0.weight'],
  [SD15, 'down_blocks.0.resnets.0.conv1.weight', 'input_blocks.1.0.in_layers.2.weight'],
  [SD15, 'down_blocks.0.resnets.0.time_emb_proj.weight', 'input_blocks.1.0.emb_layers.1.weight'],
  [SD15, 'down_blocks.0.resnets.1.norm2.bias', 'input_blocks.2.0.out_layers.0.bias'],
  [SD15, 'down_blocks.0.resnets.1.conv2.weight', 'input_blocks.2.0.out_layers.3.weight'],
  [SD15, 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight', 'input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight'],
  // diffusers' "v2" marker key.
  [SD15, 'down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight', 'input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight'],
  [SD15, 'down_blocks.0.attentions.0.proj_in.weight', 'input_blocks.1.1.proj_in.weight'],
  [SD15, 'down_blocks.0.downsamplers.0.conv.weight', 'input_blocks.3.0.op.weight'],
  [SD15, 'down_blocks.1.resnets.0.conv_shortcut.weight', 'input_blocks.4.0.skip_connection.weight'],
  [SD15, 'down_blocks.2.downsamplers.0.conv.bias', 'input_blocks.9.0.op.bias'],
  [SD15, 'down_blocks.3.resnets.1.conv1.weight', 'input_blocks.11.0.in_layers.2.weight'],
  [SD15, 'mid_block.resnets.0.norm1.weight', 'middle_block.0.in_layers.0.weight'],
  [SD15, 'mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight', 'middle_block.1.transformer_blocks.0.ff.net.0.proj.weight'],
  [SD15, 'mid_block.resnets.1.time_emb_proj.bias', 'middle_block.2.emb_layers.1.bias'],
  [SD15, 'up_blocks.0.resnets.0.conv_shortcut.weight', 'output_blocks.0.0.skip_connection.weight'],
  [SD15, 'up_blocks.0.upsamplers.0.conv.weight', 'output_blocks.2.1.conv.weight'],
  [SD15, 'up_blocks.1.attentions.2.norm.weight', 'output_blocks.5.1.norm.weight'],
  [SD15, 'up_blocks.1.upsamplers.0.conv.weight', 'output_blocks.5.2.conv.weight'],
  [SD15, 'up_blocks.2.upsamplers.0.conv.bias', 'output_blocks.8.2.conv.bias'],
  // diffusers' "v1" marker key.
  [SD15, 'up_blocks.3.resnets.2.conv_shortcut.weight', 'output_blocks.11.0.skip_connection.weight'],
  [SD15, 'up_blocks.3.attentions.2.proj_out.bias', 'output_blocks.11.1.proj_out.bias'],
  [SDXL, 'add_embedding.linear_1.weight', 'label_emb.0.0.weight'],
  [SDXL, 'add_embedding.linear_2.bias', 'label_emb.0.2.bias'],
  [SDXL, 'down_blocks.2.attentions.0.transformer_blocks.9.attn2.to_k.weight', 'input_blocks.7.1.transformer_blocks.9.attn2.to_k.weight'],
  [SDXL, 'up_blocks.0.upsamplers.0.conv.weight', 'output_blocks.2.2.conv.weight'],
  [SDXL, 'up_blocks.1.upsamplers.0.conv.weight', 'output_blocks.5.2.conv.weight'],
  [SDXL, 'up_blocks.2.resnets.2.conv2.weight', 'output_blocks.8.0.out_layers.3.weight'],
  [SDXS512, 'down_blocks.0.downsamplers.0.conv.weight', 'input_blocks.2.0.op.weight'],
  [SDXS512, 'down_blocks.1.attentions.0.proj_in.weight', 'input_blocks.3.1.proj_in.weight'],
  [SDXS512, 'down_blocks.2.resnets.0.norm1.weight', 'input_blocks.5.0.in_layers.0.weight'],
  [SDXS512, 'up_blocks.0.resnets.1.conv1.weight', 'output_blocks.1.0.in_layers.2.weight'],
  [SDXS512, 'up_blocks.1.upsamplers.0.conv.weight', 'output_blocks.3.2.conv.weight'],
  [SDXS512, 'up_blocks.2.resnets.1.conv_shortcut.weight', 'output_blocks.5.0.skip_connection.weight'],
];

describe('U-Net LDM key names', () => {
  it.each(CASES)('%#: %s <-> %s', (layout, diffusers, ldm) => {
    expect(unetKeyToLdm(diffusers, layout)).toBe(ldm);
    expect(unetKeyFromLdm(ldm, layout.layersPerBlock)).toBe(diffusers);
  });

  it('refuses names outside the layout', () => {
    expect(unetKeyFromLdm('input_blocks.1.2.foo.weight', 2)).toBeUndefined();
    expect(unetKeyFromLdm('model_ema.decay', 2)).toBeUndefined();
    expect(() => unetKeyToLdm('controlnet_down_blocks.0.weight', SD15)).toThrow(/not a parameter/);
  });
});
