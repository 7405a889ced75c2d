import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlNetPipeline, StableDiffusionPipeline } from '@sdxs/pipeline';
import { buildControlNetCase, syntheticSketch, type BuiltCase } from '../../../tools/golden/build-controlnet-case.js';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { crc32, decodeImage, decodePng, encodeJpeg, encodePng, encodeWebp } from '@sdxs/image';
import { goldenModel, runCli, tempDir } from './cli-helpers.js';

/** An RGB image as the RGBA PNG the CLI reads. */
function rgbaOf(rgb: Uint8Array, width: number, height: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!, 255], 4 * i);
  return { width, height, data };
}

const same = (a: Uint8Array | Uint8ClampedArray, b: Uint8Array | Uint8ClampedArray) => Buffer.from(a).equals(Buffer.from(b));

describe('sdxs generate --control on the built ControlNet case', () => {
  let built: BuiltCase;
  let work: { path: string; cleanup(): void };
  let pipe: ControlNetPipeline;
  let model: string;
  const sketch = rgbaOf(syntheticSketch(128, 128), 128, 128);
  beforeAll(async () => {
    built = await buildControlNetCase({ width: 128, height: 128 });
    model = join(built.dir, 'model');
    work = tempDir();
    writeFileSync(join(work.path, 'control.png'), encodePng(sketch));
    pipe = await ControlNetPipeline.load(new LocalFolderSource(model), undefined, createNodeRuntime({ intraOpThreads: 2 }));
  }, 120_000);
  afterAll(async () => {
    await pipe?.dispose();
    built?.cleanup();
    work?.cleanup();
  });

  it('raw mode at scale 1 equals ControlNetPipeline.generate on the decoded control image', async () => {
    const r = await runCli(['generate', 'a house', '--model', model, '--seed', '7', '--threads', '2', '--control', 'control.png', '--out', 'raw.png', '-q'], { cwd: work.path });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const png = decodePng(readFileSync(join(work.path, 'raw.png')));
    const ref = (await pipe.generate({ prompt: 'a house', image: sketch, controlMode: 'raw', controlScale: 1, seed: 7 })).images[0]!;
    expect([png.width, png.height]).toEqual([ref.width, ref.height]);
    expect(same(png.data, ref.data)).toBe(true);
  });

  it('takes the control image as JPEG or WebP too: the same as the pipeline on the decoded file', async () => {
    writeFileSync(join(work.path, 'control.jpg'), await encodeJpeg(sketch, { quality: 95 }));
    writeFileSync(join(work.path, 'control.webp'), await encodeWebp(sketch, { lossless: true }));
    for (const file of ['control.jpg', 'control.webp']) {
      const r = await runCli(['generate', 'a house', '--model', model, '--seed', '7', '--threads', '2', '--control', file, '--out', `${file}.png`, '-q'], { cwd: work.path });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const decoded = await decodeImage(readFileSync(join(work.path, file)));
      const ref = (await pipe.generate({ prompt: 'a house', image: decoded, controlMode: 'raw', controlScale: 1, seed: 7 })).images[0]!;
      expect(same(decodePng(readFileSync(join(work.path, `${file}.png`))).data, ref.data)).toBe(true);
    }
    // Lossless WebP is the PNG's pixels: the same image as from control.png.
    expect(same(decodePng(readFileSync(join(work.path, 'control.webp.png'))).data, decodePng(readFileSync(join(work.path, 'raw.png'))).data)).toBe(true);
  });

  it('sketch mode defaults to scale 0.8; canny takes its thresholds', async () => {
    const s = await runCli(['generate', 'a house', '--model', model, '--seed', '3', '--control', 'control.png', '--control-mode', 'sketch', '--out', 's.png', '-q'], { cwd: work.path });
    expect(s.code).toBe(0);
    const sRef = (await pipe.generate({ prompt: 'a house', image: sketch, controlMode: 'sketch', controlScale: 0.8, seed: 3 })).images[0]!;
    expect(same(decodePng(readFileSync(join(work.path, 's.png'))).data, sRef.data)).toBe(true);
    const args = ['--control', 'control.png', '--control-mode', 'canny', '--canny-low', '50', '--canny-high', '150', '--control-scale', '0.5'];
    const c = await runCli(['generate', 'a house', '--model', model, '--seed', '3', ...args, '--out', 'c.png', '-q'], { cwd: work.path });
    expect(c.code).toBe(0);
    const cRef = (await pipe.generate({ prompt: 'a house', image: sketch, controlMode: 'canny', controlOptions: { low: 50, high: 150 }, controlScale: 0.5, seed: 3 })).images[0]!;
    expect(same(decodePng(readFileSync(join(work.path, 'c.png'))).data, cRef.data)).toBe(true);
  });
});

describe('sdxs generate --init-image on the golden model', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  let pipe: StableDiffusionPipeline;
  const photo = rgbaOf(syntheticSketch(128, 128), 128, 128);
  beforeAll(async () => {
    model = goldenModel();
    work = tempDir();
    writeFileSync(join(work.path, 'photo.png'), encodePng(photo));
    pipe = await StableDiffusionPipeline.load(new LocalFolderSource(model.path), createNodeRuntime({ intraOpThreads: 2 }));
  });
  afterAll(async () => {
    await pipe?.dispose();
    model?.cleanup();
    work?.cleanup();
  });

  it('equals pipe.img2img for the same image, strength and seed', async () => {
    const r = await runCli(['generate', 'a watercolor', '--model', model.path, '--seed', '5', '--init-image', 'photo.png', '--strength', '0.6', '--out', 'w.png', '-q'], { cwd: work.path });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ref = (await pipe.img2img({ prompt: 'a watercolor', image: photo, strength: 0.6, seed: 5 })).images[0]!;
    expect(same(decodePng(readFileSync(join(work.path, 'w.png'))).data, ref.data)).toBe(true);
  });

  it.each([
    [['--control', 'photo.png', '--control-mode', 'edges'], /^sdxs generate: --control-mode: expected one of raw, sketch, canny, got "edges"/],
    [['--init-image', 'photo.png', '--strength', '1.5'], /^sdxs generate: --strength must be from 0 to 1, got 1\.5/],
    [['--init-image', 'missing.png'], /^sdxs generate: --init-image: cannot read missing\.png/],
    [['--control', 'missing.png'], /^sdxs generate: --control: cannot read missing\.png/],
    [['--init-image', 'photo.png', '--control', 'photo.png'], /^sdxs generate: --init-image cannot be combined with --control/],
    [['--control-scale', '0.5'], /^sdxs generate: --control-scale is only used with --control/],
    [['--strength', '0.5'], /^sdxs generate: --strength is only used with --init-image/],
    [['--control', 'photo.png', '--canny-low', '10'], /^sdxs generate: --canny-low and --canny-high are only used with --control-mode canny/],
  ])('%j is a usage error: exit 2, one line', async (args, message) => {
    const r = await runCli(['generate', 'a cat', '--model', model.path, ...args], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a corrupt or oversized image is refused from its header', async () => {
    writeFileSync(join(work.path, 'bad.png'), 'not a png');
    const bad = await runCli(['generate', 'a cat', '--model', model.path, '--init-image', 'bad.png'], { cwd: work.path });
    expect(bad.code).toBe(2);
    // A header claiming 100000×100000 pixels: refused before any pixel data is inflated.
    const huge = Buffer.from(encodePng({ width: 1, height: 1, data: new Uint8Array(4) }));
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    writeFileSync(join(work.path, 'huge.png'), huge);
    const r = await runCli(['generate', 'a cat', '--model', model.path, '--control', 'huge.png'], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sdxs generate: --control: huge\.png: PNG of 100000×100000 pixels is over the limit of 16777216 pixels/);
  });
});
