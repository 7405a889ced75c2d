import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Add, Graph, toOnnx } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';

describe('node runtime (cpu)', () => {
  it('creates a session, reports its inputs/outputs and runs it', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 2]);
    g.output(Add(x, 1), 'y');
    const session = await createNodeRuntime().createSession(toOnnx(g));
    expect(session.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 2] }]);
    expect(session.outputs.map((o) => o.name)).toEqual(['y']);
    const { y } = await session.run({ x: new Tensor('float32', [2, 2], new Float32Array([1, 2, 3, 4])) });
    expect(y?.dtype).toBe('float32');
    expect(y?.shape).toEqual([2, 2]);
    expect(y!.toArray()).toEqual([2, 3, 4, 5]);
    await session.dispose();
  });

  it('passes a clear error on for a wrong input shape or corrupt model bytes', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    g.output(Add(x, 1), 'y');
    const rt = createNodeRuntime();
    const session = await rt.createSession(toOnnx(g), { label: 'tiny.onnx' });
    // RELIABILITY item 18: wrong shapes, names, dtypes and outputs are onnxruntime's error, on one line, naming the graph.
    const cases: [Record<string, Tensor>, string[] | undefined, RegExp][] = [
      [{ x: Tensor.zeros('float32', [3]) }, undefined, /^tiny\.onnx: onnxruntime could not run the session: Got invalid dimensions for input: x for the following indices index: 0 Got: 3 Expected: 2/],
      [{ z: Tensor.zeros('float32', [2]) }, undefined, /^tiny\.onnx: onnxruntime could not run the session: input 'x' is missing in 'feeds'/],
      [{ x: Tensor.zeros('int64', [2]) }, undefined, /^tiny\.onnx: onnxruntime could not run the session: Unexpected input data type\. Actual: \(tensor\(int64\)\) , expected: \(tensor\(float\)\)/],
      [{ x: Tensor.zeros('float32', [2]) }, ['nope'], /^tiny\.onnx: onnxruntime could not run the session: 'fetches' contains invalid output name: nope/],
    ];
    for (const [feeds, outputs, message] of cases) {
      const e = await session.run(feeds, outputs).catch((x: unknown) => x as Error);
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).not.toMatch(/\n/);
    }
    // The session still runs after refusing.
    expect(Array.from((await session.run({ x: Tensor.zeros('float32', [2]) })).y!.data as Float32Array)).toEqual([1, 1]);
    await session.dispose();
    const bytes = toOnnx(g).slice();
    for (let i = 0; i < bytes.length; i += 3) bytes[i] = 0xff;
    await expect(rt.createSession(bytes, { label: 'mutated.onnx' })).rejects.toThrow(/mutated\.onnx: onnxruntime could not create the session/);
  });

  it('lays ortSessionOptions over its own: profiling writes a trace with one event per node run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdxs-profile-'));
    try {
      const g = new Graph();
      const x = g.input('x', 'float32', [2]);
      g.output(Add(x, 1), 'y');
      const rt = createNodeRuntime({ ortSessionOptions: { enableProfiling: true, profileFilePrefix: join(dir, 'run') } });
      const session = await rt.createSession(toOnnx(g));
      await session.run({ x: Tensor.zeros('float32', [2]) });
      await session.dispose();
      const files = await readdir(dir);
      expect(files).toHaveLength(1);
      const events: unknown = JSON.parse(await readFile(join(dir, files[0]!), 'utf8'));
      expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ cat: 'Node', args: expect.objectContaining({ op_name: 'Add' }) })]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
