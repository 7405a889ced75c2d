import { describe, expect, it } from 'vitest';
import { AutoencoderKL, AutoencoderTiny, ConfigError, parseAutoencoderKLConfig, parseAutoencoderTinyConfig, TAESD_CONFIG } from '@sdxs/decoder';
import { caseConfig } from './_golden.js';

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

function without(json: unknown, ...keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  for (const k of keys) delete copy[k];
  return copy;
}

describe('AutoencoderTiny config', () => {
  const golden = caseConfig('vae-tiny');

  it('reads the golden config field for field', () => {
    const c = parseAutoencoderTinyConfig(golden, 'vae-tiny/config.json');
    const raw = golden as Record<string, unknown>;
    for (const [k, v] of Object.entries(c)) expect(v, k).toEqual(raw[k]);
  });

  it('TAESD_CONFIG is AutoencoderTiny’s default, and a TAESD-era config without the later fields gets it', () => {
    const old = without({ ...TAESD_CONFIG, _class_name: 'AutoencoderTiny' }, 'upsample_fn', 'shift_factor', 'block_out_channels', 'force_upcast', 'scaling_factor', 'latent_magnitude', 'latent_shift');
    expect(parseAutoencoderTinyConfig(old)).toEqual(TAESD_CONFIG);
    const vae = new AutoencoderTiny(TAESD_CONFIG);
    expect([vae.scalingFactor, vae.spatialFactor]).toEqual([1, 8]);
  });

  it('a missing field is named with the file', () => {
    const e = configError(() => parseAutoencoderTinyConfig(without(golden, 'num_decoder_blocks'), 'vae/config.json'));
    expect(e.fields).toEqual(['num_decoder_blocks']);
    expect(e.message).toBe('vae/config.json: field "num_decoder_blocks" is missing');
  });

  it('a wrong-typed field is named with what it holds', () => {
    const e = configError(() => parseAutoencoderTinyConfig({ ...(golden as object), latent_channels: '4' }, 'vae/config.json'));
    expect(e.fields).toEqual(['latent_channels']);
    expect(e.message).toMatch(/^vae\/config\.json: field "latent_channels" must be an integer ≥ 1, got "4"$/);
  });

  it('unsupported values are refused by name, all problems in one error', () => {
    const e = configError(() => parseAutoencoderTinyConfig({ ...(golden as object), act_fn: 'tanh', upsample_fn: 'bicubic', in_channels: 0 }, 'vae/config.json'));
    expect(e.fields).toEqual(['in_channels', 'act_fn', 'upsample_fn']);
    expect(e.message).toContain('field "act_fn" is "tanh", which is not supported; supported: "relu", "silu", "swish", "gelu", "mish"');
    expect(e.message).toContain('field "upsample_fn" is "bicubic", which is not supported; supported: "nearest"');
  });

  it('act_fn is matched case-insensitively, as get_activation does', () => {
    expect(parseAutoencoderTinyConfig({ ...(golden as object), act_fn: 'ReLU' }).act_fn).toBe('relu');
  });

  it('stage lists must agree (diffusers raises the same) and stages share one width', () => {
    const e = configError(() => parseAutoencoderTinyConfig({ ...(golden as object), num_decoder_blocks: [3, 3, 1], encoder_block_out_channels: [64, 64, 32, 64] }, 'c.json'));
    expect(e.fields).toEqual(['encoder_block_out_channels', 'decoder_block_out_channels']);
    expect(e.message).toContain('field "decoder_block_out_channels" has 4 entries but num_decoder_blocks has 3');
  });

  it('a config of another class, or not an object, is refused', () => {
    expect(configError(() => AutoencoderTiny.fromConfig(caseConfig('vae-kl'), 'vae_large/config.json')).message).toMatch(/^vae_large\/config\.json: field "_class_name" is "AutoencoderKL", expected "AutoencoderTiny"/);
    expect(configError(() => parseAutoencoderTinyConfig([1, 2], 'x.json')).message).toBe('x.json: field "(root)" must be a JSON object, got [1,2]');
  });
});

describe('AutoencoderKL config', () => {
  const golden = caseConfig('vae-kl');

  it('reads the golden config field for field', () => {
    const c = parseAutoencoderKLConfig(golden, 'vae-kl/config.json');
    const raw = golden as Record<string, unknown>;
    for (const [k, v] of Object.entries(c)) expect(v, k).toEqual(raw[k]);
    const vae = new AutoencoderKL(c);
    expect([vae.scalingFactor, vae.shiftFactor, vae.spatialFactor]).toEqual([0.18215, null, 2]);
  });

  it('an SD 1.x-era config without the later fields gets diffusers’ defaults', () => {
    const old = without(golden, 'scaling_factor', 'shift_factor', 'latents_mean', 'latents_std', 'force_upcast', 'use_quant_conv', 'use_post_quant_conv', 'mid_block_add_attention', 'sample_size');
    const c = parseAutoencoderKLConfig(old);
    expect(c).toMatchObject({ scaling_factor: 0.18215, shift_factor: null, latents_mean: null, force_upcast: true, use_quant_conv: true, use_post_quant_conv: true, mid_block_add_attention: true, sample_size: 32 });
  });

  it('names missing, wrong-typed and unsupported fields with the file', () => {
    const e = configError(() =>
      parseAutoencoderKLConfig({ ...without(golden, 'layers_per_block'), up_block_types: ['UpDecoderBlock2D', 'AttnUpDecoderBlock2D'], use_quant_conv: 1, norm_num_groups: 24 }, 'vae_large/config.json'),
    );
    expect(e.fields).toEqual(['up_block_types', 'layers_per_block', 'use_quant_conv', 'norm_num_groups']);
    expect(e.message).toMatch(/^vae_large\/config\.json: /);
    expect(e.message).toContain('field "up_block_types" contains "AttnUpDecoderBlock2D", which is not supported; supported: "UpDecoderBlock2D"');
    expect(e.message).toContain('field "layers_per_block" is missing');
    expect(e.message).toContain('field "use_quant_conv" must be true or false, got 1');
    expect(e.message).toContain('field "norm_num_groups" is 24, which does not divide the widths [32,64]');
  });

  it('block type lists must match block_out_channels', () => {
    const e = configError(() => parseAutoencoderKLConfig({ ...(golden as object), down_block_types: ['DownEncoderBlock2D'] }, 'c.json'));
    expect(e.message).toBe('c.json: field "down_block_types" has 1 entries but block_out_channels has 2; they must match');
  });

  it('the KL graphs need a static spatial size (for the mid-block attention) and say so', () => {
    const vae = AutoencoderKL.fromConfig(golden);
    expect(() => vae.decoderGraph()).toThrow(/decoder\.mid_block\.attentions\.0: the spatial size must be static/);
    expect(() => vae.decoderGraph({ height: 8, width: 8 })).not.toThrow();
    expect(() => AutoencoderKL.fromConfig({ ...(golden as object), mid_block_add_attention: false }).decoderGraph()).not.toThrow();
  });
});
