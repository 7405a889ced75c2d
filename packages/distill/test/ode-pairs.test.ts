// Teacher ODE pairs on the shipped micro model at 2 steps: shards with the right shapes and metadata, the same
// latents as the inference pipeline, re-runs that skip finished shards, workers that split the set, and a reader
// that names the broken file.
import { cp, mkdtemp, readFile, rm, stat, truncate, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryGraphCache, StableDiffusionPipeline } from '@sdxs/pipeline';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { Generator } from '@sdxs/tensor';
import { loadSafetensorsFile } from '@sdxs/tensor/node';
import { readOdePairs, runOdePairsStage, type OdePairsOptions } from '../src/index.js';
import { runtime } from './_helpers.js';

const TEACHER = fileURLToPath(new URL('../../model-micro/models/sdxs-micro', import.meta.url));
const cache = new MemoryGraphCache(); // the runs below share their built graphs
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function quiet(): { log: (l: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (l) => lines.push(l) };
}

const mtime = async (f: string) => (await stat(f)).mtimeMs;

describe('ode-pairs stage', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'sdxs-ode-')), 'ode-pairs');
  dirs.push(join(out, '..'));
  // Two shards of four pairs, two captions per generate call: each shard's generator serves two calls.
  const base: OdePairsOptions = { out, teacher: new LocalFolderSource(TEACHER), runtime, load: { cache }, pairs: 8, shardSize: 4, batch: 2, steps: 2, guidance: 5, seed: 3 };
  const shard = (s: number) => join(out, `pairs-0000${s}.safetensors`);

  it('worker 1/2 makes only the odd shards; the rest then makes shard 0 and skips shard 1', async () => {
    const w = await runOdePairsStage({ ...base, shards: { index: 1, count: 2 } }, quiet());
    expect([w.made, w.skipped, w.shards, w.finished]).toEqual([[1], [], 2, true]);
    await expect(stat(shard(0))).rejects.toThrow();
    const before = await mtime(shard(1));
    const io = quiet();
    const all = await runOdePairsStage(base, io);
    expect([all.made, all.skipped, all.finished]).toEqual([[0], [1], true]);
    expect(await mtime(shard(1))).toBe(before);
    expect(io.lines.join('\n')).toContain('skipped 1 shard(s) made already: pairs-00001.safetensors');
    expect(io.lines.some((l) => /pairs\/s {2}ETA/.test(l))).toBe(true);
  });

  it('shards hold noise and latents [4, 4, 8, 8], the captions of their pair indices and the settings', async () => {
    for (const s of [0, 1]) {
      const { tensors, metadata } = await loadSafetensorsFile(shard(s));
      expect(tensors.get('noise')!.shape).toEqual([4, 4, 8, 8]);
      expect(tensors.get('latents')!.shape).toEqual([4, 4, 8, 8]);
      expect(tensors.get('latents')!.dtype).toBe('float32');
      expect(JSON.parse(metadata['captions']!)).toEqual([0, 1, 2, 3].map((i) => shapeSample(SPLIT_SEEDS.train, 4 * s + i).caption));
      expect(metadata).toMatchObject({ format: 'sdxs-ode-pairs/1', steps: '2', guidance_scale: '5', scheduler: 'DPMSolverMultistepScheduler', seed: String(3 + s), shard: String(s), first_pair: String(4 * s), batch: '2', teacher: TEACHER });
    }
  });

  it("a shard's pairs are what generate({ output: 'latents' }) gives for its seed and captions", async () => {
    const { tensors, metadata } = await loadSafetensorsFile(shard(1));
    const captions = JSON.parse(metadata['captions']!) as string[];
    const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(TEACHER), runtime, { cache });
    try {
      const generator = new Generator(4); // seed 3 + shard 1, its stream continued over the shard's two calls
      const calls = [];
      for (const prompt of [captions.slice(0, 2), captions.slice(2)]) calls.push(await pipe.generate({ prompt, generator, steps: 2, guidanceScale: 5, output: 'latents' }));
      expect(tensors.get('noise')!.toArray()).toEqual(calls.flatMap((r) => Array.from(r.latents.noise.data)));
      expect(tensors.get('latents')!.toArray()).toEqual(calls.flatMap((r) => Array.from(r.latents.denoised.data)));
    } finally {
      await pipe.dispose();
    }
  });

  it('a re-run changes nothing; other settings are refused, not overwritten', async () => {
    const before = [await mtime(shard(0)), await mtime(shard(1))];
    const again = await runOdePairsStage(base, quiet());
    expect([again.made, again.skipped]).toEqual([[], [0, 1]]);
    expect([await mtime(shard(0)), await mtime(shard(1))]).toEqual(before);
    await expect(runOdePairsStage({ ...base, steps: 3 }, quiet())).rejects.toThrow(/pairs-00000\.safetensors: made with other settings: steps "2" \(now "3"\)/);
  });

  it('readOdePairs gives every pair in order, and names a truncated or missing shard', async () => {
    const pairs = await readOdePairs(out);
    expect(pairs.noise.shape).toEqual([8, 4, 8, 8]);
    expect(pairs.latents.shape).toEqual([8, 4, 8, 8]);
    expect(pairs.captions).toEqual(Array.from({ length: 8 }, (_, i) => shapeSample(SPLIT_SEEDS.train, i).caption));
    const second = (await loadSafetensorsFile(shard(1))).tensors.get('latents')!;
    expect(Array.from(pairs.latents.data.subarray(4 * 256))).toEqual(second.toArray());

    const broken = join(out, '..', 'broken');
    await cp(out, broken, { recursive: true });
    const file = join(broken, 'pairs-00001.safetensors');
    await truncate(file, (await readFile(file)).length - 100);
    await expect(readOdePairs(broken)).rejects.toThrow(new RegExp(`${file.replace(/[.\\/]/g, '\\$&')}: not a valid ODE-pairs shard`));
    // The stage makes a truncated shard again (written atomically, it can only be a foreign or damaged file).
    const io = quiet();
    const redo = await runOdePairsStage({ ...base, out: broken }, io);
    expect([redo.made, redo.skipped]).toEqual([[1], [0]]);
    expect(io.lines.join('\n')).toMatch(/pairs-00001\.safetensors: not a valid ODE-pairs shard.*making it again/);
    expect(Array.from((await readOdePairs(broken)).latents.data)).toEqual(Array.from(pairs.latents.data));

    await unlink(join(broken, 'pairs-00000.safetensors'));
    await expect(readOdePairs(broken)).rejects.toThrow(/pairs-00000\.safetensors: missing/);
  });
});
