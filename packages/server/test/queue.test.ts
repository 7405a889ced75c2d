// The local engine's queue under pressure, over real sockets: a full queue answers 429 with Retry-After, a client
// that goes away has its waiting job dropped (it never runs), a request past its time gets 504.
import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
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

  // A batch wait far longer than the test holds every job in the queue: what happens to it is deterministic.
  const holding = () => new LocalEngine([model], { maxBatch: 8, batchWaitMs: 60_000, maxQueue: 64 });

  it('drops a waiting job whose client disconnects: it never runs', async () => {
    const engine = holding();
    const ran: BatchEvent[] = [];
    engine.onBatch((b) => ran.push(b));
    const { app, port } = await listen(engine);
    try {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/images/generations', method: 'POST', headers: { 'content-type': 'application/json' } });
      req.on('error', () => undefined);
      req.end(JSON.stringify({ prompt: 'never drawn', seed: 99 }));
      for (let t = 0; t < 200 && (await engine.status()).queued === 0; t++) await new Promise((r) => setTimeout(r, 5));
      expect((await engine.status()).queued).toBe(1);
      req.destroy();
      for (let t = 0; t < 200 && (await engine.status()).queued > 0; t++) await new Promise((r) => setTimeout(r, 5));
      expect((await engine.status()).queued).toBe(0);
      expect(ran).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('gives 504 to a request that waits past its time, and drops its job', async () => {
    const engine = holding();
    const ran: BatchEvent[] = [];
    engine.onBatch((b) => ran.push(b));
    const { app, port } = await listen(engine, 100);
    try {
      const r = await post(port, { prompt: 'a red circle on a blue background', seed: 1 });
      expect(r.status).toBe(504);
      expect(JSON.parse(r.body).error.message).toBe('the request timed out after 100 ms');
      expect((await engine.status()).queued).toBe(0);
      expect(ran).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('answers 408 to a client that sends its request too slowly (slowloris)', async () => {
    const app = await createServer({ engine: holding(), models: [model], requestTimeoutMs: 300 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          // Headers promising 1,000 bytes, then 10 of them, then silence.
          socket.write('POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt":');
        });
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      });
      expect(answer).toMatch(/^HTTP\/1.1 408/);
    } finally {
      await app.close();
    }
  });

  it('stops a running batch when every job in it is cancelled: the next job runs at once', async () => {
    const engine = new LocalEngine([model], { maxBatch: 8, batchWaitMs: 0, maxQueue: 64 });
    const long = { model: '', prompt: 'a red circle on a blue background', negativePrompt: '', seeds: ['5'], steps: 150, width: 128, height: 128 };
    const short = { ...long, seeds: ['6'], steps: 1, width: 64, height: 64 };
    await engine.submit(short);
    let t = performance.now();
    await engine.submit(long);
    const full = performance.now() - t;
    const abort = new AbortController();
    const running = engine.submit(long, { signal: abort.signal });
    for (let i = 0; i < 400 && (await engine.status()).running === 0; i++) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, full / 5));
    abort.abort();
    t = performance.now();
    const next = engine.submit(short);
    await expect(running).rejects.toMatchObject({ status: 499 });
    await next;
    // Without the stop, the short job would wait for the rest of the long run (about 4/5 of it).
    expect(performance.now() - t).toBeLessThan(full / 2);
    expect((await engine.status()).cancelledRuns).toBe(1);
  });

  it('a batch runs on while any of its jobs still waits for it, and that job gets its own image', async () => {
    const engine = new LocalEngine([model], { maxBatch: 8, batchWaitMs: 50, maxQueue: 64 });
    const job = { model: '', prompt: 'a green triangle on a white background', negativePrompt: '', steps: 20 };
    const alone = await engine.submit({ ...job, seeds: ['8'] });
    const gone = new AbortController();
    const a = engine.submit({ ...job, seeds: ['7'] }, { signal: gone.signal });
    const b = engine.submit({ ...job, seeds: ['8'] });
    for (let i = 0; i < 400 && (await engine.status()).running === 0; i++) await new Promise((r) => setTimeout(r, 2));
    gone.abort();
    await expect(a).rejects.toMatchObject({ status: 499 });
    const kept = await b;
    expect(kept.batchImages).toBe(2);
    expect(kept.images[0]).toBe(alone.images[0]);
    expect((await engine.status()).cancelledRuns).toBe(0);
  });

  it('rejects at submit: an aborted signal, an unknown model, more images than a batch', async () => {
    const engine = new LocalEngine([model], { maxBatch: 2 });
    const job = { model: '', prompt: 'a', negativePrompt: '', seeds: ['1'] };
    await expect(engine.submit(job, { signal: AbortSignal.abort() })).rejects.toMatchObject({ status: 499 });
    await expect(engine.submit({ ...job, model: 'nope' })).rejects.toThrow(/unknown model "nope"/);
    await expect(engine.submit({ ...job, seeds: ['1', '2', '3'] })).rejects.toBeInstanceOf(ServeError);
    // Two waiting fill a queue of two: the third is refused at once, with when to come back.
    const full = new LocalEngine([model], { maxBatch: 8, batchWaitMs: 60_000, maxQueue: 2 });
    const waiting = [new AbortController(), new AbortController()];
    const held = waiting.map((a) => full.submit(job, { signal: a.signal }).catch((e: ServeError) => e.status));
    await expect(full.submit(job)).rejects.toMatchObject({ status: 429, retryAfter: 1 });
    waiting.forEach((a) => a.abort());
    expect(await Promise.all(held)).toEqual([499, 499]);
  });
});
