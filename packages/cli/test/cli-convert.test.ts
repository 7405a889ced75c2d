import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableDiffusionPipeline, scaleTensor } from '@sdxs/pipeline';
import { Generator } from '@sdxs/tensor';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { buildSdxlFolder } from '../../../tools/golden/build-sdxl-folder.js';
import { goldenModel, runCli, tempDir } from './cli-helpers.js';

interface Manifest {
  graphs: Record<string, { file: string; externalData: string[]; inputs: { name: string; shape: (number | string)[] }[]; outputs: { name: string }[] }>;
  tokenizer: { files: string[]; maxLength: number };
  oneStep: { initNoiseSigma: number; timestep: number; width: number; height: number; batch: number; guidance: boolean };
}

describe('sdxs convert: ONNX files other tools can load', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  let pipe: StableDiffusionPipeline;
  let out: string;
  let manifest: Manifest;
  beforeAll(async () => {
    model = goldenModel();
    work = tempDir();
    pipe = await StableDiffusionPipeline.load(new LocalFolderSource(model.path), createNodeRuntime({ intraOpThreads: 2 }));
    out = join(work.path, 'onnx');
    const r = await runCli(['convert', model.path, '--out', 'onnx', '--dump'], { cwd: work.path });
    expect(r.stderr).not.toMatch(/^sdxs/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${out}\n`);
    manifest = JSON.parse(readFileSync(join(out, 'sdxs-onnx.json'), 'utf8'));
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
    work?.cleanup();
  });

  it('writes the graphs with their weights as external data files, a manifest, text dumps and the tokenizer', () => {
    expect(readdirSync(out).sort()).toEqual([
      'one_step.onnx',
      'one_step.onnx.txt',
      'sdxs-onnx.json',
      'text_encoder.onnx',
      'text_encoder.onnx.txt',
      'text_encoder.weights',
      'tokenizer',
      'unet.weights',
      'vae.weights',
    ]);
    expect(manifest.graphs.text_encoder!.externalData).toEqual(['text_encoder.weights']);
    expect(manifest.graphs.one_step!.externalData).toEqual(['unet.weights', 'vae.weights']);
    // The .onnx files hold structure; the weights (a few MB here) are in the external files.
    expect(statSync(join(out, 'one_step.onnx')).size).toBeLessThan(1_000_000);
    expect(statSync(join(out, 'unet.weights')).size).toBeGreaterThanOrEqual(3124836 * 4);
    expect(manifest.tokenizer.files).toContain('tokenizer/vocab.json');
    expect(manifest.oneStep).toMatchObject({ timestep: 999, width: 128, height: 128, batch: 1, guidance: false });
    expect(manifest.oneStep.initNoiseSigma).toBeCloseTo(14.6146, 4);
    expect(manifest.graphs.one_step!.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['latents', [1, 4, 16, 16]],
      ['encoder_hidden_states', [1, 77, 32]],
    ]);
    expect(readFileSync(join(out, 'one_step.onnx.txt'), 'utf8')).toMatch(/latents/);
  });

  it('onnxruntime-node loads the files from the folder and they compute what the pipeline computes', async () => {
    const prompt = 'a photo of a cat';
    const seed = 11;
    const text = await ort.InferenceSession.create(join(out, 'text_encoder.onnx'));
    const step = await ort.InferenceSession.create(join(out, 'one_step.onnx'));
    try {
      const ids = pipe.components.tokenizer.call([prompt]).inputIds;
      const embeds = (await text.run({ input_ids: new ort.Tensor('int64', ids.data as BigInt64Array, [...ids.shape]) })).prompt_embeds!;
      const reference = await pipe.encodePrompt(prompt);
      expect(embeds.dims).toEqual(reference.shape);
      const e = embeds.data as Float32Array;
      const r = reference.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(e[i]! - r[i]!));
      expect(worst).toBeLessThan(1e-5);

      // The manifest's recipe: latents = randn × init_noise_sigma, then one run.
      const noise = new Generator(seed).randn([1, 4, 16, 16]);
      const latents = scaleTensor(noise, manifest.oneStep.initNoiseSigma);
      const result = await step.run({ latents: new ort.Tensor('float32', latents.data, [...latents.shape]), encoder_hidden_states: embeds });
      const expected = await pipe.generate({ prompt, seed });
      const rgba = result.rgba!.data as Uint8Array;
      const ref = expected.images[0]!.data;
      let diff = 0;
      for (let i = 0; i < rgba.length; i++) diff = Math.max(diff, Math.abs(rgba[i]! - ref[i]!));
      expect(result.rgba!.dims).toEqual([1, 128, 128, 4]);
      expect(diff).toBeLessThanOrEqual(1);
    } finally {
      await text.release();
      await step.release();
    }
  });

  it('a non-empty --out is refused (exit 2) unless --force, which replaces it whole', async () => {
    const busy = join(work.path, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep.txt'), 'x');
    const refused = await runCli(['convert', model.path, '--out', 'busy'], { cwd: work.path });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('sdxs convert: --out busy exists and is not an empty folder (--force replaces it) (see `sdxs convert --help`)\n');
    const forced = await runCli(['convert', model.path, '--out', 'busy', '--force', '--guidance', '--batch', '2', '-q'], { cwd: work.path });
    expect(forced.code).toBe(0);
    expect(readdirSync(busy)).not.toContain('keep.txt');
    const m: Manifest = JSON.parse(readFileSync(join(busy, 'sdxs-onnx.json'), 'utf8'));
    expect(m.graphs.one_step!.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['latents', [2, 4, 16, 16]],
      ['encoder_hidden_states', [4, 77, 32]],
      ['guidance_scale', []],
    ]);
    // No staging folders are left beside it.
    expect(readdirSync(work.path).filter((n) => n.includes('partial'))).toEqual([]);
  });
});

describe('sdxs convert on an SDXL folder: both encoders and the added conditioning', () => {
  it('writes text_encoder_2 and tokenizer_2; the three graphs, combined as the manifest says, give the pipeline image', async () => {
    const folder = await buildSdxlFolder();
    const work = tempDir();
    const pipe = await StableDiffusionPipeline.load(folder.source, createNodeRuntime({ intraOpThreads: 2 }));
    const sessions: ort.InferenceSession[] = [];
    try {
      const r = await runCli(['convert', folder.path, '--out', 'xl', '-q'], { cwd: work.path });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = join(work.path, 'xl');
      const m = JSON.parse(readFileSync(join(out, 'sdxs-onnx.json'), 'utf8')) as Manifest & { tokenizer_2: { files: string[] }; sdxl: { timeIds: string[] } };
      expect(Object.keys(m.graphs).sort()).toEqual(['one_step', 'text_encoder', 'text_encoder_2']);
      expect(m.tokenizer_2.files).toContain('tokenizer_2/vocab.json');
      expect(m.sdxl.timeIds).toEqual(['original_height', 'original_width', 'crop_top', 'crop_left', 'target_height', 'target_width']);
      expect(m.graphs.one_step!.inputs.map((i) => [i.name, i.shape])).toEqual([
        ['latents', [1, 4, 16, 16]],
        ['encoder_hidden_states', [1, 77, 48]],
        ['text_embeds', [1, 16]],
        ['time_ids', [1, 6]],
      ]);
      const open = async (f: string) => {
        const s = await ort.InferenceSession.create(join(out, f));
        sessions.push(s);
        return s;
      };
      const [te1, te2, step] = [await open('text_encoder.onnx'), await open('text_encoder_2.onnx'), await open('one_step.onnx')];
      const prompt = 'a lighthouse at dusk';
      const ids = (t: { call(p: string[]): { inputIds: { data: unknown; shape: readonly number[] } } }) => {
        const x = t.call([prompt]).inputIds;
        return { input_ids: new ort.Tensor('int64', x.data as BigInt64Array, [...x.shape]) };
      };
      const a = (await te1.run(ids(pipe.components.tokenizer))).prompt_embeds!;
      const b = await te2.run(ids(pipe.components.text2!.tokenizer));
      // encoder_hidden_states: the two penultimate hidden states side by side, text_encoder first.
      const [da, db] = [a.dims[2]!, b.prompt_embeds!.dims[2]!];
      const context = new Float32Array(77 * (da + db));
      for (let t = 0; t < 77; t++) {
        context.set((a.data as Float32Array).subarray(t * da, (t + 1) * da), t * (da + db));
        context.set((b.prompt_embeds!.data as Float32Array).subarray(t * db, (t + 1) * db), t * (da + db) + da);
      }
      const latents = scaleTensor(new Generator(6).randn([1, 4, 16, 16]), m.oneStep.initNoiseSigma);
      const result = await step.run({
        latents: new ort.Tensor('float32', latents.data, [...latents.shape]),
        encoder_hidden_states: new ort.Tensor('float32', context, [1, 77, da + db]),
        text_embeds: b.text_embeds!,
        time_ids: new ort.Tensor('float32', Float32Array.of(32, 32, 0, 0, 32, 32), [1, 6]),
      });
      const expected = (await pipe.generate({ prompt, seed: 6 })).images[0]!.data;
      const rgba = result.rgba!.data as Uint8Array;
      let diff = 0;
      for (let i = 0; i < rgba.length; i++) diff = Math.max(diff, Math.abs(rgba[i]! - expected[i]!));
      expect(diff).toBeLessThanOrEqual(1);
    } finally {
      await Promise.all(sessions.map((s) => s.release()));
      await pipe.dispose();
      folder.cleanup();
      work.cleanup();
    }
  });
});
