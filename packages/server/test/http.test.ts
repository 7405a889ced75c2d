// `sdxs serve`'s HTTP API on the embedded one-step model: OpenAI's and A1111's request and response shapes,
// batched images equal to unbatched ones, the limits and the safety checks, metrics. In-process (app.inject).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, LocalEngine, type BatchEvent, type ServedModel } from '@sdxs/server';
import { loadServedModel, pixels, sameBytes } from './helpers.js';
import { decodeImage, encodeJpeg, encodePng, encodeWebp } from '@sdxs/image';

let model: ServedModel;
let engine: LocalEngine;
let app: FastifyInstance;
const batches: BatchEvent[] = [];

beforeAll(async () => {
  model = await loadServedModel();
  engine = new LocalEngine([model], { maxBatch: 8, batchWaitMs: 30, maxQueue: 64, version: 'test' });
  engine.onBatch((b) => batches.push(b));
  app = await createServer({ engine, models: [model], apiKey: undefined });
});
afterAll(async () => {
  await app?.close();
  await model?.control?.dispose();
});

/** The image a batch-of-one generate gives for a prompt and seed: what every route must return. */
async function alone(prompt: string, seed: number, extra: { steps?: number; guidanceScale?: number } = {}): Promise<Uint8ClampedArray> {
  const { images } = await model.pipe.generate({ prompt, seed, steps: extra.steps ?? model.steps, guidanceScale: extra.guidanceScale ?? model.guidanceScale });
  return images[0]!.data;
}

describe('POST /v1/images/generations (OpenAI)', () => {
  it('returns n PNGs in b64_json, seeds seed, seed + 1, each the image of its seed alone, with A1111 parameters', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a red circle on a blue background', n: 2, seed: 5, size: '64x64', quality: 'hd', user: 'x' } });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.data).toHaveLength(2);
    expect(typeof body.created).toBe('number');
    for (const [i, d] of body.data.entries()) {
      expect(d.seed).toBe(String(5 + i));
      const png = pixels(d.b64_json);
      expect([png.width, png.height]).toEqual([64, 64]);
      expect(png.text.parameters).toContain(`Seed: ${5 + i}`);
      expect(png.text.parameters).toContain('Model: sdxs-micro-1step');
      expect(sameBytes(png.data, await alone('a red circle on a blue background', 5 + i))).toBe(true);
    }
  });

  it('gives a data: URL for response_format url, and the model list', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a green square on a white background', response_format: 'url', seed: 1 } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().data[0].url).toMatch(/^data:image\/png;base64,iVBOR/);
    const models = await app.inject({ method: 'GET', url: '/v1/models' });
    expect(models.json().data.map((m: { id: string }) => m.id)).toEqual(['sdxs-micro-1step']);
  });

  it('output_format jpeg and webp: the same image in that format, the parameters in its EXIF UserComment', async () => {
    const png = pixels((await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a purple triangle on a green background', seed: 2 } })).json().data[0].b64_json);
    for (const format of ['jpeg', 'webp'] as const) {
      const r = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a purple triangle on a green background', seed: 2, output_format: format, output_compression: 90, response_format: 'url' } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().output_format).toBe(format);
      const url = r.json().data[0].url as string;
      expect(url.startsWith(`data:image/${format};base64,`)).toBe(true);
      const bytes = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
      const decoded = await decodeImage(bytes);
      expect(decoded.format).toBe(format);
      expect(decoded.text.parameters).toBe(png.text.parameters);
      let se = 0;
      for (let i = 0; i < decoded.data.length; i++) if (i % 4 !== 3) se += (decoded.data[i]! - png.data[i]!) ** 2;
      expect(10 * Math.log10((255 * 255 * decoded.data.length * 0.75) / se), format).toBeGreaterThan(28);
    }
    const bad = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a', output_format: 'gif' } });
    expect(bad.statusCode).toBe(400);
  });

  it('batches concurrent requests into one run, each image still equal to its seed alone', async () => {
    batches.length = 0;
    const prompts = ['a red circle on a blue background', 'a yellow triangle on a black background', 'a blue square on a green background', 'a white circle on a red background', 'a black triangle on a yellow background'];
    const rs = await Promise.all(prompts.map((prompt, i) => app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt, seed: 100 + i } })));
    expect(batches.reduce((n, b) => n + b.jobs, 0)).toBe(5);
    expect(batches.length).toBeLessThanOrEqual(2);
    expect(Math.max(...batches.map((b) => b.images))).toBeGreaterThanOrEqual(3);
    for (const [i, r] of rs.entries()) {
      expect(r.statusCode, r.body).toBe(200);
      expect(sameBytes(pixels(r.json().data[0].b64_json).data, await alone(prompts[i]!, 100 + i))).toBe(true);
    }
  });

  it('refuses absurd requests with a 400 in OpenAI\'s error shape, naming the field', async () => {
    const cases: [object, RegExp][] = [
      [{ prompt: 'a', size: '100000x100000' }, /"size" must be an integer from 8 to 1024, got 100000/],
      [{ prompt: 'a', size: '60x64' }, /multiple of 8/],
      [{ prompt: 'a', size: 'big' }, /"size" must be WIDTHxHEIGHT/],
      [{ prompt: 'a', n: 10000 }, /"n" must be from 1 to 8/],
      [{ prompt: 'a', steps: 1e9 }, /steps must be <= 150/],
      [{ prompt: 'x'.repeat(10 * 1024 * 1024) }, /prompt must NOT have more than 32000 characters/],
      [{ n: 1 }, /must have required property 'prompt'/],
      [{ prompt: 'a', model: 'gpt-image-1' }, /unknown model "gpt-image-1"/],
      [{ prompt: 'a', seed: 2 ** 70 }, /seed/],
    ];
    for (const [payload, message] of cases) {
      const r = await app.inject({ method: 'POST', url: '/v1/images/generations', payload });
      expect(r.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(r.json().error.type).toBe('invalid_request_error');
      expect(r.json().error.message).toMatch(message);
    }
    const bad = await app.inject({ method: 'POST', url: '/v1/images/generations', headers: { 'content-type': 'application/json' }, payload: '{"prompt": ' });
    expect(bad.statusCode).toBe(400);
  });
});

describe('POST /sdapi/v1/txt2img and img2img (A1111)', () => {
  it('txt2img: batch_size × n_iter images from seed, unknown fields ignored, info as A1111 writes it', async () => {
    const payload = { prompt: 'a red circle on a blue background', seed: 7, batch_size: 2, n_iter: 1, sampler_name: 'Euler a', restore_faces: false, alwayson_scripts: {} };
    const r = await app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.images).toHaveLength(2);
    expect(body.parameters).toEqual(payload);
    const info = JSON.parse(body.info);
    expect([info.seed, info.all_seeds, info.steps, info.cfg_scale, info.width, info.sd_model_name]).toEqual([7, [7, 8], 1, 0, 64, 'sdxs-micro-1step']);
    expect(info.infotexts[1]).toContain('Seed: 8');
    expect(sameBytes(pixels(body.images[1]).data, await alone(payload.prompt, 8))).toBe(true);
    // seed −1: a random seed, reported.
    const random = await app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload: { prompt: 'a cat', seed: -1 } });
    expect(JSON.parse(random.json().info).seed).toBeGreaterThanOrEqual(0);
  });

  it('img2img: the init image (bare base64 or a data: URL) repainted at denoising_strength; a broken image is a 400', async () => {
    const first = await app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload: { prompt: 'a red circle on a blue background', seed: 3 } });
    const init = first.json().images[0] as string;
    const r = await app.inject({ method: 'POST', url: '/sdapi/v1/img2img', payload: { prompt: 'a red circle on a blue background', init_images: [`data:image/png;base64,${init}`], denoising_strength: 0.5, seed: 4 } });
    expect(r.statusCode, r.body).toBe(200);
    const out = pixels(r.json().images[0]);
    const expected = await model.pipe.img2img({ prompt: 'a red circle on a blue background', image: { width: 64, height: 64, data: pixels(init).data }, strength: 0.5, seed: 4, guidanceScale: 0 });
    expect(sameBytes(out.data, expected.images[0]!.data)).toBe(true);
    expect(JSON.parse(r.json().info).denoising_strength).toBe(0.5);
    const broken = await app.inject({ method: 'POST', url: '/sdapi/v1/img2img', payload: { prompt: 'a', init_images: ['bm90IGEgcG5n'] } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().detail).toMatch(/init image/);
  });

  it('img2img takes JPEG and WebP init images too; a header claiming 100000² pixels is a 400 before decoding', async () => {
    const first = await app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload: { prompt: 'a blue square on a yellow background', seed: 5 } });
    const source = pixels(first.json().images[0] as string);
    const rgba = { width: 64, height: 64, data: new Uint8ClampedArray(source.data.buffer, source.data.byteOffset, source.data.length) };
    for (const [mime, bytes] of [['image/jpeg', await encodeJpeg(rgba, { quality: 92 })], ['image/webp', await encodeWebp(rgba, { quality: 92 })]] as const) {
      const init = Buffer.from(bytes).toString('base64');
      const r = await app.inject({ method: 'POST', url: '/sdapi/v1/img2img', payload: { prompt: 'a blue square on a yellow background', init_images: [`data:${mime};base64,${init}`], denoising_strength: 0.5, seed: 4 } });
      expect(r.statusCode, r.body).toBe(200);
      const decoded = await decodeImage(bytes);
      const expected = await model.pipe.img2img({ prompt: 'a blue square on a yellow background', image: { width: 64, height: 64, data: new Uint8ClampedArray(decoded.data) }, strength: 0.5, seed: 4, guidanceScale: 0 });
      expect(sameBytes(pixels(r.json().images[0]).data, expected.images[0]!.data), mime).toBe(true);
    }
    const huge = Buffer.from(encodePng({ width: 8, height: 8, data: new Uint8Array(256).fill(255) }));
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    const t = performance.now();
    const refused = await app.inject({ method: 'POST', url: '/sdapi/v1/img2img', payload: { prompt: 'a', init_images: [huge.toString('base64')] } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toMatch(/init image: PNG of 100000×100000 pixels is over the limit/);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('refuses width 100000 and batch 10000 with a 400 naming the field', async () => {
    const wide = await app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload: { prompt: 'a', width: 100000 } });
    expect([wide.statusCode, wide.json().detail]).toEqual([400, '"width" must be an integer from 8 to 1024, got 100000']);
    const many = await app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload: { prompt: 'a', batch_size: 100, n_iter: 100 } });
    expect(many.statusCode).toBe(400);
    expect(many.json().detail).toMatch(/batch_size × n_iter/);
  });
});

describe('safe defaults', () => {
  it('403 for a foreign Host (DNS rebinding) or a cross-site Origin; the same origin and IP hosts pass', async () => {
    const post = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/v1/models', headers });
    expect((await post({ host: 'evil.example:7860' })).statusCode).toBe(403);
    expect((await post({ host: '127.0.0.1:7860', origin: 'http://evil.example' })).statusCode).toBe(403);
    expect((await post({ host: '127.0.0.1:7860', 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    expect((await post({ host: '127.0.0.1:7860', origin: 'null' })).statusCode).toBe(403);
    const same = await post({ host: '127.0.0.1:7860', origin: 'http://127.0.0.1:7860' });
    expect(same.statusCode).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBeUndefined();
    expect((await post({ host: 'localhost:7860' })).statusCode).toBe(200);
    expect((await post({ host: '[::1]:7860' })).statusCode).toBe(200);
  });

  it('a body over the limit is a 413; metrics are Prometheus text with queue depth, batch sizes and latencies', async () => {
    const big = await app.inject({ method: 'POST', url: '/sdapi/v1/img2img', payload: { prompt: 'a', init_images: ['A'.repeat(17 * 1024 * 1024)] } });
    expect(big.statusCode).toBe(413);
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.body).toMatch(/^sdxs_queue_depth 0$/m);
    expect(m.body).toMatch(/^sdxs_batch_images_bucket\{le="8",model="sdxs-micro-1step"\} [1-9]/m);
    expect(m.body).toMatch(/^sdxs_request_duration_seconds_count\{route="\/v1\/images\/generations"\} [1-9]/m);
    expect(m.body).toMatch(/^sdxs_process_resident_memory_bytes [1-9]/m);
    const h = await app.inject({ method: 'GET', url: '/health' });
    expect(h.json()).toMatchObject({ status: 'ok', models: ['sdxs-micro-1step'], queue: { queued: 0, maxQueue: 64 } });
  });

  it('with an API key: 401 without or with a wrong bearer, 200 with it; /health stays open; allowed CORS origins get no credentials', async () => {
    const secured = await createServer({ engine, models: [model], apiKey: 's3cret', corsOrigins: ['http://app.example'] });
    try {
      const get = (headers: Record<string, string>) => secured.inject({ method: 'GET', url: '/v1/models', headers });
      expect((await get({})).statusCode).toBe(401);
      expect((await get({ authorization: 'Bearer s3cre' })).statusCode).toBe(401);
      expect((await get({ authorization: 'Bearer s3cret' })).statusCode).toBe(200);
      expect((await secured.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const cors = await get({ authorization: 'Bearer s3cret', origin: 'http://app.example' });
      expect(cors.statusCode).toBe(200);
      expect(cors.headers['access-control-allow-origin']).toBe('http://app.example');
      expect(cors.headers['access-control-allow-credentials']).toBeUndefined();
      const preflight = await secured.inject({ method: 'OPTIONS', url: '/v1/images/generations', headers: { origin: 'http://app.example' } });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    } finally {
      await secured.close();
    }
  });
});
