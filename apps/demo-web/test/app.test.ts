import { describe, expect, it } from 'vitest';
import { listedModelFor, parseManifest, settingsFor, type ModelManifest } from '../src/app/manifest.js';
import { describeProgress } from '../src/app/progress.js';
import { defaultControlnet, readSettings, sizeOptions, writeSettings, type DemoControls } from '../src/app/settings.js';

describe('page settings', () => {
  it('defaults to the served folders and auto backend', () => {
    expect(readSettings('')).toMatchObject({ model: '/models/sdxs/', controlnet: '/models/sketch/', backend: 'auto', threads: undefined, float16: true, cache: true, size: undefined, prompt: undefined });
  });

  it('reads Hugging Face repos, backends, sizes, and turns the sketch pad off', () => {
    const s = readSettings('?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=&backend=wasm&threads=4&size=256&f16=0&cache=0');
    expect(s).toEqual({ model: 'https://huggingface.co/IDKiro/sdxs-512-dreamshaper/resolve/main/', controlnet: undefined, backend: 'wasm', threads: 4, float16: false, cache: false, size: 256 });
    expect(s).toMatchObject({ negativePrompt: undefined, seed: undefined });
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

describe('the controls in the address', () => {
  // As `pnpm demo` serves the embedded models: the one-step sketch model (default) and the 25-step teacher.
  const served: ModelManifest = {
    model: '/models/micro/',
    controlnet: '/models/micro/controlnet/',
    settings: { '/models/micro/': { steps: 1, guidanceScale: 0, prompt: 'a red circle' }, '/models/sdxs-micro/': { steps: 25, guidanceScale: 5, prompt: 'a red circle' } },
    models: [
      { url: '/models/micro/', label: 'sdxs-micro-1step (1 step, sketch)', controlnet: '/models/micro/controlnet/' },
      { url: '/models/sdxs-micro/', label: 'sdxs-micro (25 steps, guidance 5)' },
    ],
  };
  const plain: DemoControls = { model: '/models/micro/', controlnet: '/models/micro/controlnet/', prompt: 'a red circle', negativePrompt: '', seed: 0, steps: 1, guidanceScale: 0, size: 64, defaultSize: 64 };
  const back = (search: string) => {
    const s = readSettings(search, served);
    return { model: s.model, controlnet: s.controlnet, prompt: s.prompt, negativePrompt: s.negativePrompt ?? '', seed: s.seed ?? 0, steps: s.steps, guidanceScale: s.guidanceScale, size: s.size ?? 64 };
  };

  it('reads the negative prompt and the seed', () => {
    expect(readSettings('?negative=blurry&seed=42', served)).toMatchObject({ negativePrompt: 'blurry', seed: 42 });
    expect(readSettings('?negative=&seed=-3', served)).toMatchObject({ negativePrompt: undefined, seed: undefined });
    expect(readSettings('?seed=1.5').seed).toBeUndefined();
  });

  it('writes only what differs from the defaults, keeping the other parameters', () => {
    expect(writeSettings('', plain, served)).toBe('');
    expect(writeSettings('?backend=wasm&threads=2', plain, served)).toBe('?backend=wasm&threads=2');
    expect(writeSettings('?backend=wasm', { ...plain, steps: 2, guidanceScale: 3, negativePrompt: 'a green background', size: 128, seed: 7 }, served)).toBe(
      '?backend=wasm&steps=2&guidance=3&size=128&negative=a+green+background&seed=7',
    );
    // Back to the defaults: the parameters go away again.
    expect(writeSettings('?backend=wasm&steps=2&guidance=3&size=128&negative=x&seed=7&prompt=y', plain, served)).toBe('?backend=wasm');
  });

  it("names another model with that model's own ControlNet, steps and guidance as its defaults", () => {
    const teacher = { ...plain, model: '/models/sdxs-micro/', controlnet: undefined, steps: 25, guidanceScale: 5 };
    expect(writeSettings('?backend=wasm', teacher, served)).toBe('?backend=wasm&model=%2Fmodels%2Fsdxs-micro%2F');
    // The teacher has no ControlNet: the server's (the default model's) is not paired with it.
    expect(readSettings('?model=/models/sdxs-micro/', served)).toMatchObject({ model: '/models/sdxs-micro/', controlnet: undefined, steps: 25, guidanceScale: 5 });
    expect(defaultControlnet(served, '/models/micro')).toBe('/models/micro/controlnet/');
    // A model the server does not list keeps the old pairing with the server's ControlNet; no manifest, the old default.
    expect(defaultControlnet(served, '/elsewhere/')).toBe('/models/micro/controlnet/');
    expect(defaultControlnet(undefined, '/models/sdxs/')).toBe('/models/sketch/');
    // A ControlNet other than the model's default is written, and none is an empty value.
    expect(writeSettings('', { ...plain, controlnet: undefined }, served)).toBe('?controlnet=');
    expect(writeSettings('', { ...teacher, controlnet: '/models/c/' }, served)).toBe('?model=%2Fmodels%2Fsdxs-micro%2F&controlnet=%2Fmodels%2Fc%2F');
  });

  it('keeps an hf: model as written, and round-trips every control through readSettings', () => {
    const hf = readSettings('?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=', served);
    expect(writeSettings('?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=', { ...plain, model: hf.model, controlnet: undefined, prompt: 'a cat', defaultSize: 512, size: 512 }, served)).toBe(
      '?model=hf%3AIDKiro%2Fsdxs-512-dreamshaper&controlnet=&prompt=a+cat',
    );
    const cases: DemoControls[] = [
      plain,
      { ...plain, steps: 4, guidanceScale: 7.5, negativePrompt: 'blurry, dark', prompt: 'a blue square, on red & "green"', seed: 2 ** 40, size: 128 },
      { ...plain, model: '/models/sdxs-micro/', controlnet: undefined, steps: 25, guidanceScale: 5 },
      { ...plain, model: '/models/sdxs-micro/', controlnet: undefined, steps: 3, guidanceScale: 0, prompt: '' },
    ];
    for (const c of cases) {
      const { defaultSize, ...want } = c;
      expect(back(writeSettings('?backend=wasm', c, served)), JSON.stringify(c)).toEqual({ ...want, prompt: c.prompt || 'a red circle' });
      expect(defaultSize).toBe(64);
    }
    expect(listedModelFor(served, '/models/sdxs-micro')?.label).toBe('sdxs-micro (25 steps, guidance 5)');
  });

  it('offers sizes in multiples of the VAE factor around the model size', () => {
    expect(sizeOptions(512, 8)).toEqual([256, 384, 512, 768, 1024]);
    expect(sizeOptions(64, 8)).toEqual([64, 128]);
    expect(sizeOptions(128, 8)).toEqual([64, 128, 192, 256]);
    // The address's size is offered too; one that is no multiple of the factor is not.
    expect(sizeOptions(128, 8, 96)).toEqual([64, 96, 128, 192, 256]);
    expect(sizeOptions(64, 8, 100)).toEqual([64, 128]);
    expect(sizeOptions(32, 8)).toEqual([32, 64]);
  });

  it('parses the served model list, dropping entries without a URL', () => {
    expect(parseManifest({ models: [{ url: '/models/a/', label: 'A', controlnet: '/models/a/controlnet/' }, { url: '/models/b/' }, { label: 'no url' }, 3] })?.models).toEqual([
      { url: '/models/a/', label: 'A', controlnet: '/models/a/controlnet/' },
      { url: '/models/b/', label: '/models/b/' },
    ]);
    expect(parseManifest({})?.models).toBeUndefined();
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
