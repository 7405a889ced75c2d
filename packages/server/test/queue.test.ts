// The local engine's queue under pressure, over real sockets: a full queue answers 429 with Retry-After, a client
// that goes away has its waiting job dropped (it never runs), a request past its time gets 504.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, LocalEngine, ServeError, type BatchEvent, type ServedModel } from '@sdxs/server';
import { loadServedModel } from './helpers.js';

let model: ServedModel;
beforeAll(async () => {
  model = await loadServedModel();
  // Build the batch-1 graph now, so runs below take milliseconds.
  await model.pipe.generate({ prompt: 'warm up', seed: 0 });
});
afterAll(async () => {
  await model?.control?.dispose();
});

/** A server on a free loopback port. */
async function listen(engine: LocalEngine, timeoutMs?: number): Promise<{ app: FastifyInstance; port: number }> {
  const app = await createServer({ engine, models: [model], ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port };
}

function post(port: number, body: object, signal?: AbortSignal): Promise<{ status: number; headers: Headers; body: string }> {
  return fetch(`http://127.0.0.1:${port}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.text() }));
}

describe('LocalEngine queue', () => {
  it('answers 429 with Retry-After when the queue is full, and runs every accepted request', async () => {
    const engine = new LocalEngine([model], { maxBatch: 1, batchWaitMs: 0, maxQueue: 2 });
    const { app, port } = await listen(engine);
    try {
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => post(port, { prompt: 'a red circle on a blue background', seed: i })));
      const statuses = rs.map((r) => r.status);
      expect(statuses.filter((s) => s === 429).length, statuses.join(',')).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200 || s === 429), statuses.join(',')).toBe(true);
      const refused = rs.find((r) => r.status === 429)!;
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(refused.body).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
      expect(JSON.parse(refused.body).error.message).toMatch(/the queue is full/);
    } finally {
      await app.close();
    }
  });

  it('drops a waiting job whose client disconnects: it never runs', async () => {
    const engine = new LocalEngine([model], { maxBatch: 1, batchWaitMs: 0, maxQueue: 64 });
    const ran: BatchEvent[] = [];
    engine.onBatch((b) => ran.push(b));
    const { app, port } = await listen(engine);
    try {
      // Ten requests queue behind each other (batch size 1); the last one's client goes away at once.
      const kept = Array.from({ length: 9 }, (_, i) => post(port, { prompt: 'a red circle on a blue background', seed: i }));
      await new Promise((r) => setTimeout(r, 20));
      const gone = await new Promise<void>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/images/generations', method: 'POST', headers: { 'content-type': 'application/json' } });
        req.on('error', () => resolve());
        req.end(JSON.stringify({ prompt: 'never drawn', seed: 99 }));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 5);
      });
      void gone;
      const rs = await Promise.all(kept);
      expect(rs.map((r) => r.status)).toEqual(Array(9).fill(200));
      await new Promise((r) => setTimeout(r, 50));
      expect(ran.reduce((n, b) => n + b.jobs, 0)).toBe(9);
      expect((await engine.status()).queued).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('gives 504 to a request that waits past its time, and drops its job', async () => {
    const engine = new LocalEngine([model], { maxBatch: 1, batchWaitMs: 0, maxQueue: 64 });
    const ran: BatchEvent[] = [];
    engine.onBatch((b) => ran.push(b));
    const { app, port } = await listen(engine, 30);
    try {
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => post(port, { prompt: 'a red circle on a blue background', seed: i })));
      const timedOut = rs.filter((r) => r.status === 504);
      expect(timedOut.length).toBeGreaterThan(0);
      expect(JSON.parse(timedOut[0]!.body).error.message).toBe('the request timed out after 30 ms');
      expect(rs.every((r) => r.status === 200 || r.status === 504)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      // Jobs that timed out while waiting never ran.
      expect(ran.reduce((n, b) => n + b.jobs, 0)).toBeLessThan(30);
    } finally {
      await app.close();
    }
  });

  it('rejects at submit: an aborted signal, an unknown model, more images than a batch', async () => {
    const engine = new LocalEngine([model], { maxBatch: 2 });
    const job = { model: '', prompt: 'a', negativePrompt: '', seeds: ['1'] };
    await expect(engine.submit(job, { signal: AbortSignal.abort() })).rejects.toMatchObject({ status: 499 });
    await expect(engine.submit({ ...job, model: 'nope' })).rejects.toThrow(/unknown model "nope"/);
    await expect(engine.submit({ ...job, seeds: ['1', '2', '3'] })).rejects.toBeInstanceOf(ServeError);
  });
});
