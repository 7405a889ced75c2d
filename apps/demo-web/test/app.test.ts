import { describe, expect, it } from 'vitest';
import { parseManifest, settingsFor, type ModelManifest } from '../src/app/manifest.js';
import { describeProgress } from '../src/app/progress.js';
import { readSettings } from '../src/app/settings.js';

describe('page settings', () => {
  it('defaults to the served folders and auto backend', () => {
    expect(readSettings('')).toMatchObject({ model: '/models/sdxs/', controlnet: '/models/sketch/', backend: 'auto', threads: undefined, float16: true, cache: true, size: undefined, prompt: undefined });
  });

  it('reads Hugging Face repos, backends, sizes, and turns the sketch pad off', () => {
    const s = readSettings('?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=&backend=wasm&threads=4&size=256&f16=0&cache=0');
    expect(s).toEqual({ model: 'https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/', controlnet: undefined, backend: 'wasm', threads: 4, float16: false, cache: false, size: 256 });
    expect(readSettings('?backend=cuda&threads=-1&size=x').backend).toBe('auto');
    expect(readSettings('?threads=-1').threads).toBeUndefined();
    expect(() => readSettings('?model=hf:../etc')).toThrow(/not a Hugging Face repo id/);
  });

  it('reads steps and guidance, refusing what is not one', () => {
    expect(readSettings('?steps=25&guidance=7.5')).toMatchObject({ steps: 25, guidanceScale: 7.5 });
    expect(readSettings('?guidance=0')).toMatchObject({ steps: undefined, guidanceScale: 0 });
    expect(readSettings('?steps=0&guidance=-1')).toMatchObject({ steps: undefined, guidanceScale: undefined });
    expect(readSettings('?steps=2.5&guidance=x')).toMatchObject({ steps: undefined, guidanceScale: undefined });
  });
});

describe('page settings with the server manifest', () => {
  const micro: ModelManifest = { model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } } };

  it("loads the server's default model with its steps and guidance, and no ControlNet it does not have", () => {
    expect(readSettings('', micro)).toMatchObject({ model: '/models/micro/', controlnet: undefined, steps: 25, guidanceScale: 5 });
    expect(readSettings('?backend=wasm&size=64', micro)).toMatchObject({ model: '/models/micro/', backend: 'wasm', size: 64, steps: 25, guidanceScale: 5 });
  });

  it('lets the query override the model, its ControlNet, steps and guidance', () => {
    expect(readSettings('?steps=4&guidance=0', micro)).toMatchObject({ model: '/models/micro/', steps: 4, guidanceScale: 0 });
    expect(readSettings('?model=/models/micro', micro)).toMatchObject({ model: '/models/micro', steps: 25, guidanceScale: 5 });
    // A model the manifest has no settings for runs with the one-step defaults (left to the page).
    expect(readSettings('?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=/models/sketch/', micro)).toMatchObject({
      model: 'https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/',
      controlnet: '/models/sketch/',
      steps: undefined,
      guidanceScale: undefined,
    });
  });

  it("pairs a served model with the server's ControlNet, as without a manifest", () => {
    const golden: ModelManifest = { model: '/models/sdxs/', controlnet: '/models/sketch/', settings: {} };
    expect(readSettings('', golden)).toEqual(readSettings(''));
    expect(readSettings('?controlnet=', golden).controlnet).toBeUndefined();
  });

  it('parses manifests, dropping malformed entries', () => {
    expect(parseManifest({ model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } } })).toEqual(micro);
    expect(parseManifest({ model: 3, controlnet: '', settings: { a: { steps: 0, guidanceScale: 1 }, b: { steps: 2, guidanceScale: -1 }, c: { steps: 2 } } })).toEqual({ settings: {} });
    expect(parseManifest([])).toBeUndefined();
    expect(parseManifest('x')).toBeUndefined();
    expect(parseManifest({})).toEqual({ settings: {} });
    expect(settingsFor(micro, '/models/micro')).toEqual({ steps: 25, guidanceScale: 5 });
    // An example prompt travels with the settings into the prompt box; ?prompt= wins.
    const withPrompt = parseManifest({ model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5, prompt: 'a red circle on a blue background' } } });
    expect(readSettings('', withPrompt).prompt).toBe('a red circle on a blue background');
    expect(readSettings('?prompt=a%20green%20box', withPrompt).prompt).toBe('a green box');
    expect(readSettings('', micro).prompt).toBeUndefined();
    expect(settingsFor(micro, '/models/other/')).toBeUndefined();
    expect(settingsFor(undefined, '/models/micro/')).toBeUndefined();
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
