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
    const session = await rt.createSession(toOnnx(g));
    await expect(session.run({ x: Tensor.zeros('float32', [3]) })).rejects.toThrow(/x|dimension|shape/i);
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
