// "A client written for the OpenAI images API gets images without changes": the official `openai` SDK, pointed at
// sdxs serve by its baseURL, as a user of the real API would write it.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, LocalEngine, type ServedModel } from '@sdxs/server';
import { loadServedModel, pixels, sameBytes } from './helpers.js';

let model: ServedModel;
let app: FastifyInstance;
let client: OpenAI;

beforeAll(async () => {
  model = await loadServedModel();
  app = await createServer({ engine: new LocalEngine([model]), models: [model], apiKey: 'sk-local-test-key' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1`, apiKey: 'sk-local-test-key', maxRetries: 0 });
});
afterAll(async () => {
  await app?.close();
  await model?.control?.dispose();
});

describe('the openai SDK against sdxs serve', () => {
  it('images.generate returns b64_json PNGs of the asked size and model, the seed extension honoured', async () => {
    // `seed` is an sdxs extension; the SDK passes unknown body fields through.
    const params = { model: 'sdxs-micro-1step', prompt: 'a red circle on a blue background', n: 2, size: '256x256' as '1024x1024', response_format: 'b64_json' as const, seed: 9 };
    const r = await client.images.generate(params);
    expect(r.data).toHaveLength(2);
    const png = pixels(r.data![0]!.b64_json!);
    expect([png.width, png.height]).toEqual([256, 256]);
    const { images } = await model.pipe.generate({ prompt: 'a red circle on a blue background', seed: 9, width: 256, height: 256 });
    expect(sameBytes(png.data, images[0]!.data)).toBe(true);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['sdxs-micro-1step']);
  });

  it('raises the SDK\'s own error classes: BadRequestError for a bad size, AuthenticationError for a wrong key', async () => {
    await expect(client.images.generate({ prompt: 'a', size: '4096x4096' as '1024x1024' })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const wrong = new OpenAI({ baseURL: client.baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(wrong.images.generate({ prompt: 'a' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
