// The isolated Node runtime: sessions in a worker process, so an abort stops a run in flight (the process is
// killed), the next run works, and runs of other calls that the kill interrupted are retried.
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, MatMul, Mul, Tanh, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime, embeddedModels, IsolatedNodeRuntime, LocalFolderSource, StableDiffusionPipeline } from '@sdxs/runtime-node';

const N = 512;
/** A graph that runs for a while: `layers` rounds of y = tanh(y·W · 0.05), all 512×512 float32. */
function slowGraph(layers: number): Uint8Array {
  const g = new Graph();
  const x = g.input('x', 'float32', [N, N]);
  const w = g.input('w', 'float32', [N, N]);
  let y = x;
  for (let i = 0; i < layers; i++) y = Tanh(Mul(MatMul(y, w), 0.05));
  g.output(y, 'y');
  return toOnnx(g);
}

function feeds(seed: number): Record<string, Tensor> {
  const data = (k: number) => Float32Array.from({ length: N * N }, (_, i) => Math.sin(i * 0.37 + k));
  return { x: new Tensor('float32', [N, N], data(seed)), w: new Tensor('float32', [N, N], data(seed + 1)) };
}

const isolated = createNodeRuntime({ isolate: true, intraOpThreads: 2 }) as IsolatedNodeRuntime;
afterAll(() => isolated.close());

describe('isolated runtime', () => {
  it('gives what the in-process runtime gives, bit for bit', async () => {
    const model = slowGraph(3);
    const here = await createNodeRuntime({ intraOpThreads: 2 }).createSession(model);
    const there = await isolated.createSession(model);
    expect(there.inputs).toEqual(here.inputs);
    const [a, b] = [await here.run(feeds(1)), await there.run(feeds(1))];
    expect(Buffer.from(b.y!.data.buffer).equals(Buffer.from(a.y!.data.buffer))).toBe(true);
    expect(isolated.name).toBe('onnxruntime-node/cpu (isolated)');
    await here.dispose();
    await there.dispose();
  });

  it('an abort stops a run in flight at once; the session runs again afterwards in a new worker', async () => {
    // A graph long enough to abort in the middle, however fast the machine is at the moment: doubled until it runs ≥ 400 ms.
    let layers = 100;
    let session = await isolated.createSession(slowGraph(layers), { label: 'slow' });
    let t0 = performance.now();
    let whole = await session.run(feeds(2));
    let runMs = performance.now() - t0;
    while (runMs < 400 && layers < 3200) {
      await session.dispose();
      layers *= 2;
      session = await isolated.createSession(slowGraph(layers), { label: 'slow' });
      t0 = performance.now();
      whole = await session.run(feeds(2));
      runMs = performance.now() - t0;
    }
    expect(runMs).toBeGreaterThan(400);

    const workers = isolated.stats.workers;
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), runMs / 4);
    let abortedAt = 0;
    controller.signal.addEventListener('abort', () => (abortedAt = performance.now()));
    await expect(session.run(feeds(2), undefined, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const rejectedAt = performance.now();
    // The rejection follows the abort within a fraction of the run, not at the run's end.
    expect(rejectedAt - abortedAt).toBeLessThan(Math.min(100, runMs / 4));
    expect(rejectedAt - started).toBeLessThan(runMs * 0.75);
    expect(isolated.stats.workers).toBe(workers); // the next worker starts on the next use

    const again = await session.run(feeds(2));
    expect(Buffer.from(again.y!.data.buffer).equals(Buffer.from(whole.y!.data.buffer))).toBe(true);
    expect(isolated.stats.workers).toBe(workers + 1);
    await session.dispose();
  });

  it('a run of another call that the kill interrupted is retried, and its result is right', async () => {
    const slow = await isolated.createSession(slowGraph(600));
    const other = await isolated.createSession(slowGraph(5));
    const expected = await other.run(feeds(3));
    const controller = new AbortController();
    const aborted = slow.run(feeds(4), undefined, { signal: controller.signal });
    const bystander = other.run(feeds(3)); // queued behind the slow run in the same worker
    setTimeout(() => controller.abort(new Error('user pressed stop')), 50);
    await expect(aborted).rejects.toThrow('user pressed stop');
    const retried = isolated.stats.retried;
    const result = await bystander;
    expect(Buffer.from(result.y!.data.buffer).equals(Buffer.from(expected.y!.data.buffer))).toBe(true);
    expect(isolated.stats.retried).toBeGreaterThanOrEqual(retried);
    expect(isolated.stats.retried).toBeGreaterThan(0);
    await slow.dispose();
    await other.dispose();
  });

  it('a closed (or crashed) worker is replaced on the next run', async () => {
    const session = await isolated.createSession(slowGraph(2));
    isolated.close(); // as if the process had crashed
    await expect(session.run(feeds(5))).resolves.toHaveProperty('y');
  });

  it('runs a pipeline the same as in process, and a pipeline call aborted mid-run leaves it usable', async () => {
    const m = embeddedModels().default;
    const request = { prompt: 'a yellow triangle on a black background', seed: 9, steps: 12, guidanceScale: m.guidanceScale };
    const local = await StableDiffusionPipeline.load(new LocalFolderSource(m.path), createNodeRuntime({ intraOpThreads: 2 }));
    const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(m.path), isolated);
    try {
      const reference = await local.generate(request);
      const controller = new AbortController();
      const p = pipe.generate({ ...request, signal: controller.signal, onProgress: (e) => e.stage === 'step' && e.step === 3 && controller.abort() });
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      const { images } = await pipe.generate(request);
      expect(Buffer.from(images[0]!.data).equals(Buffer.from(reference.images[0]!.data))).toBe(true);
    } finally {
      await pipe.dispose();
      await local.dispose();
    }
  });
});
