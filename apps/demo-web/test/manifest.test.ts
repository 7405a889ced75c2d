import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedModels, type EmbeddedModel } from '@sdxs/runtime-node';
import { defaultDemoModel, demoModels } from '../src/server/demo-models.js';
import { folderPaths, modelManifest } from '../src/server/model-manifest.js';
import { demoViteConfig } from '../src/server/vite-config.js';

const fake: EmbeddedModel = { name: 'sdxs-micro', path: '/pkg/models/sdxs-micro', steps: 25, guidanceScale: 5, description: '' };

describe('demoModels (the folders `pnpm demo` serves)', () => {
  it('serves the embedded model at /models/micro/ with its steps and guidance when no model is named', () => {
    const micro = { path: fake.path, steps: 25, guidanceScale: 5, label: 'sdxs-micro (25 steps, guidance 5)' };
    expect(demoModels({}, () => fake, () => [fake])).toEqual({ models: { micro }, notes: [] });
    // A ControlNet alone names no model: the embedded one stays the default.
    expect(demoModels({ controlnet: '/c' }, () => fake, () => []).models).toEqual({ micro, sketch: '/c' });
  });

  it('serves the other embedded models under their names, for the model menu', () => {
    const student: EmbeddedModel = { name: 'sdxs-micro-1step', path: '/pkg/models/sdxs-micro-1step', steps: 1, guidanceScale: 0, description: '', prompt: 'a red circle', controlnet: '/pkg/models/sdxs-micro-1step/controlnet' };
    expect(demoModels({}, () => student, () => [fake, student]).models).toEqual({
      micro: { path: student.path, steps: 1, guidanceScale: 0, prompt: 'a red circle', controlnet: true, label: 'sdxs-micro-1step (1 step, sketch)' },
      'sdxs-micro': { path: fake.path, steps: 25, guidanceScale: 5, label: 'sdxs-micro (25 steps, guidance 5)' },
    });
  });

  it('serves --model, --controlnet and --golden as before, without the embedded model', () => {
    const none = (): EmbeddedModel => {
      throw new Error('not asked');
    };
    expect(demoModels({ model: '/m', controlnet: '/c' }, none)).toEqual({ models: { sdxs: '/m', sketch: '/c' }, notes: [] });
    expect(demoModels({ golden: { sdxs: '/g', sketch: '/gs' } }, none).models).toEqual({ sdxs: '/g', sketch: '/gs' });
    expect(demoModels({ golden: { sdxs: '/g', sketch: '/gs' }, model: '/m' }, none).models).toEqual({ sdxs: '/m', sketch: '/gs' });
  });

  it('says so when the embedded model is missing, and serves nothing for it', () => {
    const missing = (): EmbeddedModel => {
      throw new Error('the embedded default model (@sdxs/model-micro) is not installed');
    };
    expect(demoModels({}, missing)).toEqual({ models: {}, notes: ['no embedded model: the embedded default model (@sdxs/model-micro) is not installed'] });
  });
});

describe('modelManifest (/models.json)', () => {
  it('names the default model, its ControlNet and the settings of multi-step folders', () => {
    const micro = { url: '/models/micro/', label: 'micro' };
    expect(modelManifest({ micro: { path: '/p', steps: 25, guidanceScale: 5 } })).toEqual({ model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } }, models: [micro] });
    expect(modelManifest({ sdxs: '/m', sketch: '/c' })).toEqual({ model: '/models/sdxs/', controlnet: '/models/sketch/', settings: {}, models: [{ url: '/models/sdxs/', label: 'sdxs', controlnet: '/models/sketch/' }] });
    // The sketch ControlNet belongs to the sdxs pipeline, not to the embedded model.
    expect(modelManifest({ micro: { path: '/p', steps: 25, guidanceScale: 5 }, sketch: '/c' })).toEqual({ model: '/models/micro/', settings: { '/models/micro/': { steps: 25, guidanceScale: 5 } }, models: [micro] });
    // A folder with its own controlnet/ (the embedded one-step model) brings its sketch ControlNet along.
    expect(modelManifest({ micro: { path: '/p', steps: 1, guidanceScale: 0, controlnet: true }, sketch: '/c' })).toEqual({
      model: '/models/micro/',
      controlnet: '/models/micro/controlnet/',
      settings: { '/models/micro/': { steps: 1, guidanceScale: 0 } },
      models: [{ ...micro, controlnet: '/models/micro/controlnet/' }],
    });
    expect(modelManifest({ sdxs: { path: '/m', steps: 4 } })).toEqual({ model: '/models/sdxs/', settings: { '/models/sdxs/': { steps: 4, guidanceScale: 0 } }, models: [{ url: '/models/sdxs/', label: 'sdxs' }] });
    expect(modelManifest({})).toEqual({ settings: {}, models: [] });
  });

  it('lists every served model for the menu, the default first, each with its label and own ControlNet', () => {
    const m = modelManifest({ 'sdxs-micro': { path: '/t', steps: 25, guidanceScale: 5, label: 'teacher' }, micro: { path: '/p', steps: 1, guidanceScale: 0, controlnet: true, label: 'student' } });
    expect(m.model).toBe('/models/micro/');
    expect(m.models).toEqual([
      { url: '/models/micro/', label: 'student', controlnet: '/models/micro/controlnet/' },
      { url: '/models/sdxs-micro/', label: 'teacher' },
    ]);
    expect(folderPaths({ sdxs: '/m', micro: { path: '/p', steps: 25 } })).toEqual({ sdxs: '/m', micro: '/p' });
  });
});

describe('the demo server with no model named', () => {
  let server: PreviewServer;
  let base: string;
  // The preview server with the page's build left out (an empty folder): only the model routes are under test.
  const dist = mkdtempSync(join(tmpdir(), 'sdxs-demo-dist-'));
  const teacher = embeddedModels().default;
  const embedded = defaultDemoModel();

  beforeAll(async () => {
    server = await preview(demoViteConfig({ models: demoModels({}).models, outDir: dist, port: 0 }));
    base = `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves @sdxs/model-micro\'s sketch model (one step, its own ControlNet); the text default is the multi-step teacher', () => {
    const manifest = JSON.parse(readFileSync(join(embedded.path, '..', '..', 'models.json'), 'utf8')) as { sketch: string; models: Record<string, { steps: number; guidance_scale: number }> };
    expect(embedded.name).toBe(manifest.sketch);
    expect(existsSync(join(embedded.path, 'model_index.json'))).toBe(true);
    expect(existsSync(join(embedded.path, 'controlnet', 'config.json'))).toBe(true);
    expect([embedded.steps, embedded.guidanceScale]).toEqual([manifest.models[manifest.sketch]?.steps, manifest.models[manifest.sketch]?.guidance_scale]);
    expect(embedded.steps).toBe(1);
    expect(teacher.steps).toBeGreaterThan(1);
  });

  it('serves the embedded folder at /models/micro/ and tells the page to load it with its settings', async () => {
    const res = await fetch(`${base}/models.json`);
    expect([res.status, res.headers.get('content-type'), res.headers.get('cross-origin-embedder-policy')]).toEqual([200, 'application/json', 'require-corp']);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ model: '/models/micro/', controlnet: '/models/micro/controlnet/' });
    expect(json.settings).toEqual({
      '/models/micro/': { steps: embedded.steps, guidanceScale: embedded.guidanceScale, prompt: embedded.prompt },
      [`/models/${teacher.name}/`]: { steps: teacher.steps, guidanceScale: teacher.guidanceScale, prompt: teacher.prompt },
    });
    // The model menu: the sketch model (the default) and the teacher, served under its own name.
    expect(json.models).toEqual([
      { url: '/models/micro/', label: `${embedded.name} (1 step, sketch)`, controlnet: '/models/micro/controlnet/' },
      { url: `/models/${teacher.name}/`, label: `${teacher.name} (${teacher.steps} steps, guidance ${teacher.guidanceScale})` },
    ]);
    expect((await fetch(`${base}/models/${teacher.name}/model_index.json`)).status).toBe(200);
    const index = await fetch(`${base}/models/micro/model_index.json`);
    expect(index.status).toBe(200);
    expect(((await index.json()) as { _class_name: string })._class_name).toBe('StableDiffusionControlNetPipeline');
    expect((await fetch(`${base}/models/micro/controlnet/config.json`)).status).toBe(200);
    const range = await fetch(`${base}/models/micro/unet/diffusion_pytorch_model.safetensors`, { headers: { Range: 'bytes=0-7' } });
    expect([range.status, (await range.arrayBuffer()).byteLength]).toEqual([206, 8]);
    expect((await fetch(`${base}/models/sdxs/model_index.json`)).status).toBe(404);
    expect((await fetch(`${base}/models.json`, { method: 'HEAD' })).headers.get('content-length')).toMatch(/^\d+$/);
  });
});
