// `sdxs generate --lora file.safetensors[:scale]` (and sketch, serve, worker) end to end on the embedded one-step micro model: the PNG holds the
// pixels the library gives with the same adapters; ':0' is no adapter; two flags apply both; errors are one line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '@sdxs/image';
import { StableDiffusionPipeline, type LoraFile } from '@sdxs/pipeline';
import { createNodeRuntime, embeddedModel, LocalFolderSource } from '@sdxs/runtime-node';
import { Generator, Tensor } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';
import { runCli, tempDir } from './cli-helpers.js';
import type { CliIO } from '../src/io.js';
import { Reporter } from '../src/progress.js';
import { loadServedModels } from '../src/serve-models.js';

const MODEL = 'sdxs-micro-1step';
const PROMPT = 'a yellow box on a black backdrop';

function normal(shape: number[], seed: number, std: number): Tensor<'float32'> {
  const t = new Generator(seed).randn(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * std;
  return t;
}

/** A kohya-layout LoRA (rank 4, alpha 4) on a U-Net attention projection, a 3×3 conv and a text-encoder projection. */
function kohyaLora(seed: number): Map<string, Tensor> {
  const modules: [string, number, number[]][] = [
    ['lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', 48, [48]],
    ['lora_unet_down_blocks_0_resnets_0_conv1', 48, [48, 3, 3]],
    ['lora_te_text_model_encoder_layers_0_self_attn_v_proj', 64, [64]],
  ];
  const out = new Map<string, Tensor>();
  modules.forEach(([name, rows, inner], i) => {
    out.set(`${name}.lora_down.weight`, normal([4, ...inner], seed + 2 * i, 0.2));
    out.set(`${name}.lora_up.weight`, normal([rows, 4, ...inner.slice(1).map(() => 1)], seed + 2 * i + 1, 0.2));
    out.set(`${name}.alpha`, new Tensor('float32', [], Float32Array.of(4)));
  });
  return out;
}

describe('sdxs generate --lora', () => {
  let work: { path: string; cleanup(): void };
  beforeAll(async () => {
    work = tempDir();
    await writeSafetensorsFile(join(work.path, 'style.safetensors'), kohyaLora(1), { format: 'pt' });
    await writeSafetensorsFile(join(work.path, 'detail.safetensors'), kohyaLora(20), { format: 'pt' });
  });
  afterAll(() => work?.cleanup());

  const generate = async (out: string, ...flags: string[]) => {
    const r = await runCli(['generate', PROMPT, '--model', MODEL, '--seed', '4', '--threads', '2', '--out', out, '-q', ...flags], { cwd: work.path });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return decodePng(readFileSync(join(work.path, out)));
  };
  /** The library's RGBA for the same call. */
  const library = async (lora: LoraFile[]) => {
    const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(embeddedModel(MODEL)!.path), createNodeRuntime({ intraOpThreads: 2 }), { lora });
    try {
      return (await pipe.generate({ prompt: PROMPT, seed: 4 })).images[0]!.data;
    } finally {
      await pipe.dispose();
    }
  };
  const at = (file: string, scale?: number): LoraFile => ({ source: new LocalFolderSource(work.path), file, ...(scale !== undefined ? { scale } : {}) });
  const same = (a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray) => Buffer.from(a).equals(Buffer.from(b));

  it('applies one or several adapters, each at its scale, as the library does', async () => {
    const plain = await generate('plain.png');
    const styled = await generate('styled.png', '--lora', 'style.safetensors:0.8');
    const both = await generate('both.png', '--lora', 'style.safetensors:0.8', '--lora', `${join(work.path, 'detail.safetensors')}`);
    const off = await generate('off.png', '--lora', 'style.safetensors:0');
    expect(same(styled.data, plain.data)).toBe(false);
    expect(same(styled.data, await library([at('style.safetensors', 0.8)]))).toBe(true);
    expect(same(both.data, await library([at('style.safetensors', 0.8), at('detail.safetensors')]))).toBe(true);
    expect(same(both.data, styled.data)).toBe(false);
    expect(same(off.data, plain.data)).toBe(true);
    expect(plain.text.parameters).not.toMatch(/Lora/);
    expect(both.text.parameters).toMatch(/, Lora hashes: "style: [0-9a-f]{12}, detail: [0-9a-f]{12}", /);
    expect(JSON.parse(styled.text.sdxs!).loras).toEqual([{ name: 'style', scale: 0.8, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('sdxs serve and worker load their models with the adapters (the library’s pixels); sketch, serve and worker refuse a missing file', async () => {
    const stderr = { write: () => true } as unknown as NodeJS.WritableStream;
    const io = { stdout: stderr, stderr, cwd: work.path, env: { HF_HUB_OFFLINE: '1', SDXS_CACHE: join(work.path, '.sdxs-cache') } } as unknown as CliIO;
    const served = await loadServedModels('serve', {}, { models: [MODEL], lora: [at('style.safetensors', 0.8)], maxSessions: 4 }, io, new Reporter(io.stderr, { quiet: true }));
    try {
      const { images } = await served.models[0]!.pipe.generate({ prompt: PROMPT, seed: 4 });
      expect(same(images[0]!.data, await library([at('style.safetensors', 0.8)]))).toBe(true);
    } finally {
      await served.dispose();
    }
    writeFileSync(join(work.path, 'drawing.png'), encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(255) }));
    for (const argv of [['sketch', PROMPT, '--watch', 'drawing.png'], ['serve'], ['worker', '--queue', 'redis://127.0.0.1:1']]) {
      const r = await runCli([...argv, '--lora', 'nope.safetensors'], { cwd: work.path });
      expect(r.code, argv[0]).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^sdxs ${argv[0]}: --lora: no such file nope\\.safetensors`));
    }
  });

  it('refuses a missing file, a bad scale and a LoRA that does not fit, in one line', async () => {
    const missing = await runCli(['generate', PROMPT, '--model', MODEL, '--lora', 'nope.safetensors:0.5'], { cwd: work.path });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^sdxs generate: --lora: no such file nope\.safetensors \(see `sdxs generate --help`\)\n$/);
    const scale = await runCli(['generate', PROMPT, '--model', MODEL, '--lora', 'style.safetensors:strong'], { cwd: work.path });
    expect(scale.code).toBe(2);
    expect(scale.stderr).toMatch(/^sdxs generate: --lora: expected a number, got "strong" \(see `sdxs generate --help`\)\n$/);
    const bad = new Map(kohyaLora(1));
    bad.set('lora_unet_down_blocks_7_resnets_0_conv1.lora_down.weight', normal([4, 48, 3, 3], 1, 1));
    bad.set('lora_unet_down_blocks_7_resnets_0_conv1.lora_up.weight', normal([48, 4, 1, 1], 1, 1));
    await writeSafetensorsFile(join(work.path, 'bad.safetensors'), bad, { format: 'pt' });
    const r = await runCli(['generate', PROMPT, '--model', MODEL, '--lora', 'bad.safetensors', '--out', 'bad.png'], { cwd: work.path });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^sdxs generate: .*bad\.safetensors: 1 of 4 LoRA modules match no module of .*'s U-Net: "lora_unet_down_blocks_7_resnets_0_conv1\.lora_down\.weight"/);
  });
});
