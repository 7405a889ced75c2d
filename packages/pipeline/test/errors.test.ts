import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest, MAX_BATCH, parseModelIndex, StableDiffusionPipeline, type GenerateRequest } from '@sdxs/pipeline';
import { Generator, type ModelSource } from '@sdxs/tensor';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { countingRuntime, goldenModel, goldenSource, withFiles } from './_helpers.js';

const defaults = { width: 512, height: 512, spatialFactor: 8 };

describe('request validation', () => {
  it('applies the defaults: one step, no guidance, the model size, one image per prompt', () => {
    const r = checkRequest({ prompt: 'a cat', seed: 3 }, defaults);
    expect(r).toMatchObject({ prompts: ['a cat'], negativePrompts: [''], steps: 1, guidanceScale: 0, guidance: false, width: 512, height: 512, batch: 1, seed: 3n, float: false });
    expect(checkRequest({ prompt: ['a', 'b'], numImagesPerPrompt: 3, guidanceScale: 7.5, negativePrompt: 'n' }, defaults)).toMatchObject({
      batch: 6,
      guidance: true,
      negativePrompts: ['n', 'n'],
    });
    // Without a seed a random one is drawn and reported.
    expect(typeof checkRequest({ prompt: 'x' }, defaults).seed).toBe('bigint');
    const g = new Generator(1);
    expect(checkRequest({ prompt: 'x', generator: g }, defaults)).toMatchObject({ generator: g });
    expect(checkRequest({ prompt: 'x', generator: g }, defaults).seed).toBeUndefined();
  });

  it.each([
    [/"width" must be a multiple of 8/, { prompt: 'x', width: 500 }],
    [/"height" must be between 8 and 4096/, { prompt: 'x', height: 8192 }],
    [/"width" must be between 8 and 4096/, { prompt: 'x', width: 0 }],
    [/"width" must be an integer/, { prompt: 'x', width: 512.5 }],
    [/"numImagesPerPrompt" must be between 1 and 64/, { prompt: 'x', numImagesPerPrompt: MAX_BATCH + 1 }],
    [/3 × 22 = 66 images; at most 64/, { prompt: ['a', 'b', 'c'], numImagesPerPrompt: 22 }],
    [/65 prompts; at most 64/, { prompt: Array(65).fill('x') }],
    [/over 67108864 pixels per call/, { prompt: 'x', numImagesPerPrompt: 64, width: 2048, height: 2048 }],
    [/"steps" must be between 1 and 1000/, { prompt: 'x', steps: 1001 }],
    [/"steps" must be between 1 and 1000/, { prompt: 'x', steps: 0 }],
    [/"guidanceScale" must be a finite number ≥ 0/, { prompt: 'x', guidanceScale: -1 }],
    [/"guidanceScale"/, { prompt: 'x', guidanceScale: Number.NaN }],
    [/"prompt" must not be an empty list/, { prompt: [] }],
    [/"seed" and "generator" cannot both be given/, { prompt: 'x', seed: 1, generator: new Generator() }],
    [/"seed" seed -9223372036854775809 is outside -2\^63 \.\. 2\^64 - 1/, { prompt: 'x', seed: -(2n ** 63n) - 1n }],
    [/"seed" seed 1.5 is not an integer/, { prompt: 'x', seed: 1.5 }],
    [/"negativePrompt" has 3 entries for 2 prompts/, { prompt: ['a', 'b'], negativePrompt: ['n', 'n', 'n'] }],
  ])('refuses request %#: %s', (message, request) => {
    expect(() => checkRequest(request as GenerateRequest, defaults)).toThrow(message);
  });

  it('needs a size when the model has no default', () => {
    expect(() => checkRequest({ prompt: 'x' }, { spatialFactor: 8 })).toThrow(/"width" is required: the U-Net's config.json has no sample_size/);
    expect(checkRequest({ prompt: 'x', width: 64, height: 32 }, { spatialFactor: 8 })).toMatchObject({ width: 64, height: 32 });
  });

  it('refuses a prompt that is not a string', () => {
    // As JavaScript callers (or JSON from a form) can send it.
    const fromJson: unknown = JSON.parse('{"prompt": ["ok", 3]}');
    expect(() => checkRequest(fromJson as GenerateRequest, defaults)).toThrow(/"prompt\[1\]" must be a string/);
  });
});

describe('model folder errors', () => {
  let model: MaterializedFolder;
  let source: ModelSource;
  let index: Record<string, unknown>;
  beforeAll(async () => {
    model = goldenModel();
    source = goldenSource(model);
    index = JSON.parse(await source.readText('model_index.json')) as Record<string, unknown>;
  });
  afterAll(() => model?.cleanup());

  const load = (files: Record<string, string | undefined>) => StableDiffusionPipeline.load(withFiles(source, files), countingRuntime());

  it('names the pipeline class it does not run', async () => {
    // A known family says what it is, and what is supported.
    await expect(load({ 'model_index.json': JSON.stringify({ ...index, _class_name: 'StableDiffusion3Pipeline' }) })).rejects.toThrow(
      /model_index\.json: "_class_name" is StableDiffusion3Pipeline: Stable Diffusion 3 \(an MMDiT transformer.*; supported pipelines: StableDiffusionPipeline.*StableDiffusionXLPipeline/,
    );
    await expect(load({ 'model_index.json': JSON.stringify({ ...index, _class_name: 'KandinskyPipeline' }) })).rejects.toThrow(
      /field "_class_name" is "KandinskyPipeline", which sdxs does not run; supported pipelines: StableDiffusionPipeline/,
    );
    // An SDXL folder needs both encoders; the refiner (second encoder only) is refused by name.
    expect(() => parseModelIndex({ ...index, _class_name: 'StableDiffusionXLPipeline' }, 'mi.json')).toThrow(/mi\.json: field "text_encoder_2" is missing or null; StableDiffusionXLPipeline needs/);
    expect(() => parseModelIndex({ ...index, _class_name: 'StableDiffusionXLImg2ImgPipeline', text_encoder: [null, null] }, 'mi.json')).toThrow(/refiner-style .*requires_aesthetics_score/);
    const xl = { ...index, _class_name: 'StableDiffusionXLImg2ImgPipeline', text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'], tokenizer_2: ['transformers', 'CLIPTokenizer'] };
    expect(parseModelIndex(xl, 'mi.json')).toMatchObject({ family: 'sdxl', forceZerosForEmptyPrompt: true });
    expect(() => parseModelIndex({ ...xl, requires_aesthetics_score: true }, 'mi.json')).toThrow(/"requires_aesthetics_score" is true: refiner-style time ids/);
    expect(() => parseModelIndex({ ...index, text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] }, 'mi.json')).toThrow(/mi\.json: field "text_encoder_2"/);
  });

  it('names missing or unsupported components', async () => {
    await expect(load({ 'model_index.json': JSON.stringify({ ...index, unet: [null, null] }) })).rejects.toThrow(/field "unet" is missing or null/);
    await expect(load({ 'model_index.json': JSON.stringify({ ...index, vae: ['diffusers', 'VQModel'] }) })).rejects.toThrow(
      /field "vae" is class VQModel, which sdxs cannot load; supported: AutoencoderTiny, AutoencoderKL/,
    );
    await expect(load({ 'model_index.json': JSON.stringify({ ...index, scheduler: ['diffusers', 'PNDMScheduler'] }) })).rejects.toThrow(
      /field "scheduler" is class PNDMScheduler, which sdxs does not implement; supported: .*EulerDiscreteScheduler/,
    );
    await expect(load({ 'model_index.json': '{ not json' })).rejects.toThrow(/model_index\.json: not valid JSON/);
    await expect(load({ 'model_index.json': undefined })).rejects.toThrow(/: not a diffusers model folder \(it has no model_index\.json\)$/);
    await expect(load({ 'unet/config.json': undefined })).rejects.toThrow(/unet\/config\.json: missing \(the model folder has no unet\/config\.json\)$/);
  });

  it('names the scheduler config field it does not support', async () => {
    const config = JSON.parse(await source.readText('scheduler/scheduler_config.json')) as Record<string, unknown>;
    await expect(load({ 'scheduler/scheduler_config.json': JSON.stringify({ ...config, timestep_spacing: 'sideways' }) })).rejects.toThrow(
      /scheduler_config\.json.*timestep_spacing/,
    );
    await expect(load({ 'scheduler/scheduler_config.json': JSON.stringify({ ...config, prediction_type: 'flow' }) })).rejects.toThrow(
      /scheduler_config\.json.*prediction_type/,
    );
  });

  it('names mismatched components and configs', async () => {
    const unet = JSON.parse(await source.readText('unet/config.json')) as Record<string, unknown>;
    await expect(load({ 'unet/config.json': JSON.stringify({ ...unet, cross_attention_dim: 64 }) })).rejects.toThrow(
      /unet\/config\.json: cross_attention_dim 64 does not match the text encoder's hidden_size 32/,
    );
    // A U-Net config whose shapes disagree with the weights: refused when the first graph's weights are bound.
    const pipe = await load({ 'unet/config.json': JSON.stringify({ ...unet, block_out_channels: [32, 64, 96] }) });
    try {
      await expect(pipe.generate({ prompt: 'x', seed: 0, width: 64, height: 64 })).rejects.toThrow(/checkpoint does not match the model/);
    } finally {
      await pipe.dispose();
    }
  });

  it('encodePrompt reads the first 77 tokens of a 10 MB prompt, generate refuses it; use after dispose is refused', async () => {
    const pipe = await StableDiffusionPipeline.load(source, countingRuntime());
    const huge = 'a photo of a cat '.repeat(620_000);
    expect(huge.length).toBeGreaterThan(10_000_000);
    const [long, short] = [await pipe.encodePrompt(huge), await pipe.encodePrompt('a photo of a cat '.repeat(30))];
    expect(Array.from(long.data)).toEqual(Array.from(short.data));
    await expect(pipe.generate({ prompt: huge })).rejects.toThrow(`generate: "prompt" is ${huge.length} characters; at most 32000 (CLIP reads the first 77 tokens)`);
    await expect(pipe.generate({ prompt: ['a', huge] })).rejects.toThrow(/"prompt\[1\]" is \d+ characters/);
    await expect(pipe.generate({ prompt: 'a', guidanceScale: 2, negativePrompt: huge })).rejects.toThrow(/"negativePrompt" is \d+ characters/);
    const info = pipe.info();
    expect(info).toMatchObject({ pipeline: 'StableDiffusionPipeline', target: 'cpu', dtype: 'float32', vaeScaleFactor: 8, scheduler: { className: 'EulerDiscreteScheduler' } });
    expect(info.components.map((c) => [c.name, c.className, c.weightDTypes])).toEqual([
      ['text_encoder', 'CLIPTextModel', ['float32']],
      ['unet', 'UNet2DConditionModel', ['float32']],
      ['vae', 'AutoencoderTiny', ['float32']],
    ]);
    expect(info.components.every((c) => c.parameters > 0 && c.files.length === 1 && /^[0-9a-f]{64}$/.test(c.files[0]!.headerSha256))).toBe(true);
    await pipe.dispose();
    await expect(pipe.generate({ prompt: 'x' })).rejects.toThrow(/used after dispose/);
  });
});
