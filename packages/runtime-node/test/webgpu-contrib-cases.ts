// One-node models of the com.microsoft ops the SD graphs could use, with the placement found on onnxruntime-node
// 1.30's WebGPU EP (recorded in docs/webgpu-ep.md; webgpu.test.ts keeps that table honest).
import { Graph, MsFastGelu, MsGelu, MsGroupNorm, MsMultiHeadAttention, MsQuickGelu, attr, toOnnx, type Attributes, type Value } from '@sdxs/graph';
import type { ChildFeed } from './webgpu-harness.js';

/** `n` deterministic values uniform in [−scale, scale], a different stream per `seed` string. */
export function values(n: number, seed: string, scale = 1): number[] {
  let s = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) s = Math.imul(s ^ seed.charCodeAt(i), 0x01000193);
  s = s >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    // Rounded to float32 so the parent's and the child's inputs are bit-identical.
    out.push(Math.fround(((s >>> 0) / 4294967296) * 2 * scale - scale));
  }
  return out;
}

export interface ContribCase {
  name: string;
  opType: string;
  /** Whether onnxruntime-node 1.30 places the op on the WebGPU EP. */
  onWebGpu: boolean;
  model(): Uint8Array;
  feeds: Record<string, ChildFeed>;
  /** 'cpu': compare with the CPU EP; a function: the CPU EP has no kernel, compare with this formula. */
  reference: 'cpu' | ((feeds: Record<string, ChildFeed>) => number[]);
}

type Shapes = Record<string, number[]>;

function feedsOf(shapes: Shapes): Record<string, ChildFeed> {
  const feeds: Record<string, ChildFeed> = {};
  for (const [name, shape] of Object.entries(shapes)) feeds[name] = { dtype: 'float32', shape, data: values(shape.reduce((a, b) => a * b, 1), name, 2) };
  return feeds;
}

function oneNode(shapes: Shapes, build: (g: Graph, inputs: Record<string, Value>) => Value): () => Uint8Array {
  return () => {
    const g = new Graph({ target: 'webgpu' });
    const inputs: Record<string, Value> = {};
    for (const [name, shape] of Object.entries(shapes)) inputs[name] = g.input(name, 'float32', shape);
    g.output(build(g, inputs), 'y');
    return toOnnx(g);
  };
}

function msNode(g: Graph, opType: string, inputs: readonly Value[], shape: number[], attributes: Attributes = {}): Value {
  return g.addNode({ opType, domain: 'com.microsoft', inputs, attributes, outputs: [{ dtype: 'float32', shape }] })[0]!;
}

function contribCase(name: string, opType: string, onWebGpu: boolean, shapes: Shapes, build: (g: Graph, i: Record<string, Value>) => Value, reference: ContribCase['reference'] = 'cpu'): ContribCase {
  return { name, opType, onWebGpu, model: oneNode(shapes, build), feeds: feedsOf(shapes), reference };
}

// Abramowitz & Stegun 7.1.26 (|error| < 1.5e−7): enough for a float32 reference.
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

const data = (feeds: Record<string, ChildFeed>, name: string): number[] => feeds[name]!.data;

/** BiasSplitGelu: t = x + bias over the last axis D; y = t[…, :D/2] · gelu(t[…, D/2:]). */
function biasSplitGelu(feeds: Record<string, ChildFeed>): number[] {
  const x = data(feeds, 'x');
  const b = data(feeds, 'bias');
  const d = b.length;
  const out: number[] = [];
  for (let row = 0; row < x.length / d; row++) {
    for (let j = 0; j < d / 2; j++) {
      const left = x[row * d + j]! + b[j]!;
      const right = x[row * d + d / 2 + j]! + b[d / 2 + j]!;
      out.push(left * 0.5 * right * (1 + erf(right / Math.SQRT2)));
    }
  }
  return out;
}

/** BiasAdd: y = x + bias (over the last axis) + skip. */
function biasAdd(feeds: Record<string, ChildFeed>): number[] {
  const b = data(feeds, 'bias');
  const skip = data(feeds, 'skip');
  return data(feeds, 'x').map((v, i) => v + b[i % b.length]! + skip[i]!);
}

export const CONTRIB_CASES: readonly ContribCase[] = [
  contribCase('MultiHeadAttention', 'MultiHeadAttention', true, { q: [1, 16, 64], k: [1, 8, 64], v: [1, 8, 64] }, (_g, i) => MsMultiHeadAttention(i.q!, i.k!, i.v!, undefined, { heads: 8 })),
  contribCase('MultiHeadAttention+bias', 'MultiHeadAttention', true, { q: [1, 16, 32], k: [1, 16, 32], v: [1, 16, 32], mask: [1, 1, 16, 16] }, (_g, i) =>
    MsMultiHeadAttention(i.q!, i.k!, i.v!, i.mask!, { heads: 4 }),
  ),
  contribCase('MultiHeadAttention+causal', 'MultiHeadAttention', true, { q: [1, 16, 32], k: [1, 16, 32], v: [1, 16, 32] }, (_g, i) =>
    MsMultiHeadAttention(i.q!, i.k!, i.v!, undefined, { heads: 4, unidirectional: true }),
  ),
  contribCase('Gelu', 'Gelu', true, { x: [2, 64] }, (_g, i) => MsGelu(i.x!)),
  contribCase('QuickGelu', 'QuickGelu', true, { x: [2, 64] }, (_g, i) => MsQuickGelu(i.x!)),
  contribCase('FastGelu+bias', 'FastGelu', true, { x: [2, 64], bias: [64] }, (_g, i) => MsFastGelu(i.x!, i.bias!)),
  contribCase('SkipLayerNormalization', 'SkipLayerNormalization', true, { x: [1, 4, 64], skip: [1, 4, 64], gamma: [64], beta: [64] }, (g, i) =>
    msNode(g, 'SkipLayerNormalization', [i.x!, i.skip!, i.gamma!, i.beta!], [1, 4, 64], { epsilon: attr.float(1e-5) }),
  ),
  contribCase('BiasSplitGelu', 'BiasSplitGelu', true, { x: [1, 4, 64], bias: [64] }, (g, i) => msNode(g, 'BiasSplitGelu', [i.x!, i.bias!], [1, 4, 32]), biasSplitGelu),
  contribCase('BiasAdd', 'BiasAdd', true, { x: [1, 4, 64], bias: [64], skip: [1, 4, 64] }, (g, i) => msNode(g, 'BiasAdd', [i.x!, i.bias!, i.skip!], [1, 4, 64]), biasAdd),
  contribCase('GroupNorm', 'GroupNorm', false, { x: [1, 4, 4, 32], gamma: [32], beta: [32] }, (_g, i) => MsGroupNorm(i.x!, i.gamma!, i.beta!, { groups: 8 })),
  contribCase('SkipGroupNorm', 'SkipGroupNorm', false, { x: [1, 4, 4, 32], gamma: [32], beta: [32], skip: [1, 4, 4, 32] }, (g, i) =>
    msNode(g, 'SkipGroupNorm', [i.x!, i.gamma!, i.beta!, i.skip!], [1, 4, 4, 32], { groups: attr.int(8), epsilon: attr.float(1e-5), activation: attr.int(0), channels_last: attr.int(1) }),
  ),
];
