// Scale-out: `sdxs serve --queue` puts jobs on BullMQ in a real redis-server, two `sdxs worker` processes run
// them; results come back to the waiting request, a bad job fails once with its 400, and a worker killed with
// SIGKILL mid-job loses nothing: its jobs are retried on another worker, and every job completes exactly once.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, QueueEngine, type ServedModel } from '@sdxs/server';
import { inbox, loadServedModel, openSketch, pixels, sameBytes, sketchPng } from './helpers.js';
import { startRedis, startWorker, type RedisServer, type CliProcess } from '../../../tools/serve-processes.js';

let redis: RedisServer;
let engine: QueueEngine;
let app: FastifyInstance;
let model: ServedModel;
const workers: CliProcess[] = [];
const WORKER_ARGS = ['--model', 'sdxs-micro-1step', '--lock-ms', '1500', '--max-batch', '4'];

beforeAll(async () => {
  redis = await startRedis();
  workers.push(startWorker(redis.url, WORKER_ARGS), startWorker(redis.url, WORKER_ARGS));
  engine = await QueueEngine.open({ url: redis.url });
  app = await createServer({ engine, modelNames: ['sdxs-micro-1step'], limits: { maxImages: 4 } });
  model = await loadServedModel();
  await Promise.all(workers.map((w) => w.ready));
}, 60_000);
afterAll(async () => {
  await app?.close();
  await engine?.close();
  await Promise.all(workers.map((w) => w.stop()));
  await model?.control?.dispose();
  await redis?.stop();
});

const generate = (prompt: string, seed: number) => app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt, seed } });

describe('sdxs serve --queue with sdxs worker processes', () => {
  it('returns each request its images from the workers, equal to the image of its seed alone', async () => {
    const prompts = ['a red circle on a blue background', 'a yellow square on a black background', 'a green triangle on a white background'];
    const rs = await Promise.all(prompts.map((p, i) => generate(p, 40 + i)));
    for (const [i, r] of rs.entries()) {
      expect(r.statusCode, r.body).toBe(200);
      const { images } = await model.pipe.generate({ prompt: prompts[i]!, seed: 40 + i });
      expect(sameBytes(pixels(r.json().data[0].b64_json).data, images[0]!.data)).toBe(true);
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ status: 'ok', redis: { ok: true } });
  });

  it("passes a worker's refusal back as the client's 400, without retrying it", async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'a', model: 'no-such-model' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/unknown model "no-such-model"/);
    const failed = await engine.queue.getFailed();
    expect(failed.find((j) => j.data.model === 'no-such-model')?.attemptsMade).toBe(1);
  });

  it('stops the job a worker runs when its client goes away (BullMQ cancelJob through Redis pub/sub)', async () => {
    const long = { model: 'sdxs-micro-1step', prompt: 'a red circle on a blue background', negativePrompt: '', seeds: ['9'], steps: 150, width: 128, height: 128 };
    const t0 = performance.now();
    await engine.submit(long);
    const full = performance.now() - t0;
    const abort = new AbortController();
    const running = engine.submit({ ...long, seeds: ['10'] }, { signal: abort.signal });
    for (let i = 0; i < 500 && ((await engine.queue.getJobCounts('active')).active ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, full / 5));
    const abortedAt = performance.now();
    abort.abort();
    await expect(running).rejects.toMatchObject({ status: 499 });
    // The worker fails the job as cancelled well before it could have finished it (about 4/5 of a run later).
    let job: Awaited<ReturnType<typeof engine.queue.getFailed>>[number] | undefined;
    while (!job && performance.now() - abortedAt < full) {
      job = (await engine.queue.getFailed()).find((j) => j.data.seeds[0] === '10');
      if (!job) await new Promise((r) => setTimeout(r, 10));
    }
    expect(job?.failedReason).toMatch(/"status":499/);
    expect(job?.attemptsMade).toBe(1);
    expect((job?.finishedOn ?? Infinity) - (job?.processedOn ?? 0)).toBeLessThan(full * 0.6);
  });

  it('runs the WebSocket sketch stream through the workers: each frame is the ControlNet image of its sketch', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const ws = await openSketch((app.server.address() as AddressInfo).port);
    const box = inbox(ws);
    try {
      const sketch = sketchPng(5);
      ws.send(JSON.stringify({ prompt: sketch.prompt, seed: 11 }));
      expect(await box.next()).toEqual({ ready: true, model: 'sdxs-micro-1step' });
      ws.send(sketch.png);
      const meta = (await box.next()) as { frame: number; error?: string };
      expect(meta.error).toBeUndefined();
      expect(meta.frame).toBe(1);
      const image = pixels(((await box.next()) as Buffer).toString('base64'));
      const drawn = pixels(Buffer.from(sketch.png).toString('base64'));
      const expected = await model.control!.generate({ prompt: sketch.prompt, image: { width: 64, height: 64, data: drawn.data, channels: 4 }, controlMode: 'sketch', controlScale: model.controlScale!, seed: 11 });
      expect(sameBytes(image.data, expected.images[0]!.data)).toBe(true);
      expect(image.text.parameters).toContain('Seed: 11');
    } finally {
      ws.close();
    }
  });

  it('loses no job when a worker is killed with SIGKILL mid-job; each completes exactly once', async () => {
    const completed = new Map<string, number>();
    let stalled = 0;
    engine.events.on('completed', ({ jobId }) => completed.set(jobId, (completed.get(jobId) ?? 0) + 1));
    engine.events.on('stalled', () => stalled++);
    const n = 48;
    const requests = Array.from({ length: n }, (_, i) => generate('a blue circle on a yellow background', 1000 + i));
    // Kill the first worker once both hold jobs (one holds at most 2 × max-batch = 8 at a time, so more than 8
    // active means each has some), then start a replacement.
    const victim = workers[0]!;
    for (let t = 0; t < 400 && (await engine.queue.getActiveCount()) <= 8; t++) await new Promise((r) => setTimeout(r, 10));
    await victim.stop('SIGKILL');
    workers.push(startWorker(redis.url, WORKER_ARGS));
    const rs = await Promise.all(requests);
    expect(rs.map((r) => r.statusCode)).toEqual(Array(n).fill(200));
    // Each request got its own seed's image.
    expect(new Set(rs.map((r) => r.json().data[0].seed)).size).toBe(n);
    await new Promise((r) => setTimeout(r, 200));
    const ours = [...completed.values()];
    expect(ours.length).toBeGreaterThanOrEqual(n);
    expect(ours.every((c) => c === 1)).toBe(true);
    // The kill did strand jobs: BullMQ saw them stall and gave them to a live worker.
    expect(stalled).toBeGreaterThan(0);
  }, 60_000);
});
