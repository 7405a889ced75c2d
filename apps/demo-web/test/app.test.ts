import { describe, expect, it } from 'vitest';
import { describeProgress } from '../src/app/progress.js';
import { readSettings } from '../src/app/settings.js';

describe('page settings', () => {
  it('defaults to the served folders and auto backend', () => {
    expect(readSettings('')).toEqual({ model: '/models/sdxs/', controlnet: '/models/sketch/', backend: 'auto', threads: undefined, float16: true, cache: true, size: undefined });
  });

  it('reads Hugging Face repos, backends, sizes, and turns the sketch pad off', () => {
    const s = readSettings('?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=&backend=wasm&threads=4&size=256&f16=0&cache=0');
    expect(s).toEqual({ model: 'https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/', controlnet: undefined, backend: 'wasm', threads: 4, float16: false, cache: false, size: 256 });
    expect(readSettings('?backend=cuda&threads=-1&size=x').backend).toBe('auto');
    expect(readSettings('?threads=-1').threads).toBeUndefined();
    expect(() => readSettings('?model=hf:../etc')).toThrow(/not a Hugging Face repo id/);
  });
});

describe('progress lines', () => {
  it('say what is happening, and nothing for phase ends', () => {
    expect(describeProgress({ stage: 'download', file: 'unet/w.safetensors', loaded: 512 * 2 ** 20, total: 2048 * 2 ** 20, done: false, cached: false })).toBe('Downloading unet/w.safetensors: 25% of 2048 MB');
    expect(describeProgress({ stage: 'download', file: 'a', loaded: 10, total: 10, done: true, cached: true })).toBe('a: from the cache');
    expect(describeProgress({ stage: 'build', graph: 'one-step', key: 'k', cached: false })).toBe('Building the one-step graph…');
    expect(describeProgress({ stage: 'build', graph: 'one-step', key: 'k', cached: false, ms: 3 })).toBeUndefined();
    expect(describeProgress({ stage: 'step', step: 1, steps: 1, timestep: 999, ms: 12.3 })).toBe('Step 1/1 (12 ms)');
  });
});
