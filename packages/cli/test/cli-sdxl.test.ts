// `sdxs info`, `sdxs generate` (text, --init-image, --control) and `sdxs sketch` on a tiny SDXL folder.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '@sdxs/image';
import { ControlNetPipeline } from '@sdxs/pipeline';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { buildSdxlFolder, type SdxlFolder } from '../../../tools/golden/build-sdxl-folder.js';
import { REPO_ROOT, runCli, tempDir } from './cli-helpers.js';

function picture(): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let p = 0; p < 1024; p++) data.set([(p % 32) * 8, Math.floor(p / 32) * 8, (p * 7) % 256, 255], p * 4);
  return { width: 32, height: 32, data };
}

describe('sdxs with an SDXL folder (StableDiffusionXLControlNetPipeline)', () => {
  let folder: SdxlFolder;
  let work: { path: string; cleanup(): void };
  let pipe: ControlNetPipeline;
  beforeAll(async () => {
    folder = await buildSdxlFolder({ controlnet: true });
    work = tempDir();
    writeFileSync(join(work.path, 'photo.png'), encodePng(picture()));
    pipe = await ControlNetPipeline.load(folder.source, undefined, createNodeRuntime({ intraOpThreads: 2 }));
  });
  afterAll(async () => {
    await pipe?.dispose();
    folder?.cleanup();
    work?.cleanup();
  });
  const png = (name: string) => decodePng(readFileSync(join(work.path, name))).data;

  it('info names both encoders and the added conditioning', async () => {
    const r = await runCli(['info', folder.path, '--threads', '2'], { cwd: work.path });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pipeline +StableDiffusionXLControlNetPipeline; default size 32×32/);
    expect(r.stdout).toMatch(/text_encoder_2 +CLIPTextModelWithProjection/);
    expect(r.stdout).toMatch(/tokenizer_2 +CLIP BPE, 77 tokens \(bos 49406, eos 49407, pad 0\)/);
    expect(r.stdout).toMatch(/conditioning +encoder_hidden_states 48 wide from both text encoders' hidden_states\[-2\].*text_embeds 16 .*6 time ids/);
  });

  it('generate with --prompt-2 and size conditioning equals pipe.generate', async () => {
    const r = await runCli(
      ['generate', 'a cat', '--model', folder.path, '--seed', '4', '--prompt-2', 'oil', '--original-size', '64x48', '--crop', '4,8', '--target-size', '40x24', '--threads', '2', '--out', 't.png', '-q'],
      { cwd: work.path },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ref = await pipe.base.generate({ prompt: 'a cat', prompt2: 'oil', seed: 4, originalSize: { width: 64, height: 48 }, cropsCoordsTopLeft: { top: 4, left: 8 }, targetSize: { width: 40, height: 24 } });
    expect(Buffer.from(png('t.png')).equals(Buffer.from(ref.images[0]!.data))).toBe(true);
  });

  it('generate --init-image and --control equal img2img and the ControlNet pipeline', async () => {
    const a = await runCli(['generate', 'a cat', '--model', folder.path, '--seed', '5', '--init-image', 'photo.png', '--strength', '0.5', '--threads', '2', '--out', 'i.png', '-q'], { cwd: work.path });
    expect(a.code).toBe(0);
    const i2i = await pipe.base.img2img({ prompt: 'a cat', image: picture(), strength: 0.5, seed: 5 });
    expect(Buffer.from(png('i.png')).equals(Buffer.from(i2i.images[0]!.data))).toBe(true);
    const c = await runCli(['generate', 'a cat', '--model', folder.path, '--seed', '6', '--control', 'photo.png', '--threads', '2', '--out', 'c.png', '-q'], { cwd: work.path });
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const cn = await pipe.generate({ prompt: 'a cat', image: picture(), seed: 6 });
    expect(Buffer.from(png('c.png')).equals(Buffer.from(cn.images[0]!.data))).toBe(true);
  });

  it('sketch --watch renders the drawing with the SDXL ControlNet, and exits 0 on SIGINT', async () => {
    const out = join(work.path, 'sketch-out.png');
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), 'sketch', '--watch', join(work.path, 'photo.png'), 'a cat', '--model', folder.path, '--seed', '3', '--out', out], {
      cwd: REPO_ROOT,
      env: { ...process.env, HF_HUB_OFFLINE: '1', SDXS_CACHE: join(work.path, 'cache') },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let t = 0; t < 600 && !stdout.includes('frame 1:'); t++) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toMatch(/^frame 1: /m);
      expect(existsSync(out)).toBe(true);
      expect(decodePng(readFileSync(out))).toMatchObject({ width: 32, height: 32 });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 120_000);

  it('--crop takes two integers', async () => {
    const r = await runCli(['generate', 'a cat', '--model', folder.path, '--seed', '1', '--crop', '4', '-q'], { cwd: work.path });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--crop: expected two integers top,left, got "4"/);
  });
});
