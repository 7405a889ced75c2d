import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { decodeImage, decodePng, readPngText } from '@sdxs/image';
import { cliVersion } from '../src/version.js';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, runCli, tempDir } from './cli-helpers.js';

// The golden pipeline case: an SDXS-512-layout model in miniature (128×128 images, 1 step, Euler trailing).
describe('sdxs generate on the golden model folder', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  let pipe: StableDiffusionPipeline;
  beforeAll(async () => {
    model = goldenModel();
    work = tempDir();
    pipe = await StableDiffusionPipeline.load(new LocalFolderSource(model.path), createNodeRuntime({ intraOpThreads: 2 }));
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
    work?.cleanup();
  });

  it('writes a PNG whose pixels are the pipeline\'s RGBA output and whose text chunks hold the parameters', async () => {
    const r = await runCli(['generate', 'a photo of a cat', '--model', model.path, '--seed', '42', '--threads', '2', '--out', 'cat.png'], { cwd: work.path });
    expect(r.stderr).not.toMatch(/^sdxs/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(work.path, 'cat.png')}\n`);
    const png = decodePng(readFileSync(join(work.path, 'cat.png')));
    const expected = await pipe.generate({ prompt: 'a photo of a cat', seed: 42 });
    const ref = expected.images[0]!;
    expect([png.width, png.height]).toEqual([ref.width, ref.height]);
    expect(Buffer.from(png.data).equals(Buffer.from(ref.data))).toBe(true);
    expect(png.text.parameters).toBe(`a photo of a cat\nSteps: 1, Sampler: Euler, CFG scale: 0.0, Seed: 42, Size: 128x128, Model: model, Version: sdxs ${cliVersion()}`);
    expect(JSON.parse(png.text.sdxs!)).toMatchObject({
      prompt: 'a photo of a cat',
      negative_prompt: null,
      seed: '42',
      steps: 1,
      guidance_scale: 0,
      width: 128,
      height: 128,
      batch_size: 1,
      batch_index: 1,
      model: 'model',
      scheduler: 'EulerDiscreteScheduler',
      execution_provider: 'cpu',
      dtype: 'float32',
    });
    // Progress went to stderr as plain lines (not a terminal), and nothing but the path to stdout.
    expect(r.stderr).toMatch(/built the one-step graph in/);
    expect(r.stderr).not.toMatch(/\r/);
  });

  it('a batch writes out-1.png, out-2.png… in the pipeline\'s order, each with its place in the batch', async () => {
    const r = await runCli(['generate', 'a dog', '--model', model.path, '--seed', '7', '--batch', '2', '--threads', '2', '--out', 'sub/dir/dog.png', '-q'], { cwd: work.path });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const paths = ['dog-1.png', 'dog-2.png'].map((f) => join(work.path, 'sub/dir', f));
    expect(r.stdout.trim().split('\n')).toEqual(paths);
    const expected = await pipe.generate({ prompt: 'a dog', seed: 7, numImagesPerPrompt: 2 });
    paths.forEach((p, i) => {
      const png = decodePng(readFileSync(p));
      expect(Buffer.from(png.data).equals(Buffer.from(expected.images[i]!.data))).toBe(true);
      expect(png.text.parameters).toMatch(new RegExp(`Seed: 7, Size: 128x128, Model: model, Batch size: 2, Batch pos: ${i}, `));
      expect(JSON.parse(png.text.sdxs!)).toMatchObject({ batch_size: 2, batch_index: i + 1 });
    });
    // Atomic writes leave no temporary files behind.
    expect(readdirSync(join(work.path, 'sub/dir')).sort()).toEqual(['dog-1.png', 'dog-2.png']);
  });

  it('--isolate runs the graphs in a worker process and writes the same pixels', async () => {
    const r = await runCli(['generate', 'a dog', '--model', model.path, '--seed', '7', '--isolate', '--threads', '2', '--out', 'iso.png', '-q'], { cwd: work.path });
    expect(r.code).toBe(0);
    const expected = await pipe.generate({ prompt: 'a dog', seed: 7 });
    const png = decodePng(readFileSync(join(work.path, 'iso.png')));
    expect(Buffer.from(png.data).equals(Buffer.from(expected.images[0]!.data))).toBe(true);
    expect(JSON.parse(png.text.sdxs!)).toMatchObject({ execution_provider: 'cpu' });
  });

  it('an --out ending in .jpg or .webp writes that format, with the parameters as its EXIF UserComment', async () => {
    for (const name of ['cat.jpg', 'cat.webp']) {
      const r = await runCli(['generate', 'a dog', '--model', model.path, '--seed', '7', '--threads', '2', '--out', name, '-q'], { cwd: work.path });
      expect(r.code).toBe(0);
      const file = await decodeImage(readFileSync(join(work.path, name)));
      expect(file.format).toBe(name.endsWith('.jpg') ? 'jpeg' : 'webp');
      expect(file.text.parameters).toMatch(/^a dog\nSteps: 1, Sampler: .*, Seed: 7, Size: 128x128, Model: model, Version: sdxs /);
    }
  });

  it('takes a negative --seed as torch.manual_seed does (−1 is 2^64 − 1), with or without "="', async () => {
    const expected = await pipe.generate({ prompt: 'a photo of a cat', seed: 2n ** 64n - 1n });
    for (const flags of [['--seed', '-1'], ['--seed=-1']]) {
      const r = await runCli(['generate', 'a photo of a cat', '--model', model.path, ...flags, '--out', 'neg.png', '-q'], { cwd: work.path });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const png = decodePng(readFileSync(join(work.path, 'neg.png')));
      expect(Buffer.from(png.data).equals(Buffer.from(expected.images[0]!.data))).toBe(true);
      expect(JSON.parse(png.text.sdxs!).seed).toBe('18446744073709551615');
    }
  });

  it('multi-step with guidance records the negative prompt and CFG scale; a Unicode prompt goes in an iTXt chunk', async () => {
    const prompt = 'chat 猫, "quoted": yes';
    const r = await runCli(['generate', prompt, '--model', model.path, '--seed', '3', '--steps', '2', '--guidance', '1.5', '--negative', 'blurry', '--out', 'g.png', '-q'], { cwd: work.path });
    expect(r.code).toBe(0);
    const text = readPngText(readFileSync(join(work.path, 'g.png')));
    expect(text.parameters).toBe(`${prompt}\nNegative prompt: blurry\nSteps: 2, Sampler: Euler, CFG scale: 1.5, Seed: 3, Size: 128x128, Model: model, Version: sdxs ${cliVersion()}`);
    expect(JSON.parse(text.sdxs!)).toMatchObject({ prompt, negative_prompt: 'blurry', steps: 2, guidance_scale: 1.5 });
    const expected = await pipe.generate({ prompt, seed: 3, steps: 2, guidanceScale: 1.5, negativePrompt: 'blurry' });
    expect(Buffer.from(decodePng(readFileSync(join(work.path, 'g.png'))).data).equals(Buffer.from(expected.images[0]!.data))).toBe(true);
  });

  it('a 10 MB prompt (from --prompt-file) is refused before the model loads; a 20,000-character one is made', async () => {
    writeFileSync(join(work.path, 'big.txt'), `${'a photo of a cat, '.repeat(600_000)}\n`);
    const r = await runCli(['generate', '--prompt-file', 'big.txt', '--model', join(work.path, 'no-model-here'), '--out', 'big.png'], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('sdxs generate: the prompt is 10800000 characters; at most 32000 (CLIP reads the first 77 tokens) (see `sdxs generate --help`)');
    const long = 'a photo of a cat, '.repeat(1100).slice(0, 20_000);
    writeFileSync(join(work.path, 'long.txt'), long);
    const ok = await runCli(['generate', '--prompt-file', 'long.txt', '--model', model.path, '--seed', '1', '--out', 'long.png', '-q'], { cwd: work.path });
    expect(ok.code).toBe(0);
    expect(JSON.parse(readPngText(readFileSync(join(work.path, 'long.png'))).sdxs!).prompt).toBe(long);
  });

  it('without --seed a random seed is drawn, named in the default file name and stored', async () => {
    const r = await runCli(['generate', 'a cat', '--model', model.path, '-q'], { cwd: work.path });
    expect(r.code).toBe(0);
    const m = /sdxs-(\d+)\.png$/.exec(r.stdout.trim());
    expect(m).not.toBeNull();
    expect(JSON.parse(readPngText(readFileSync(r.stdout.trim())).sdxs!).seed).toBe(m![1]);
    expect(r.stdout.trim()).toBe(join(work.path, `sdxs-${m![1]}.png`));
    // An existing folder as --out gets the default name inside it.
    mkdirSync(join(work.path, 'pictures'));
    const inDir = await runCli(['generate', 'a cat', '--model', model.path, '--seed', '9', '--out', 'pictures', '-q'], { cwd: work.path });
    expect(inDir.stdout).toBe(`${join(work.path, 'pictures', 'sdxs-9.png')}\n`);
  });

  it('sizes the model cannot take are refused after loading it, in flag words (exit 2)', async () => {
    const r = await runCli(['generate', 'a cat', '--model', model.path, '--width', '100', '--out', 'x.png'], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('sdxs generate: --width must be a multiple of 8 (the VAE\'s scale factor), got 100 (see `sdxs generate --help`)');
  });
});

describe('sdxs info', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  beforeAll(() => {
    model = goldenModel();
    work = tempDir();
  });
  afterAll(() => {
    model?.cleanup();
    work?.cleanup();
  });

  it('lists components, parameters, dtypes, scheduler and what runs where', async () => {
    const r = await runCli(['info', model.path], { cwd: work.path });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('model         model');
    expect(r.stdout).toMatch(/default size 128×128; VAE scale factor 8/);
    expect(r.stdout).toMatch(/^ {2}text_encoder +CLIPTextModel +1\.6 M parameters +stored float32 +text_encoder\/model\.safetensors \(6\.4 MB\)$/m);
    expect(r.stdout).toMatch(/^ {2}unet +UNet2DConditionModel +3\.1 M parameters +stored float32/m);
    expect(r.stdout).toMatch(/^ {2}vae +AutoencoderTiny +2\.4 M parameters/m);
    expect(r.stdout).toMatch(/^scheduler +EulerDiscreteScheduler \("Euler"; timestep_spacing trailing, prediction_type epsilon/m);
    expect(r.stdout).toMatch(/^runtime +onnxruntime-node\/cpu; graphs built for target cpu$/m);
    expect(r.stdout).toMatch(/^ {2}one-step +unet \+ vae, float32 on cpu: /m);
    expect(r.stdout).toMatch(new RegExp(`^graph cache +${join(work.path, '.sdxs-cache', 'graphs').replace(/[/\\.]/g, '\\$&')}$`, 'm'));
  });

  it('--json gives the same facts to programs', async () => {
    const r = await runCli(['info', model.path, '--json', '--dtype', 'float16'], { cwd: work.path });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ pipeline: 'StableDiffusionPipeline', dtype: 'float16', provider: 'cpu', requestedProvider: 'cpu', defaultSize: { width: 128, height: 128 }, vaeScaleFactor: 8 });
    expect(info.components.map((c: { name: string; parameters: number }) => [c.name, c.parameters])).toEqual([
      ['text_encoder', 1609216],
      ['unet', 3124836],
      ['vae', 2445063],
    ]);
    expect(info.placements.find((p: { graph: string }) => p.graph === 'text-encoder').computeDType).toBe('float32');
    expect(info.placements.find((p: { graph: string }) => p.graph === 'unet-step').computeDType).toBe('float16');
  });
});
