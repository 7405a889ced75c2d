import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Add, bindSynthetic, Graph, Params, toOnnx } from '@sdxs/graph';
import { canonicalJson, decodePackedGraph, encodePackedGraph, graphKey, MemoryGraphCache, packGraph, sha256, sha256Hex, toHex, type GraphKeyParts } from '@sdxs/pipeline';

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('sha256', () => {
  it('matches node:crypto at every padding boundary and for the FIPS vector', async () => {
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 70_000]) {
      const data = bytes(n, n + 1);
      const expected = createHash('sha256').update(data).digest('hex');
      expect(toHex(sha256(data))).toBe(expected);
      expect(await sha256Hex(data)).toBe(expected);
    }
  });

  it('hashes views into larger buffers by their own bytes', async () => {
    const big = bytes(300);
    const view = big.subarray(17, 217);
    const expected = createHash('sha256').update(view).digest('hex');
    expect(toHex(sha256(view))).toBe(expected);
    expect(await sha256Hex(view)).toBe(expected);
  });
});

describe('graphKey', () => {
  const base: GraphKeyParts = {
    kind: 'one-step',
    configs: { unet: { block_out_channels: [32, 64], sample_size: 16 } },
    weights: { unet: [{ path: 'unet/diffusion_pytorch_model.safetensors', size: 100, headerSha256: 'ab' }] },
    options: { batch: 1, latentHeight: 16, latentWidth: 16, dtype: 'float32', target: 'cpu' },
  };

  it('ignores key order, and changes with anything the graph depends on', async () => {
    const key = await graphKey(base);
    expect(key).toMatch(/^one-step-[0-9a-f]{64}$/);
    expect(await graphKey({ ...base, options: { target: 'cpu', dtype: 'float32', latentWidth: 16, latentHeight: 16, batch: 1 } })).toBe(key);
    const variants: GraphKeyParts[] = [
      { ...base, kind: 'unet-step' },
      { ...base, options: { ...base.options, dtype: 'float16' } },
      { ...base, options: { ...base.options, target: 'webgpu' } },
      { ...base, options: { ...base.options, batch: 2 } },
      { ...base, configs: { unet: { block_out_channels: [32, 65], sample_size: 16 } } },
      { ...base, weights: { unet: [{ path: 'unet/diffusion_pytorch_model.safetensors', size: 101, headerSha256: 'ab' }] } },
      { ...base, weights: { unet: [{ path: 'unet/diffusion_pytorch_model.safetensors', size: 100, headerSha256: 'ac' }] } },
    ];
    const keys = await Promise.all(variants.map(graphKey));
    expect(new Set([key, ...keys]).size).toBe(variants.length + 1);
    await expect(graphKey({ ...base, kind: 'One Step' })).rejects.toThrow(/kind/);
  });

  it('writes canonical JSON (sorted keys, non-finite numbers as strings)', () => {
    expect(canonicalJson({ b: 1, a: [Infinity, null, 'x'], c: undefined, d: { z: 1n, y: true } })).toBe('{"a":["Infinity",null,"x"],"b":1,"d":{"y":true,"z":"1n"}}');
  });
});

describe('MemoryGraphCache', () => {
  it('returns copies and drops the least recently used entries beyond its size', async () => {
    const cache = new MemoryGraphCache(10);
    const a = new Uint8Array([1, 2, 3, 4]);
    await cache.put('a', a);
    a[0] = 9;
    expect(Array.from((await cache.get('a'))!)).toEqual([1, 2, 3, 4]);
    await cache.put('b', new Uint8Array(4));
    await cache.get('a');
    await cache.put('c', new Uint8Array(4)); // 12 bytes > 10: b, the least recently used, goes
    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')].map((v) => v !== undefined)).toEqual([true, false, true]);
    await cache.put('huge', new Uint8Array(11));
    expect(await cache.get('huge')).toBeUndefined();
    expect(() => new MemoryGraphCache(-1)).toThrow(/maxBytes/);
  });
});

describe('packed graphs', () => {
  function tiny(): Graph {
    const g = new Graph({ name: 'tiny' });
    const x = g.input('x', 'float32', [2]);
    const u = new Params(g, 'unet').param('bias', [2]);
    const v = new Params(g, 'vae').child('decoder').param('w', [16, 16], 'float16');
    g.output(Add(x, u), 'y');
    g.output(v, 'v');
    return g;
  }

  it('lays parameters out per component, aligned, and round-trips through bytes', () => {
    const packed = packGraph(tiny(), [
      { component: 'unet', prefix: 'unet.' },
      { component: 'vae', prefix: 'vae.' },
    ]);
    expect(packed.manifest).toEqual({
      blobs: [
        { component: 'unet', location: 'unet.weights', size: 8, tensors: [{ key: 'bias', dtype: 'float32', shape: [2], offset: 0 }] },
        { component: 'vae', location: 'vae.weights', size: 512, tensors: [{ key: 'decoder.w', dtype: 'float16', shape: [16, 16], offset: 0 }] },
      ],
      inputs: ['x'],
      outputs: ['y', 'v'],
    });
    const back = decodePackedGraph(encodePackedGraph(packed));
    expect(back.manifest).toEqual(packed.manifest);
    expect(Array.from(back.model)).toEqual(Array.from(packed.model));
    // The model holds no weight bytes, only their external locations.
    const bound = tiny();
    bindSynthetic(bound);
    expect(toOnnx(bound).length - packed.model.length).toBeGreaterThan(300);
  });

  it('refuses parameters no component owns, and bytes that are not a packed graph', () => {
    expect(() => packGraph(tiny(), [{ component: 'unet', prefix: 'unet.' }])).toThrow(/vae\.decoder\.w belongs to no component/);
    expect(() => decodePackedGraph(new Uint8Array(4))).toThrow(/not a packed sdxs graph: wrong magic/);
    const good = encodePackedGraph(packGraph(tiny(), [{ component: 'all', prefix: '' }]));
    expect(() => decodePackedGraph(good.subarray(0, 20))).toThrow(/truncated manifest/);
    const wrongVersion = good.slice();
    wrongVersion[8] = 99;
    expect(() => decodePackedGraph(wrongVersion)).toThrow(/layout version 99/);
  });
});
