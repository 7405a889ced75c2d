import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseUNetConfig, resolveStages, UNetConfigError } from '@sdxs/unet';
import { caseFile } from '../../../tools/golden/links.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const raw = (name: string): Record<string, unknown> => JSON.parse(readFileSync(caseFile(`${GOLDEN}${name}`, 'config.json'), 'utf8'));

/** The config error for `json`, or a failure when it parses. */
function errorOf(json: unknown): UNetConfigError {
  try {
    parseUNetConfig(json, 'unet/config.json');
  } catch (e) {
    if (e instanceof UNetConfigError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

function withField(field: string, value: unknown, base = 'unet-sdxs512'): Record<string, unknown> {
  return { ...raw(base), [field]: value };
}

describe('parseUNetConfig', () => {
  it.each(['unet-sdxs512', 'unet-sd15', 'unet-sdxl'])('accepts %s', (name) => {
    const c = parseUNetConfig(raw(name), `${name}/config.json`);
    expect(c.block_out_channels).toEqual(raw(name)['block_out_channels']);
  });

  it('fills fields newer than SD 1.5’s config (diffusers 0.6) with diffusers’ defaults', () => {
    const sd15 = raw('unet-sd15');
    const old = Object.fromEntries(
      ['_class_name', 'act_fn', 'attention_head_dim', 'block_out_channels', 'center_input_sample', 'cross_attention_dim', 'down_block_types', 'downsample_padding',
        'flip_sin_to_cos', 'freq_shift', 'in_channels', 'layers_per_block', 'mid_block_scale_factor', 'norm_eps', 'norm_num_groups', 'out_channels', 'sample_size',
        'up_block_types'].map((k) => [k, sd15[k]]),
    );
    const c = parseUNetConfig(old, 'sd15/config.json');
    // An absent mid_block_type is diffusers' default UNetMidBlock2DCrossAttn; an explicit null means none.
    expect(c.mid_block_type).toBe('UNetMidBlock2DCrossAttn');
    expect(c.transformer_layers_per_block).toBe(1);
    expect(c.use_linear_projection).toBe(false);
    expect(c.addition_embed_type).toBeNull();
    expect(parseUNetConfig(raw('unet-sdxs512'), 'x').mid_block_type).toBeNull();
  });

  it('refuses a missing field that every UNet config has, naming field and file', () => {
    const json = raw('unet-sd15');
    delete json['block_out_channels'];
    const e = errorOf(json);
    expect([e.field, e.file]).toEqual(['block_out_channels', 'unet/config.json']);
    expect(e.message).toBe('unet/config.json: block_out_channels: is missing');
  });

  it.each<[string, unknown, string]>([
    ['in_channels', '4', 'in_channels'],
    ['layers_per_block', 1.5, 'layers_per_block'],
    ['flip_sin_to_cos', 1, 'flip_sin_to_cos'],
    ['norm_eps', 'tiny', 'norm_eps'],
    ['attention_head_dim', [8, 8], 'attention_head_dim'],
    ['only_cross_attention', [false, 'no', false], 'only_cross_attention[1]'],
    ['block_out_channels', [], 'block_out_channels'],
    ['transformer_layers_per_block', [1, 0, 1], 'transformer_layers_per_block[1]'],
  ])('refuses a mistyped %s', (field, value, named) => {
    expect(errorOf(withField(field, value)).field).toBe(named);
  });

  it.each<[string, unknown]>([
    ['class_embed_type', 'timestep'],
    ['num_class_embeds', 10],
    ['encoder_hid_dim_type', 'text_proj'],
    ['encoder_hid_dim', 1024],
    ['time_cond_proj_dim', 256],
    ['attention_type', 'gated'],
    ['resnet_time_scale_shift', 'scale_shift'],
    ['dual_cross_attention', true],
    ['addition_embed_type', 'text'],
    ['time_embedding_type', 'fourier'],
    ['class_embeddings_concat', true],
    ['act_fn', 'gelu'],
    ['timestep_post_act', 'mish'],
    ['mid_block_type', 'UNetMidBlock2DSimpleCrossAttn'],
  ])('refuses what sdxs does not implement: %s = %j', (field, value) => {
    const e = errorOf(withField(field, value));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(/not supported|must be/);
  });

  it('refuses unsupported block types by position', () => {
    const json = raw('unet-sd15');
    json['down_block_types'] = ['CrossAttnDownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'];
    expect(errorOf(json).field).toBe('down_block_types[1]');
  });

  it('refuses unknown fields, and configs of other classes', () => {
    expect(errorOf(withField('attention_heads', 8)).field).toBe('attention_heads');
    expect(errorOf(withField('_class_name', 'ControlNetModel')).field).toBe('_class_name');
  });

  it('checks lists against the number of stages and fields against each other', () => {
    expect(errorOf(withField('layers_per_block', [1, 1])).message).toMatch(/has 2 entries; block_out_channels has 3 stages/);
    expect(errorOf(withField('norm_num_groups', 24)).field).toBe('norm_num_groups');
    expect(errorOf(withField('attention_head_dim', 65)).field).toBe('attention_head_dim');
    const sdxl = raw('unet-sdxl');
    expect(errorOf({ ...sdxl, addition_time_embed_dim: null }).field).toBe('addition_time_embed_dim');
    expect(errorOf({ ...sdxl, transformer_layers_per_block: [1, [2, 2]] }).field).toBe('reverse_transformer_layers_per_block');
    expect(errorOf({ ...sdxl, transformer_layers_per_block: [1, [2, 2]], reverse_transformer_layers_per_block: [[2, 2], [1, 1]] }).field).toBe(
      'transformer_layers_per_block[1]',
    );
  });
});

describe('resolveStages', () => {
  it('reads attention_head_dim as the head count unless num_attention_heads is set (diffusers issue #2011)', () => {
    const sdxl = parseUNetConfig(raw('unet-sdxl'), 'sdxl');
    const s = resolveStages(sdxl);
    expect(s.down.map((d) => d.attention.heads)).toEqual(raw('unet-sdxl')['attention_head_dim']);
    expect(s.up.map((u) => u.attention.heads)).toEqual([...(raw('unet-sdxl')['attention_head_dim'] as number[])].reverse());
    expect(s.mid.heads).toBe((raw('unet-sdxl')['attention_head_dim'] as number[]).at(-1));
    const override = resolveStages(parseUNetConfig({ ...raw('unet-sdxl'), num_attention_heads: [1, 2] }, 'sdxl'));
    expect(override.down.map((d) => d.attention.heads)).toEqual([1, 2]);
  });

  it('gives up blocks one more resnet and the reversed transformer depths', () => {
    const s = resolveStages(parseUNetConfig(raw('unet-sdxl'), 'sdxl'));
    expect(s.down.map((d) => d.attention.transformerLayers)).toEqual([[1], [2]]);
    expect(s.up.map((u) => u.attention.transformerLayers)).toEqual([[2, 2], [1, 1]]);
    expect(s.mid.transformerLayers).toEqual([2]);
    expect(s.timeEmbedDim).toBe(4 * (raw('unet-sdxl')['block_out_channels'] as number[])[0]!);
  });

  it('never gives the mid block only_cross_attention (diffusers does not pass it)', () => {
    const s = resolveStages(parseUNetConfig(withField('only_cross_attention', true, 'unet-sd15'), 'sd15'));
    expect(s.down.every((d) => d.attention.onlyCrossAttention)).toBe(true);
    expect(s.mid.onlyCrossAttention).toBe(false);
  });
});
