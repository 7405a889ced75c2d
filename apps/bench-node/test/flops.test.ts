import { describe, expect, it } from 'vitest';
import { Conv, Gemm, Graph, MatMul, MsMultiHeadAttention } from '@sdxs/graph';
import { countFlops } from '../src/models/flops.js';
import { parseModelsOptions } from '../src/models/options.js';
import { SDXS512_UNET } from '../src/models/full-size-configs.js';
import { buildUNetGraph } from '@sdxs/unet';

describe('countFlops', () => {
  it('counts 2·M·N·K for MatMul and Gemm, batched MatMul per batch', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', [3, 5, 7]);
    const b = g.input('b', 'float32', [7, 11]);
    g.output(MatMul(a, b), 'y');
    const x = g.input('x', 'float32', [4, 6]);
    const w = g.input('w', 'float32', [9, 6]);
    g.output(Gemm(x, w, undefined, { transB: true }), 'z');
    const c = countFlops(g);
    expect(c.byOp).toEqual({ MatMul: 2 * 3 * 5 * 11 * 7, Gemm: 2 * 4 * 9 * 6 });
    expect(c.total).toBe(2 * 3 * 5 * 11 * 7 + 2 * 4 * 9 * 6);
  });

  it('counts 2·N·Cout·Hout·Wout·Cin/groups·kh·kw for Conv', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 8, 10, 10]);
    g.output(Conv(x, g.input('w', 'float32', [16, 4, 3, 3]), undefined, { pads: [1, 1, 1, 1], group: 2 }), 'y');
    expect(countFlops(g).total).toBe(2 * 2 * 16 * 10 * 10 * 4 * 3 * 3);
  });

  it('counts both products of com.microsoft.MultiHeadAttention', () => {
    const g = new Graph();
    const q = g.input('q', 'float32', [2, 10, 64]);
    const kv = g.input('kv', 'float32', [2, 7, 64]);
    g.output(MsMultiHeadAttention(q, kv, kv, undefined, { heads: 8 }), 'y');
    expect(countFlops(g).total).toBe(2 * 2 * 10 * 7 * 64 * 2);
  });

  it('reports nodes whose shapes are symbolic instead of guessing', () => {
    const g = new Graph();
    g.output(MatMul(g.input('a', 'float32', ['n', 4]), g.input('b', 'float32', [4, 4])), 'y');
    expect(countFlops(g).symbolic).toHaveLength(1);
  });

  it('gives docs/DESIGN.md’s 369 GFLOP for the SDXS-512 U-Net at a 64×64 latent', () => {
    const { graph } = buildUNetGraph(SDXS512_UNET, { batch: 1, height: 64, width: 64, timestep: 'scalar' });
    expect(graph.parameterCount()).toBe(315_746_244);
    expect(countFlops(graph).total / 1e9).toBeCloseTo(369.3, 1);
  });
});

describe('parseModelsOptions', () => {
  it('has short-run defaults and refuses unknown options', () => {
    expect(parseModelsOptions(['--sizes', '256', '--runs', '2', '--fused', 'off'])).toMatchObject({ sizes: [256], batches: [1, 4], runs: 2, ep: 'cpu', fused: false, loadCheck: true });
    expect(() => parseModelsOptions(['--size', '256'])).toThrow(/unknown option --size/);
    expect(() => parseModelsOptions(['--sizes', '250'])).toThrow(/multiple of 32/);
    expect(() => parseModelsOptions(['--ep', 'tpu'])).toThrow(/not one of cpu, webgpu, cuda/);
  });
});
