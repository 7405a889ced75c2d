// The WebSocket sketch stream: settings, then sketches as PNG; frames back as JSON + PNG equal to the ControlNet
// pipeline's image for that sketch; stale sketches dropped (latest wins); a cross-site page cannot connect.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodePng } from '@sdxs/image';
import { createServer, LocalEngine, type ServedModel } from '@sdxs/server';
import { inbox, loadServedModel, openSketch, sameBytes, sketchPng } from './helpers.js';

let model: ServedModel;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  model = await loadServedModel();
  app = await createServer({ engine: new LocalEngine([model]), models: [model] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app?.close();
  await model?.control?.dispose();
});

const open = (headers: Record<string, string> = {}) => openSketch(port, headers);

describe('GET /v1/sketch (WebSocket)', () => {
  it('renders a sketch as the ControlNet pipeline does, then only the newest of a burst', async () => {
    const ws = await open();
    const box = inbox(ws);
    try {
      const first = sketchPng(0);
      ws.send(JSON.stringify({ prompt: first.prompt, seed: 3 }));
      expect(await box.next()).toEqual({ ready: true, model: 'sdxs-micro-1step' });
      ws.send(first.png);
      const meta = (await box.next()) as { frame: number; latency_ms: number; dropped: number };
      expect(meta.frame).toBe(1);
      expect(meta.latency_ms).toBeGreaterThan(0);
      const image = decodePng((await box.next()) as Buffer);
      const drawn = decodePng(first.png);
      const expected = await model.control!.generate({ prompt: first.prompt, image: { width: 64, height: 64, data: drawn.data, channels: 4 }, controlMode: 'sketch', controlScale: model.controlScale!, seed: 3 });
      expect(sameBytes(image.data, expected.images[0]!.data)).toBe(true);

      // A burst of 12 sketches: some are replaced before they render, and the last one is always drawn.
      const burst = Array.from({ length: 12 }, (_, i) => sketchPng(10 + i));
      for (const s of burst) ws.send(s.png);
      let last: { frame: number; dropped: number } | undefined;
      let lastImage: Buffer | undefined;
      while (!last || last.frame < 13) {
        last = (await box.next()) as { frame: number; dropped: number };
        lastImage = (await box.next()) as Buffer;
      }
      expect(last.frame).toBe(13);
      expect(last.dropped).toBeGreaterThan(0);
      const lastDrawn = decodePng(burst[11]!.png);
      const lastExpected = await model.control!.generate({ prompt: first.prompt, image: { width: 64, height: 64, data: lastDrawn.data, channels: 4 }, controlMode: 'sketch', controlScale: model.controlScale!, seed: 3 });
      expect(sameBytes(decodePng(lastImage!).data, lastExpected.images[0]!.data)).toBe(true);
    } finally {
      ws.close();
    }
  });

  it('answers bad messages with an error and stays open', async () => {
    const ws = await open();
    const box = inbox(ws);
    try {
      ws.send(Buffer.from('not a png'));
      expect(await box.next()).toEqual({ error: 'send the JSON settings ({"prompt": …}) before the first sketch' });
      ws.send('{"prompt": 5}');
      expect(((await box.next()) as { error: string }).error).toMatch(/"prompt" must be a string/);
      ws.send(JSON.stringify({ prompt: 'a red circle on a blue background' }));
      expect(await box.next()).toMatchObject({ ready: true });
      ws.send(Buffer.from('not a png'));
      expect(((await box.next()) as { error: string }).error).toMatch(/PNG/i);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
    }
  });

  it('refuses a cross-site page (Origin) and a foreign Host with 403 before the upgrade', async () => {
    await expect(open({ origin: 'http://evil.example' })).rejects.toThrow(/HTTP 403/);
    await expect(open({ host: 'evil.example' })).rejects.toThrow(/HTTP 403/);
  });
});
