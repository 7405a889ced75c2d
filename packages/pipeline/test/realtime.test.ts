import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlNetPipeline, createRealtimeStream, LatestFrameLoop, type RealtimeFrame, type RealtimeImage } from '@sdxs/pipeline';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { buildControlNetCase, syntheticSketch, type BuiltCase } from '../../../tools/golden/build-controlnet-case.js';
import { countingRuntime } from './_helpers.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A render that takes `ms` and records what it rendered. */
function slowRender(ms: number) {
  const rendered: number[] = [];
  return { rendered, render: async (x: number) => (await sleep(ms), rendered.push(x), x * 10) };
}

async function readUntil<T>(frames: AsyncIterable<RealtimeFrame<T>>, lastId: number): Promise<RealtimeFrame<T>[]> {
  const out: RealtimeFrame<T>[] = [];
  for await (const f of frames) {
    out.push(f);
    if (f.frameId === lastId) break;
  }
  return out;
}

describe('LatestFrameLoop: newest frame only, one in flight', () => {
  it('20 frames pushed at once render once: the last', async () => {
    const { rendered, render } = slowRender(20);
    const loop = new LatestFrameLoop(render);
    for (let i = 1; i <= 20; i++) expect(loop.push(i)).toBe(i);
    const frames = await readUntil(loop.frames, 20);
    expect(rendered).toEqual([20]);
    expect(frames.map((f) => [f.frameId, f.value, f.dropped])).toEqual([[20, 200, 19]]);
    expect(loop.stats).toEqual({ pushed: 20, rendered: 1, delivered: 1, dropped: 19 });
  });

  it('frames pushed while one renders: only the newest of them renders next', async () => {
    const { rendered, render } = slowRender(30);
    const loop = new LatestFrameLoop(render);
    loop.push(1);
    await sleep(10); // frame 1 is rendering
    for (let i = 2; i <= 20; i++) loop.push(i);
    const frames = await readUntil(loop.frames, 20);
    expect(rendered).toEqual([1, 20]);
    expect(frames.map((f) => [f.frameId, f.dropped])).toEqual([
      [1, 0],
      [20, 18],
    ]);
  });

  it('frames faster than renders: far fewer renders, the last always rendered, latency within two renders', async () => {
    const renderMs = 40;
    const { rendered, render } = slowRender(renderMs);
    const loop = new LatestFrameLoop(render);
    const reading = readUntil(loop.frames, 20);
    for (let i = 1; i <= 20; i++) {
      loop.push(i);
      await sleep(5);
    }
    const frames = await reading;
    expect(rendered.length).toBeLessThanOrEqual(6);
    expect(rendered.at(-1)).toBe(20);
    expect(frames.at(-1)!.frameId).toBe(20);
    // A frame waits for at most the render in flight, then its own (timers on a loaded machine: generous slack).
    for (const f of frames) expect(f.latencyMs).toBeLessThanOrEqual(2 * renderMs + 150);
    // Every frame is either delivered or counted as dropped.
    expect(frames.length + frames.reduce((n, f) => n + f.dropped, 0)).toBe(20);
  });

  it('a slow reader gets the newest result, never a queue of stale ones', async () => {
    const loop = new LatestFrameLoop(async (x: number) => x);
    loop.push(1);
    await sleep(5);
    loop.push(2);
    await sleep(5);
    loop.push(3);
    await sleep(5);
    const [f] = await readUntil(loop.frames, 3);
    expect(f).toMatchObject({ frameId: 3, value: 3, dropped: 2 });
    expect(loop.stats.rendered).toBe(3);
  });

  it('close() drops the waiting frame, delivers the one in flight, then ends; push afterwards throws', async () => {
    const { rendered, render } = slowRender(20);
    const loop = new LatestFrameLoop(render);
    loop.push(1);
    await sleep(10); // frame 1 is rendering
    loop.push(2);
    const it = loop.frames[Symbol.asyncIterator]();
    const first = it.next();
    await loop.close();
    expect((await first).value).toMatchObject({ frameId: 1 });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(rendered).toEqual([1]);
    expect(() => loop.push(3)).toThrow(/push after close/);
  });

  it('a render error reaches the reader and ends the stream', async () => {
    const loop = new LatestFrameLoop(async (x: number) => {
      if (x === 2) throw new Error('boom');
      return x;
    });
    loop.push(1);
    const it = loop.frames[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ frameId: 1 });
    loop.push(2);
    await expect(it.next()).rejects.toThrow('boom');
    expect(() => loop.push(3)).toThrow('boom');
  });

  it('update() changes the options of later frames, not the size', async () => {
    const seen: number[] = [];
    const stream = createRealtimeStream({ prompt: 'p', seed: 0, width: 8, height: 8, controlScale: 0.5 }, async (image, o) => {
      seen.push(o.controlScale ?? -1);
      return { width: image.width, height: image.height, data: new Uint8ClampedArray(image.width * image.height * 4) };
    });
    const img = { width: 8, height: 8, data: new Uint8Array(64 * 3) };
    const iter = stream.images[Symbol.asyncIterator]();
    stream.push(img);
    await iter.next();
    stream.update({ controlScale: 0.9 });
    stream.push(img);
    const second = (await iter.next()).value as RealtimeImage;
    expect(second.frameId).toBe(2);
    expect(seen).toEqual([0.5, 0.9]);
    // As an untyped caller (or JSON from a form) could send it.
    const fromJson: unknown = JSON.parse('{"width": 16}');
    expect(() => stream.update(fromJson as Parameters<typeof stream.update>[0])).toThrow(/cannot change width/);
    await stream.close();
  });
});

describe('ControlNetPipeline.realtime on the built SDXS-layout case', () => {
  let built: BuiltCase;
  let pipe: ControlNetPipeline;
  beforeAll(async () => {
    built = await buildControlNetCase({ width: 128, height: 128 });
    pipe = await ControlNetPipeline.load(new LocalFolderSource(join(built.dir, 'model')), undefined, countingRuntime());
  });
  afterAll(async () => {
    await pipe?.dispose();
    built?.cleanup();
  });

  it('20 strokes pushed quickly render a few frames, the last stroke always, each as generate() would', async () => {
    const options = { prompt: 'a round house', seed: 9, controlScale: 0.8, controlMode: 'raw' as const };
    // Warm up (graph build and session) so the stream measures rendering only.
    await pipe.generate({ ...options, image: { width: 128, height: 128, data: syntheticSketch(128, 128), channels: 3 } });
    const stream = pipe.realtime(options);
    // Each "stroke" shifts the sketch a pixel further, as a pen moving.
    const strokes = Array.from({ length: 20 }, (_, i) => {
      const base = syntheticSketch(128, 128);
      const data = new Uint8Array(base.length);
      data.set(base.subarray(0, base.length - 3 * (i + 1)), 3 * (i + 1));
      return { width: 128, height: 128, data, channels: 3 as const };
    });
    const reading = (async () => {
      const got: RealtimeImage[] = [];
      for await (const f of stream.images) {
        got.push(f);
        if (f.frameId === 20) break;
      }
      return got;
    })();
    // A stroke every 10 ms, each its own timer: onnxruntime-node computes on this thread, so strokes arriving
    // during a render wait as queued events, as a pen's would, and are pushed together when it ends.
    strokes.forEach((s, i) => setTimeout(() => stream.push(s), 10 * i));
    const frames = await reading;
    const last = frames.at(-1)!;
    console.log(
      `realtime (128×128 test model): ${stream.stats.rendered} of 20 frames rendered; latencies ${frames.map((f) => f.latencyMs.toFixed(0)).join(', ')} ms; renders ${frames.map((f) => f.renderMs.toFixed(0)).join(', ')} ms`,
    );
    expect(stream.stats.rendered).toBeLessThanOrEqual(5);
    expect(last.frameId).toBe(20);
    const maxRender = Math.max(...frames.map((f) => f.renderMs));
    for (const f of frames) expect(f.latencyMs).toBeLessThanOrEqual(2 * maxRender + 200);
    // The same image a direct call gives: cached prompt, fixed seed, same graph.
    const direct = await pipe.generate({ ...options, image: strokes[19]! });
    expect(Buffer.from(last.image.data).equals(Buffer.from(direct.images[0]!.data))).toBe(true);
    await stream.close();
  });

  it('refuses bad stream options when opened, not at the first frame', () => {
    expect(() => pipe.realtime({ prompt: 'x', width: 100, height: 128 })).toThrow(/"width" must be a multiple of 8/);
    expect(() => pipe.realtime({ prompt: 'x', controlScale: Number.POSITIVE_INFINITY })).toThrow(/"controlScale" must be a finite number/);
  });
});
