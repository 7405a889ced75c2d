// External data in the Node runtime: a graph whose weights point into the user's safetensors files by offset
// (@sdxs/graph's bindSafetensors) runs from bytes, with the files read by onnxruntime, wherever they really live.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Conv, Graph, MatMul, Reshape, bindCheckpoint, bindSafetensors, toOnnx, toOnnxWithExternalData } from '@sdxs/graph';
import { Tensor, type Session } from '@sdxs/tensor';
import { openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { createNodeRuntime, prepareExternalData } from '@sdxs/runtime-node';
import { externalLocations, rewriteExternalLocations } from '../src/external-data/locations.js';
import { concat, lenField, varintField } from '../src/external-data/protobuf.js';

const root = mkdtempSync(join(tmpdir(), 'sdxs-external-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296 - 0.5;
  });
}

/** A U-Net-shaped stand-in: conv_in then a projection, parameters named as checkpoint keys. */
const WEIGHTS = {
  'conv_in.weight': new Tensor('float32', [8, 4, 3, 3], values(288, 1)),
  'conv_in.bias': new Tensor('float32', [8], values(8, 2)),
  'proj.weight': new Tensor('float32', [8, 8], values(64, 3)),
  // In the file, not in the graph (as a checkpoint's buffers are): must be skipped, not bound.
  'unused.buffer': new Tensor('float32', [5], values(5, 4)),
};

function unetGraph(): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 4, 4, 4]);
  const h = Conv(x, g.parameter('conv_in.weight', 'float32', [8, 4, 3, 3]), g.parameter('conv_in.bias', 'float32', [8]), { pads: [1, 1, 1, 1] });
  const tokens = Reshape(h, [1, 8, 16]);
  g.output(MatMul(g.parameter('proj.weight', 'float32', [8, 8]), tokens), 'y');
  return g;
}

const X = new Tensor('float32', [1, 4, 4, 4], values(64, 5));

async function run(session: Session): Promise<number[]> {
  const { y } = await session.run({ x: X });
  await session.dispose();
  return y!.toArray();
}

async function writeWeights(path: string, tensors: Record<string, Tensor> = WEIGHTS): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await writeSafetensorsFile(path, tensors);
}

/** The graph with its parameters pointing into `file` (as `location`), and the reference result with the weights in memory. */
async function boundTo(file: string, location: string): Promise<{ model: Uint8Array; expected: number[] }> {
  const st = await openSafetensorsFile(file);
  try {
    const g = unetGraph();
    const { bound, unused } = bindSafetensors(g, st.entries.values(), location);
    expect(bound.sort()).toEqual(['conv_in.bias', 'conv_in.weight', 'proj.weight']);
    expect(unused).toEqual(['unused.buffer']);
    const inMemory = unetGraph();
    await bindCheckpoint(inMemory, [st], { ignore: [/^unused\./] });
    return { model: toOnnx(g), expected: await run(await createNodeRuntime().createSession(toOnnx(inMemory))) };
  } finally {
    await st.close();
  }
}

describe('external data from files', () => {
  it("runs a graph bound by offset into a diffusers folder's safetensors file", async () => {
    const folder = join(root, 'sdxs-512');
    const file = join(folder, 'unet', 'diffusion_pytorch_model.safetensors');
    await writeWeights(file);
    const location = 'unet/diffusion_pytorch_model.safetensors';
    const { model, expected } = await boundTo(file, location);
    const session = await createNodeRuntime().createSession(model, { externalData: [{ path: location, data: file }] });
    expect(await run(session)).toEqual(expected);
  });

  it('follows a Hugging Face cache snapshot symlink into blobs/ (which onnxruntime alone refuses)', async () => {
    const cache = join(root, 'hub', 'models--IDKiro--sdxs-512-dreamshaper');
    const blob = join(cache, 'blobs', '4f9c1e0d2b7a');
    await writeWeights(blob);
    const snapshot = join(cache, 'snapshots', 'abc123');
    mkdirSync(join(snapshot, 'unet'), { recursive: true });
    symlinkSync('../../../blobs/4f9c1e0d2b7a', join(snapshot, 'unet', 'diffusion_pytorch_model.safetensors'));
    const data = join(snapshot, 'unet', 'diffusion_pytorch_model.safetensors');
    const location = 'unet/diffusion_pytorch_model.safetensors';
    const { model, expected } = await boundTo(data, location);
    const prepared = await prepareExternalData(model, [{ path: location, data }]);
    expect(prepared.folder).toBe(join(cache, 'blobs'));
    expect(externalLocations(prepared.model)).toEqual(['4f9c1e0d2b7a']);
    expect(await run(await createNodeRuntime().createSession(model, { externalData: [{ path: location, data }] }))).toEqual(expected);
  });

  it('takes files from different folders (their deepest common folder is given to onnxruntime)', async () => {
    const a = join(root, 'split', 'one', 'conv.safetensors');
    const b = join(root, 'split', 'two', 'deeper', 'proj.safetensors');
    await writeWeights(a, { 'conv_in.weight': WEIGHTS['conv_in.weight'], 'conv_in.bias': WEIGHTS['conv_in.bias'] });
    await writeWeights(b, { 'proj.weight': WEIGHTS['proj.weight'] });
    const g = unetGraph();
    for (const [file, location] of [
      [a, 'conv.safetensors'],
      [b, 'proj.safetensors'],
    ] as const) {
      const st = await openSafetensorsFile(file);
      bindSafetensors(g, st.entries.values(), location);
      await st.close();
    }
    const externalData = [
      { path: 'conv.safetensors', data: a },
      { path: 'proj.safetensors', data: b },
    ];
    const prepared = await prepareExternalData(toOnnx(g), externalData);
    expect(prepared.folder).toBe(join(root, 'split'));
    expect(externalLocations(prepared.model).sort()).toEqual(['one/conv.safetensors', 'two/deeper/proj.safetensors']);
    const { expected } = await boundTo(join(root, 'sdxs-512', 'unet', 'diffusion_pytorch_model.safetensors'), 'x.safetensors');
    expect(await run(await createNodeRuntime().createSession(toOnnx(g), { externalData }))).toEqual(expected);
  });

  it('refuses to mix a file with an in-memory blob, which onnxruntime-node cannot do', async () => {
    const file = join(root, 'sdxs-512', 'unet', 'diffusion_pytorch_model.safetensors');
    const st = await openSafetensorsFile(file);
    const g = unetGraph();
    bindSafetensors(g, [...st.entries.values()].filter((e) => e.name !== 'proj.weight'), 'unet.safetensors');
    g.bind('proj.weight', await st.read('proj.weight'));
    await st.close();
    // proj.weight (256 bytes) moves into an in-memory blob; the Reshape's 24-byte shape constant stays inline.
    const { model, externalFiles } = toOnnxWithExternalData(g, { threshold: 200, location: 'inline.bin' });
    expect([...externalFiles.keys()]).toEqual(['inline.bin']);
    const externalData = [{ path: 'unet.safetensors', data: file }, ...[...externalFiles].map(([path, data]) => ({ path, data }))];
    await expect(createNodeRuntime().createSession(model, { externalData })).rejects.toThrow(
      /cannot mix in-memory data \("inline.bin"\) with files \("unet.safetensors"\); give all as files, or all as bytes/,
    );
  });

  it('refuses locations it was not told about, missing files and repeated entries, naming them', async () => {
    const file = join(root, 'sdxs-512', 'unet', 'diffusion_pytorch_model.safetensors');
    const { model } = await boundTo(file, 'unet/diffusion_pytorch_model.safetensors');
    const rt = createNodeRuntime();
    // With a folder set, an unlisted location would be read from it: refused instead.
    await expect(rt.createSession(model, { label: 'unet', externalData: [{ path: 'other.safetensors', data: file }] })).rejects.toThrow(
      /unet: onnxruntime could not create the session: the model's external data location "unet\/diffusion_pytorch_model.safetensors" is not given in externalData/,
    );
    await expect(rt.createSession(model, { externalData: [{ path: 'unet/diffusion_pytorch_model.safetensors', data: join(root, 'nope.safetensors') }] })).rejects.toThrow(
      /externalData "unet\/diffusion_pytorch_model.safetensors": cannot resolve .*nope\.safetensors/,
    );
    await expect(rt.createSession(model, { externalData: [{ path: 'unet/diffusion_pytorch_model.safetensors', data: root }] })).rejects.toThrow(/is not a regular file/);
    const twice = { path: 'unet/diffusion_pytorch_model.safetensors', data: file };
    await expect(rt.createSession(model, { externalData: [twice, twice] })).rejects.toThrow(/is given twice/);
  });

  it('passes in-memory entries through untouched, without parsing the model', async () => {
    const model = Uint8Array.of(1, 2, 3); // not a model: nothing needs rewriting, so it is not read
    const prepared = await prepareExternalData(model, [{ path: 'a.bin', data: new Uint8Array(4) }]);
    expect(prepared.model).toBe(model);
    expect(prepared.folder).toBeUndefined();
    expect(prepared.inMemory).toEqual([{ path: 'a.bin', data: new Uint8Array(4) }]);
  });
});

describe('rewriteExternalLocations', () => {
  // A TensorProto float32[2] stored externally at `location`.
  const externalTensor = (name: string, location: string) =>
    concat([
      varintField(1, 2),
      varintField(2, 1),
      lenField(8, name),
      lenField(13, concat([lenField(1, 'location'), lenField(2, location)])),
      lenField(13, concat([lenField(1, 'offset'), lenField(2, '0')])),
      lenField(13, concat([lenField(1, 'length'), lenField(2, '8')])),
      varintField(14, 1),
    ]);
  // Outer graph: an initializer at b.bin, and an If node whose then-branch holds a Constant with a tensor at a.bin.
  const constantNode = concat([lenField(2, 'c'), lenField(4, 'Constant'), lenField(5, concat([lenField(1, 'value'), lenField(5, externalTensor('c', 'a.bin')), varintField(20, 4)]))]);
  const branch = concat([lenField(1, constantNode), lenField(2, 'then')]);
  const ifNode = concat([lenField(1, 'cond'), lenField(2, 'y'), lenField(4, 'If'), lenField(5, concat([lenField(1, 'then_branch'), lenField(6, branch), varintField(20, 5)]))]);
  const graph = concat([lenField(1, ifNode), lenField(2, 'g'), lenField(5, externalTensor('w', 'b.bin'))]);
  const model = concat([varintField(1, 8), lenField(7, graph), lenField(8, concat([lenField(1, ''), varintField(2, 17)]))]);

  it('finds external tensors in initializers and in tensor attributes of subgraphs', () => {
    expect(externalLocations(model).sort()).toEqual(['a.bin', 'b.bin']);
  });

  it('renames them and changes nothing else', () => {
    const renamed = rewriteExternalLocations(model, (l) => (l === 'a.bin' ? 'deep/er/a-renamed.bin' : l));
    expect(externalLocations(renamed).sort()).toEqual(['b.bin', 'deep/er/a-renamed.bin']);
    // Renaming back restores the original bytes exactly.
    expect(rewriteExternalLocations(renamed, (l) => (l === 'deep/er/a-renamed.bin' ? 'a.bin' : l))).toEqual(model);
    // Nothing to rename: the very same bytes come back.
    expect(rewriteExternalLocations(model, (l) => l)).toBe(model);
  });

  it('rejects bytes that are not a protobuf message', () => {
    expect(() => externalLocations(Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0x0f))).toThrow(/not a valid ONNX ModelProto/);
    expect(() => externalLocations(Uint8Array.of(0x0b))).toThrow(/not a valid ONNX ModelProto: unsupported wire type 3/);
  });

  it('rejects subgraphs nested without end', () => {
    let g = concat([lenField(2, 'leaf')]);
    for (let i = 0; i < 100; i++) g = concat([lenField(1, concat([lenField(4, 'If'), lenField(5, concat([lenField(1, 'then_branch'), lenField(6, g)]))]))]);
    expect(() => externalLocations(concat([lenField(7, g)]))).toThrow(/nested deeper than 64 levels/);
  });
});

describe('graph sizes stay small with external weights', () => {
  it('keeps the weights out of the serialized model', async () => {
    const file = join(root, 'sdxs-512', 'unet', 'diffusion_pytorch_model.safetensors');
    const { model } = await boundTo(file, 'unet/diffusion_pytorch_model.safetensors');
    const weightBytes = (288 + 8 + 64) * 4;
    const inline = unetGraph();
    for (const [k, t] of Object.entries(WEIGHTS)) if (!k.startsWith('unused')) inline.bind(k, t);
    // Each external tensor costs its location/offset/length strings (under 100 bytes), not its data.
    expect(toOnnx(inline).length - model.length).toBeGreaterThan(weightBytes - 3 * 100);
  });
});
