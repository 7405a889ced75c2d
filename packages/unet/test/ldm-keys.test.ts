// The LDM (original Stable Diffusion) names, written out from diffusers' convert_ldm_unet_checkpoint and the keys
// its single_file_utils.py uses to recognise checkpoints, so a mapping that is merely self-consistent fails here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildUNetGraph, parseUNetConfig, unetKeyFromLdm, unetKeyToLdm, type LdmUNetLayout } from '@sdxs/unet';
import { resolveGoldenPath } from '../../../tools/golden/links.js';

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

// The full-size SD 1.5 and SDXL base U-Nets as this package builds them, named the LDM way: the blocks that exist
// must be exactly the real checkpoints' (input_blocks.3.0.op, output_blocks.2.1.conv, SDXL's output_blocks.2.2.conv…).
describe('full-size layouts in LDM names', () => {
  const blocks = (config: Record<string, unknown>, layout: LdmUNetLayout) => {
    // Every other field as a diffusers config.json has it (the golden tiny SD 1.5's), then the full-size ones.
    const base = JSON.parse(readFileSync(resolveGoldenPath(fileURLToPath(new URL('../../../../shared/golden/unet-sd15/config.json', import.meta.url))), 'utf8')) as object;
    const { graph } = buildUNetGraph(parseUNetConfig({ ...base, ...config }, 'config.json'), { height: 8, width: 8 });
    const names = [...graph.parameterNames].map((k) => unetKeyToLdm(k, layout));
    for (const n of names) expect(unetKeyFromLdm(n, layout.layersPerBlock)).toBeDefined();
    const heads = new Set(names.map((n) => /^(input_blocks\.\d+\.\d+(\.op)?|middle_block\.\d+|output_blocks\.\d+\.\d+(\.conv)?|[a-z_]+\.\d+(\.\d+)?)\./.exec(n)?.[1] ?? n));
    return { count: names.length, heads: [...heads].sort() };
  };
  const sorted = (s: string) => s.split(' ').sort();

  it('SD 1.5: 686 tensors in the blocks of the original checkpoint', () => {
    const { count, heads } = blocks(
      { block_out_channels: [320, 640, 1280, 1280], down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'], layers_per_block: 2, cross_attention_dim: 768, attention_head_dim: 8 },
      SD15,
    );
    expect(count).toBe(686);
    expect(heads).toEqual(
      sorted(
        'time_embed.0 time_embed.2 input_blocks.0.0 input_blocks.1.0 input_blocks.1.1 input_blocks.2.0 input_blocks.2.1 input_blocks.3.0.op input_blocks.4.0 input_blocks.4.1 input_blocks.5.0 input_blocks.5.1 input_blocks.6.0.op input_blocks.7.0 input_blocks.7.1 input_blocks.8.0 input_blocks.8.1 input_blocks.9.0.op input_blocks.10.0 input_blocks.11.0 ' +
          'middle_block.0 middle_block.1 middle_block.2 output_blocks.0.0 output_blocks.1.0 output_blocks.2.0 output_blocks.2.1.conv output_blocks.3.0 output_blocks.3.1 output_blocks.4.0 output_blocks.4.1 output_blocks.5.0 output_blocks.5.1 output_blocks.5.2.conv ' +
          'output_blocks.6.0 output_blocks.6.1 output_blocks.7.0 output_blocks.7.1 output_blocks.8.0 output_blocks.8.1 output_blocks.8.2.conv output_blocks.9.0 output_blocks.9.1 output_blocks.10.0 output_blocks.10.1 output_blocks.11.0 output_blocks.11.1 out.0 out.2',
      ),
    );
  });

  it('SDXL base: label_emb and the three-level layout with upsamplers after attention', () => {
    const { heads } = blocks(
      {
        block_out_channels: [320, 640, 1280],
        down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
        up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
        layers_per_block: 2,
        cross_attention_dim: 2048,
        attention_head_dim: [5, 10, 20],
        transformer_layers_per_block: [1, 2, 10],
        use_linear_projection: true,
        addition_embed_type: 'text_time',
        addition_time_embed_dim: 256,
        projection_class_embeddings_input_dim: 2816,
      },
      SDXL,
    );
    expect(heads).toEqual(
      sorted(
        'time_embed.0 time_embed.2 label_emb.0.0 label_emb.0.2 input_blocks.0.0 input_blocks.1.0 input_blocks.2.0 input_blocks.3.0.op input_blocks.4.0 input_blocks.4.1 input_blocks.5.0 input_blocks.5.1 input_blocks.6.0.op input_blocks.7.0 input_blocks.7.1 input_blocks.8.0 input_blocks.8.1 ' +
          'middle_block.0 middle_block.1 middle_block.2 output_blocks.0.0 output_blocks.0.1 output_blocks.1.0 output_blocks.1.1 output_blocks.2.0 output_blocks.2.1 output_blocks.2.2.conv output_blocks.3.0 output_blocks.3.1 output_blocks.4.0 output_blocks.4.1 output_blocks.5.0 output_blocks.5.1 output_blocks.5.2.conv ' +
          'output_blocks.6.0 output_blocks.7.0 output_blocks.8.0 out.0 out.2',
      ),
    );
  });
});
