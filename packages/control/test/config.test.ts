// ControlNet config.json validation: diffusers' defaults, and one error naming the field and the file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveStages } from '@sdxs/unet';
import { controlNetUNetConfig, ControlNetConfigError, parseControlNetConfig } from '@sdxs/control';
import { caseFile } from '../../../tools/golden/links.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const FILE = 'sketch/controlnet/config.json';
const golden = (): Record<string, unknown> => JSON.parse(readFileSync(caseFile(`${GOLDEN}controlnet-sdxs512`, 'config.json'), 'utf8'));

/** The error parseControlNetConfig throws for `json`. */
function errorOf(json: unknown): ControlNetConfigError {
  try {
    parseControlNetConfig(json, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ControlNetConfigError);
    return e as ControlNetConfigError;
  }
  throw new Error('parsed without error');
}

function expectError(change: (c: Record<string, unknown>) => void, field: string, message: RegExp): void {
  const json = golden();
  change(json);
  const e = errorOf(json);
  expect(e.field).toBe(field);
  expect(e.file).toBe(FILE);
  expect(e.message.startsWith(`${FILE}: ${field}: `)).toBe(true);
  expect(e.message).toMatch(message);
}

describe('parseControlNetConfig', () => {
  it('reads the golden SDXS ControlNet config', () => {
    const c = parseControlNetConfig(golden(), FILE);
    expect(c.mid_block_type).toBe('UNetMidBlock2DCrossAttn');
    expect(c.conditioning_embedding_out_channels).toEqual([8, 16, 32, 32]);
    expect(c.controlnet_conditioning_channel_order).toBe('rgb');
    expect(c.block_out_channels).toEqual([32, 64, 128]);
    expect(c.cross_attention_dim).toBe(32);
    // The U-Net view: heads from attention_head_dim, time_embed_dim = 4 · block_out_channels[0].
    const stages = resolveStages(controlNetUNetConfig(c));
    expect(stages.timeEmbedDim).toBe(128);
    expect(stages.mid.heads).toBe(8);
    expect(stages.down.map((s) => s.layers)).toEqual([1, 1, 1]);
  });

  it('fills in ControlNetModel.__init__ defaults for fields an old config lacks', () => {
    const json = golden();
    for (const k of ['conditioning_channels', 'mid_block_type', 'controlnet_conditioning_channel_order', 'conditioning_embedding_out_channels', 'global_pool_conditions', 'transformer_layers_per_block', 'num_attention_heads', 'addition_embed_type_num_heads']) delete json[k];
    const c = parseControlNetConfig(json, FILE);
    expect(c.conditioning_channels).toBe(3);
    expect(c.mid_block_type).toBe('UNetMidBlock2DCrossAttn');
    expect(c.controlnet_conditioning_channel_order).toBe('rgb');
    expect(c.conditioning_embedding_out_channels).toEqual([16, 32, 96, 256]);
    expect(c.global_pool_conditions).toBe(false);
    expect(c.transformer_layers_per_block).toBe(1);
    expect(c.num_attention_heads).toBeNull();
  });

  it('accepts UNetMidBlock2D, bgr, global pooling, per-layer transformer depths', () => {
    const json = { ...golden(), mid_block_type: 'UNetMidBlock2D', controlnet_conditioning_channel_order: 'bgr', global_pool_conditions: true, transformer_layers_per_block: [1, [1], [2]] };
    const c = parseControlNetConfig(json, FILE);
    expect(c.mid_block_type).toBe('UNetMidBlock2D');
    expect(c.controlnet_conditioning_channel_order).toBe('bgr');
    expect(c.global_pool_conditions).toBe(true);
    expect(resolveStages(controlNetUNetConfig(c)).down[2]!.attention.transformerLayers).toEqual([2]);
  });

  it('a ControlNet always has a mid block: mid_block_type null is refused, as diffusers raises for it', () => {
    expectError((c) => (c['mid_block_type'] = null), 'mid_block_type', /null is not a ControlNet mid block.*even for a U-Net without one/);
    expectError((c) => (c['mid_block_type'] = 'UNetMidBlock2DSimpleCrossAttn'), 'mid_block_type', /"UNetMidBlock2DSimpleCrossAttn" is not a ControlNet mid block/);
  });

  it('missing required fields', () => {
    expectError((c) => delete c['block_out_channels'], 'block_out_channels', /is missing/);
    expectError((c) => delete c['norm_eps'], 'norm_eps', /is missing/);
    expectError((c) => delete c['in_channels'], 'in_channels', /is missing/);
  });

  it('wrong types', () => {
    expectError((c) => (c['conditioning_channels'] = '3'), 'conditioning_channels', /must be a positive integer, got "3"/);
    expectError((c) => (c['conditioning_embedding_out_channels'] = [8, 16.5]), 'conditioning_embedding_out_channels[1]', /must be a positive integer, got 16.5/);
    expectError((c) => (c['conditioning_embedding_out_channels'] = null), 'conditioning_embedding_out_channels', /non-empty list/);
    expectError((c) => (c['global_pool_conditions'] = 'no'), 'global_pool_conditions', /must be true or false/);
    expectError((c) => (c['controlnet_conditioning_channel_order'] = 'bgra'), 'controlnet_conditioning_channel_order', /must be "rgb" or "bgr", got "bgra"/);
    expectError((c) => (c['flip_sin_to_cos'] = 1), 'flip_sin_to_cos', /must be true or false, got 1/);
    expectError((c) => (c['down_block_types'] = ['DownBlock2D', 'CrossAttnDownBlock2D']), 'down_block_types', /has 2 entries; block_out_channels has 3 stages/);
  });

  it('fields ControlNetModel takes whole must not be per-stage lists', () => {
    expectError((c) => (c['layers_per_block'] = [1, 1, 1]), 'layers_per_block', /must be one integer for ControlNetModel/);
    expectError((c) => (c['cross_attention_dim'] = [32, 32, 32]), 'cross_attention_dim', /must be one integer for ControlNetModel/);
  });

  it('unknown fields, U-Net-only fields and other classes', () => {
    expectError((c) => (c['up_block_types'] = ['UpBlock2D']), 'up_block_types', /is not a ControlNetModel config field/);
    expectError((c) => (c['conditioning_scale'] = 1), 'conditioning_scale', /is not a ControlNetModel config field/);
    expectError((c) => (c['_class_name'] = 'UNet2DConditionModel'), '_class_name', /"UNet2DConditionModel" is not ControlNetModel/);
    expect(errorOf([1, 2]).field).toBe('(root)');
  });

  it('unsupported features are refused by name (the checks shared with the U-Net)', () => {
    expectError((c) => (c['class_embed_type'] = 'timestep'), 'class_embed_type', /class embeddings are not implemented/);
    expectError((c) => (c['addition_embed_type'] = 'text'), 'addition_embed_type', /only SDXL-style text_time conditioning is implemented/);
    expectError((c) => (c['resnet_time_scale_shift'] = 'scale_shift'), 'resnet_time_scale_shift', /scale-shift time conditioning is not implemented/);
    expectError((c) => (c['down_block_types'] = ['DownBlock2D', 'SimpleCrossAttnDownBlock2D', 'CrossAttnDownBlock2D']), 'down_block_types[1]', /is not supported/);
    expectError((c) => (c['attention_head_dim'] = 128), 'attention_head_dim', /128 heads \(stage 1.*exceed the stage's 64 channels/);
  });
});
