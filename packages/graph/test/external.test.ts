import { link, mkdtemp, mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Add, Graph, GraphError, MatMul, bindSafetensors, dumpGraph, toOnnx, toOnnxWithExternalData, type ExternalTensorEntry } from '@sdxs/graph';
import { Tensor, type DType } from '@sdxs/tensor';
import { randomTensor } from './harness.js';
import { fromHalfBits, toHalf } from './composite/_ref.js';

// A tiny safetensors writer, independent of @sdxs/tensor's: 8-byte little-endian header length, JSON header,
// then the tensors' bytes back to back. `headerPad` adds spaces to the header (the format allows trailing
// whitespace) to move the data section to an offset that is not a multiple of 4.
const CODES: Partial<Record<DType, string>> = { float32: 'F32', float16: 'F16' };
function safetensorsFile(tensors: Record<string, Tensor>, headerPad = 0): { bytes: Uint8Array; entries: ExternalTensorEntry[] } {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: CODES[t.dtype], shape: t.shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(headerPad));
  const dataStart = 8 + json.length;
  const bytes = new Uint8Array(dataStart + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = dataStart;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const entries = Object.entries(header).map(([name, h]) => {
    const { data_offsets: [start, end], shape } = h as { data_offsets: [number, number]; shape: number[] };
    return { name, dtype: tensors[name]!.dtype, shape, byteOffset: dataStart + start, byteLength: end - start };
  });
  return { bytes, entries };
}

// y = x·W + b in float32 and z = h + c in float16; a 3-element float16 tensor first in the file puts
// everything after it at offsets that are 2 (mod 4).
const w = randomTensor([4, 3], 61);
const b = randomTensor([3], 62);
const c = toHalf(randomTensor([3], 63));
const x = randomTensor([2, 4], 64);
const h = toHalf(randomTensor([2, 3], 65));

function buildGraph(): Graph {
  const g = new Graph();
  const xi = g.input('x', 'float32', ['n', 4]);
  const hi = g.input('h', 'float16', ['n', 3]);
  g.output(Add(MatMul(xi, g.parameter('proj.weight', 'float32', [4, 3])), g.parameter('proj.bias', 'float32', [3])), 'y');
  g.output(Add(hi, g.parameter('shift', 'float16', [3])), 'z');
  return g;
}

function expected(): { y: number[]; z: number[] } {
  const y: number[] = [];
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++) {
      let s = b.data[j]!;
      for (let k = 0; k < 4; k++) s += x.data[i * 4 + k]! * w.data[k * 3 + j]!;
      y.push(s);
    }
  const z = Array.from(h.data, (v, i) => Math.fround(fromHalfBits(v) + fromHalfBits(c.data[i % 3]!)));
  return { y, z };
}

async function runSession(session: ort.InferenceSession): Promise<{ y: number[]; z: number[] }> {
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x.data, [2, 4]), h: new ort.Tensor('float16', h.data, [2, 3]) });
    return { y: Array.from(out['y']!.data as Float32Array), z: Array.from(out['z']!.data as Uint16Array, fromHalfBits) };
  } finally {
    await session.release();
  }
}

function expectResults(got: { y: number[]; z: number[] }): void {
  const want = expected();
  got.y.forEach((v, i) => expect(v).toBeCloseTo(want.y[i]!, 5));
  // float16 addition rounds once; compare to the half-rounded exact sum.
  got.z.forEach((v, i) => expect(v).toBe(fromHalfBits(toHalf(new Tensor('float32', [1], new Float32Array([want.z[i]!]))).data[0]!)));
}

async function fromPath(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
}

describe('external data', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdxs-external-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Padding 1 and 3 put every tensor at an offset that is not a multiple of its element size: safetensors
  // does not align its data section, and onnxruntime reads such regions correctly.
  for (const headerPad of [0, 1, 3]) {
    it(`binds parameters into a safetensors file by offset and runs from the model path (header padded by ${headerPad})`, async () => {
      const file = safetensorsFile({ shift: c, 'proj.weight': w, 'proj.bias': b, unrelated: toHalf(randomTensor([5], 66)) }, headerPad);
      const sub = join(dir, `pad${headerPad}`);
      await mkdir(sub);
      await writeFile(join(sub, 'weights.safetensors'), file.bytes);
      const g = buildGraph();
      expect(bindSafetensors(g, file.entries, 'weights.safetensors')).toEqual({ bound: ['shift', 'proj.weight', 'proj.bias'], unused: ['unrelated'] });
      const weight = file.entries.find((e) => e.name === 'proj.weight')!;
      if (headerPad) expect(weight.byteOffset % 4).not.toBe(0);
      expect(dumpGraph(g)).toContain(`init   proj.weight: float32[4, 3] external weights.safetensors@${weight.byteOffset}+48`);
      await writeFile(join(sub, 'model.onnx'), toOnnx(g));
      expectResults(await runSession(await fromPath(join(sub, 'model.onnx'))));
    });
  }

  it('runs a model bound to a safetensors file from memory, through the externalData session option', async () => {
    const file = safetensorsFile({ shift: c, 'proj.weight': w, 'proj.bias': b }, 1);
    const g = buildGraph();
    bindSafetensors(g, file.entries, 'unet/weights.safetensors');
    const session = await ort.InferenceSession.create(toOnnx(g), {
      executionProviders: ['cpu'],
      externalData: [{ path: 'unet/weights.safetensors', data: file.bytes }],
    });
    expectResults(await runSession(session));
  });

  it('toOnnxWithExternalData moves large initializers into one 64-byte aligned blob and leaves the graph as it was', async () => {
    const g = buildGraph();
    g.bind('proj.weight', w); // 48 bytes
    g.bind('proj.bias', b); // 12 bytes
    g.bind('shift', c); // 6 bytes
    const before = dumpGraph(g);
    const { model, externalFiles } = toOnnxWithExternalData(g, { threshold: 8, location: 'weights.bin' });
    expect(dumpGraph(g)).toBe(before);
    const blob = externalFiles.get('weights.bin')!;
    expect([...externalFiles.keys()]).toEqual(['weights.bin']);
    // proj.weight at 0, proj.bias at 64; shift (6 bytes) stays inline.
    expect(blob.length).toBe(64 + 12);
    expect(new Float32Array(blob.buffer, blob.byteOffset, 12)).toEqual(w.data);
    expect(new Float32Array(blob.buffer, blob.byteOffset + 64, 3)).toEqual(b.data);
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], externalData: [...externalFiles].map(([path, data]) => ({ path, data })) });
    expectResults(await runSession(session));
    // Written beside the model, the same bytes load from the model path.
    await writeFile(join(dir, 'blob-model.onnx'), model);
    await writeFile(join(dir, 'weights.bin'), blob);
    expectResults(await runSession(await fromPath(join(dir, 'blob-model.onnx'))));
  });

  it('toOnnxWithExternalData with nothing above the threshold writes an ordinary model', () => {
    const g = buildGraph();
    g.bind('proj.weight', w);
    g.bind('proj.bias', b);
    g.bind('shift', c);
    const { model, externalFiles } = toOnnxWithExternalData(g);
    expect(externalFiles.size).toBe(0);
    expect(model).toEqual(toOnnx(g));
  });

  it('refuses a dtype or shape that differs from the parameter, naming the tensor; rename maps file keys', () => {
    const file = safetensorsFile({ 'proj.weight': toHalf(w), 'proj.bias': b });
    expect(() => bindSafetensors(buildGraph(), file.entries, 'w.safetensors')).toThrow(GraphError);
    expect(() => bindSafetensors(buildGraph(), file.entries, 'w.safetensors')).toThrow(
      /bindSafetensors: proj\.weight: w\.safetensors holds float16\[4, 3\], the graph declares proj\.weight as float32\[4, 3\]/,
    );
    const reshaped = safetensorsFile({ 'proj.bias': new Tensor('float32', [1, 3], b.data) });
    expect(() => bindSafetensors(buildGraph(), reshaped.entries, 'w.safetensors')).toThrow(/proj\.bias: .* float32\[1, 3\]/);
    const prefixed = safetensorsFile({ 'unet.proj.bias': b, 'other.x': b });
    const g = buildGraph();
    const result = bindSafetensors(g, prefixed.entries, 'w.safetensors', { rename: (k) => (k.startsWith('unet.') ? k.slice(5) : undefined) });
    expect(result).toEqual({ bound: ['proj.bias'], unused: ['other.x'] });
    expect(g.unbound()).toEqual(['proj.weight', 'shift']);
  });

  // How a cache directory can reference a user's model folder (onnxruntime-node 1.30). onnxruntime resolves the
  // location (following symlinks) and refuses anything outside the model's directory: a symlink to a file
  // elsewhere, `../`, and absolute paths all fail. A hard link works; so does loading the model from bytes with
  // the session config `session.model_external_initializers_file_folder_path` naming the folder that really
  // holds the file (the realpath's directory, since a symlink inside that folder is refused too).
  it('onnxruntime accepts only locations that resolve inside the model (or configured) directory', async () => {
    const file = safetensorsFile({ shift: c, 'proj.weight': w, 'proj.bias': b });
    const user = join(dir, 'user-model');
    const cache = join(dir, 'cache');
    const snapshot = join(dir, 'snapshot');
    await Promise.all([mkdir(user), mkdir(cache), mkdir(snapshot)]);
    await writeFile(join(user, 'weights.safetensors'), file.bytes);
    await symlink(join(user, 'weights.safetensors'), join(cache, 'weights.safetensors'));
    await symlink(join(user, 'weights.safetensors'), join(snapshot, 'weights.safetensors'));
    const modelWith = async (name: string, location: string): Promise<string> => {
      const g = buildGraph();
      bindSafetensors(g, file.entries, location);
      await writeFile(join(cache, name), toOnnx(g));
      return join(cache, name);
    };
    await expect(fromPath(await modelWith('symlinked.onnx', 'weights.safetensors'))).rejects.toThrow(/escapes model directory/);
    await expect(fromPath(await modelWith('dotdot.onnx', '../user-model/weights.safetensors'))).rejects.toThrow(/escapes model directory/);
    await expect(fromPath(await modelWith('absolute.onnx', join(user, 'weights.safetensors')))).rejects.toThrow(/Absolute path not allowed/);

    const hard = join(dir, 'cache-hard');
    await mkdir(hard);
    await link(join(user, 'weights.safetensors'), join(hard, 'weights.safetensors'));
    await writeFile(join(hard, 'model.onnx'), await readFile(join(cache, 'symlinked.onnx')));
    expectResults(await runSession(await fromPath(join(hard, 'model.onnx'))));

    const bytes = await readFile(join(cache, 'symlinked.onnx'));
    const withFolder = (folder: string) =>
      ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], extra: { session: { model_external_initializers_file_folder_path: folder } } });
    expectResults(await runSession(await withFolder(user)));
    await expect(withFolder(snapshot)).rejects.toThrow(/escapes model directory/);
    expectResults(await runSession(await withFolder(dirname(await realpath(join(snapshot, 'weights.safetensors'))))));
  });
});
