import { describe, expect, it } from 'vitest';
import { ArrayBufferByteSource, encodeSafetensors, float32ToFloat16, Tensor, type ByteSource, type ModelSource } from '@sdxs/tensor';
import { Add, bindCheckpoint, CheckpointError, findWeightFiles, Graph, MatMul, openWeightFiles, Params } from '@sdxs/graph';
import { randomTensor, runGraph, expectClose } from './harness.js';

/** A model folder held in memory. */
class MemorySource implements ModelSource {
  readonly id = 'mem://model';
  constructor(private readonly files: Record<string, Uint8Array | string>) {}
  async exists(p: string): Promise<boolean> {
    return p in this.files;
  }
  async readText(p: string): Promise<string> {
    const f = this.files[p];
    if (typeof f !== 'string') throw new Error(`${p}: no text file`);
    return f;
  }
  async open(p: string): Promise<ByteSource> {
    const f = this.files[p];
    if (!(f instanceof Uint8Array)) throw new Error(`${p}: no binary file`);
    return new ArrayBufferByteSource(f, { name: `${this.id}/${p}` });
  }
}

/** y = x·W + b with parameters named as a checkpoint would. */
function model(): Graph {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 3]);
  const p = new Params(g).child('layer');
  g.output(Add(MatMul(x, p.param('weight', [3, 4])), p.param('bias', [4])), 'y');
  return g;
}

const weight = randomTensor([3, 4], 1);
const bias = randomTensor([4], 2);

describe('checkpoint loading', () => {
  it('binds a single file by checkpoint name and runs', async () => {
    const src = new MemorySource({ 'unet/diffusion_pytorch_model.safetensors': encodeSafetensors({ 'layer.weight': weight, 'layer.bias': bias }) });
    expect(await findWeightFiles(src, 'unet')).toEqual(['unet/diffusion_pytorch_model.safetensors']);
    const g = model();
    await bindCheckpoint(g, await openWeightFiles(src, 'unet'));
    expect(g.unbound()).toEqual([]);
    const x = randomTensor([2, 3], 3);
    const { y } = await runGraph(g, { x });
    const ref: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += x.data[i * 3 + k]! * weight.data[k * 4 + j]!;
        ref.push(s + bias.data[j]!);
      }
    expectClose(y, ref, [2, 4], 1e-6, 1e-6);
  });

  it('prefers the fp16 variant and converts it to the model dtype', async () => {
    const half = (t: Tensor<'float32'>) => new Tensor('float16', t.shape, float32ToFloat16(t.data));
    const src = new MemorySource({
      'model.fp16.safetensors': encodeSafetensors({ 'layer.weight': half(weight), 'layer.bias': half(bias) }),
      'model.safetensors': encodeSafetensors({ 'layer.weight': Tensor.zeros('float32', [3, 4]), 'layer.bias': bias }),
    });
    expect(await findWeightFiles(src, '', { variant: 'fp16' })).toEqual(['model.fp16.safetensors']);
    expect(await findWeightFiles(src, '')).toEqual(['model.safetensors']);
    const g = model();
    await bindCheckpoint(g, await openWeightFiles(src, '', { variant: 'fp16' }));
    const bound = g.initializers.get('layer.weight')?.data;
    expect(bound instanceof Tensor && bound.dtype).toBe('float32');
    if (!(bound instanceof Tensor)) throw new Error('unbound');
    // f16 keeps 11 significant bits: values in [-1, 1) are within 2^-11 of the original.
    bound.toArray().forEach((v, i) => expect(Math.abs(v - weight.data[i]!)).toBeLessThanOrEqual(2 ** -11));
  });

  it('reads sharded checkpoints through their index', async () => {
    const src = new MemorySource({
      'text_encoder/model.safetensors.index.json': JSON.stringify({
        metadata: {},
        weight_map: { 'layer.weight': 'model-00001-of-00002.safetensors', 'layer.bias': 'model-00002-of-00002.safetensors' },
      }),
      'text_encoder/model-00001-of-00002.safetensors': encodeSafetensors({ 'layer.weight': weight }),
      'text_encoder/model-00002-of-00002.safetensors': encodeSafetensors({ 'layer.bias': bias }),
    });
    const files = await openWeightFiles(src, 'text_encoder');
    expect(files.map((f) => f.name)).toEqual([
      'mem://model/text_encoder/model-00001-of-00002.safetensors',
      'mem://model/text_encoder/model-00002-of-00002.safetensors',
    ]);
    const g = model();
    await bindCheckpoint(g, files);
    expect(g.unbound()).toEqual([]);
  });

  it('lists missing, unexpected and mis-shaped tensors and binds nothing', async () => {
    const src = new MemorySource({
      'model.safetensors': encodeSafetensors({ 'layer.weight': Tensor.zeros('float32', [4, 3]), 'layer.extra': bias, 'other.bias': bias }),
    });
    const g = model();
    const err = await bindCheckpoint(g, await openWeightFiles(src, '')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    const ce = err as CheckpointError;
    expect(ce.missing).toEqual(['layer.bias']);
    expect(ce.unexpected).toEqual(['layer.extra', 'other.bias']);
    expect(ce.mismatched[0]).toMatch(/^layer\.weight \(float32\[4, 3\] in the file, model needs float32\[3, 4\]\)/);
    expect(ce.message).toMatch(/mem:\/\/model\/model\.safetensors: checkpoint does not match the model — 1 missing: layer\.bias; 2 unexpected/);
    expect(g.unbound().sort()).toEqual(['layer.bias', 'layer.weight']);
    // Keys a model knows it does not use can be ignored.
    const ok = new MemorySource({ 'model.safetensors': encodeSafetensors({ 'layer.weight': weight, 'layer.bias': bias, 'pos_ids': Tensor.zeros('int64', [3]) }) });
    await bindCheckpoint(model(), await openWeightFiles(ok, ''), { ignore: [/^pos_ids$/] });
  });

  it('refuses pickle weights, escaping shard names and folders without weights', async () => {
    await expect(findWeightFiles(new MemorySource({ 'unet/diffusion_pytorch_model.bin': new Uint8Array(4) }), 'unet')).rejects.toThrow(
      /diffusion_pytorch_model\.bin: PyTorch pickle weights are not supported/,
    );
    const evil = new MemorySource({ 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: '../../etc/passwd.safetensors' } }) });
    await expect(findWeightFiles(evil, '')).rejects.toThrow(/weight_map\["a"\] is not a safetensors file name in this folder/);
    await expect(findWeightFiles(new MemorySource({}), 'vae')).rejects.toThrow(/mem:\/\/model\/vae: no weights found \(looked for vae\/diffusion_pytorch_model\.safetensors/);
  });
});
