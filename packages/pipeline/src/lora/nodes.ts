/**
 * LoRA adapters as graph nodes instead of merged weights: every adapted weight W is read as
 * W + Σₖ sₖ·(upₖ·downₖ), with the adapters' scales sₖ a graph input (`lora_scales`, one per adapter) and their
 * factors parameters beside W. Changing a scale is then a different input, not a different graph: no rebuild,
 * no new session (diffusers' `set_adapters(…, adapter_weights=…)`). The price is the r·out·in multiply-adds per
 * adapted weight on every run, and weights that onnxruntime can no longer pre-pack (BENCHMARKS.md has the cost).
 * The merged path (merge.ts) stays the default.
 */
import { Add, Cast, MatMul, Mul, replaceReads, Reshape, Slice, type Graph, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import type { ComponentPrefix } from '../graphs/packed-graph.js';
import type { ComponentWeights } from '../model/weights.js';
import type { LoraTerm } from './merge.js';

/** The graph input holding one scale per adapter, in the order the adapters were given. */
export const LORA_SCALES_INPUT = 'lora_scales';

/** A factor of one adapter term on a weight, as the graph names it. */
export interface LoraNodeKey {
  /** The adapted weight's key, e.g. `down_blocks.0.attentions.0.proj_in.weight`. */
  readonly weight: string;
  /** The term's index among the weight's terms. */
  readonly term: number;
  readonly factor: 'up' | 'down';
}

const NODE_KEY = /^(.*)\.lora_(up|down)\.(\d+)\.weight$/;

/**
 * The parameter name of a term's factor: `<module>.lora_up.<term>.weight` beside `<module>.weight` (kohya's
 * `lora_up`/`lora_down` words, so that a dump reads like the file it came from).
 *
 * @example
 * loraNodeKey({ weight: 'conv1.weight', term: 0, factor: 'down' }); // 'conv1.lora_down.0.weight'
 */
export function loraNodeKey(k: LoraNodeKey): string {
  if (!k.weight.endsWith('.weight')) throw new Error(`loraNodeKey: ${k.weight} is not a weight key`);
  return `${k.weight.slice(0, -'.weight'.length)}.lora_${k.factor}.${k.term}.weight`;
}

/** The term factor a parameter name stands for, or undefined for an ordinary weight. */
export function parseLoraNodeKey(key: string): LoraNodeKey | undefined {
  const m = NODE_KEY.exec(key);
  return m ? { weight: `${m[1]!}.weight`, term: Number(m[3]), factor: m[2] as 'up' | 'down' } : undefined;
}

/**
 * A term's factor as the graph reads it, float32: `down` [r, in·kh·kw] as stored, `up` [out, r] times alpha/r, so
 * that the graph multiplies by the user's scale alone.
 */
export function loraNodeTensor(terms: readonly LoraTerm[] | undefined, k: LoraNodeKey, where: string): Tensor<'float32'> {
  const t = terms?.[k.term];
  if (!t) throw new Error(`${where}: the graph reads LoRA factor ${loraNodeKey(k)}, which no adapter provides`);
  if (k.factor === 'down') return new Tensor('float32', [t.rank, t.down.length / t.rank], t.down);
  const up = Float32Array.from(t.up, (v) => v * t.alphaOverRank);
  return new Tensor('float32', [t.up.length / t.rank, t.rank], up);
}

/**
 * Rewrite `g` so that every weight of `components` that has adapters in node mode reads W + Σ sₖ·upₖ·downₖ (the
 * delta formed in float32, cast to W's dtype, then added). Adds the `lora_scales` input [adapters] when any weight
 * of the graph is adapted; returns the number of weights rewritten.
 *
 * @example
 * addLoraNodes(graph, IMAGE_COMPONENTS, { unet, vae }, 2); // unet weights with adapters now read lora_scales
 */
export function addLoraNodes(g: Graph, components: readonly ComponentPrefix[], weights: Readonly<Record<string, ComponentWeights | undefined>>, adapters: number): number {
  let scales: Value | undefined;
  let rewritten = 0;
  for (const { component, prefix } of components) {
    const lora = weights[component]?.lora;
    if (!lora || lora.mode !== 'nodes') continue;
    for (const [key, terms] of lora.terms) {
      const name = prefix + key;
      if (!g.parameterNames.has(name)) continue; // a weight this graph does not read
      const input = (scales ??= g.input(LORA_SCALES_INPUT, 'float32', [adapters]));
      const w = g.value(name);
      const rows = w.shape[0] as number;
      replaceReads(g, name, () => {
        let delta: Value | undefined;
        terms.forEach((t, term) => {
          const up = g.parameter(prefix + loraNodeKey({ weight: key, term, factor: 'up' }), 'float32', [rows, t.rank]);
          const down = g.parameter(prefix + loraNodeKey({ weight: key, term, factor: 'down' }), 'float32', [t.rank, t.down.length / t.rank]);
          const scaled = Mul(MatMul(up, down), Slice(input, [t.adapter], [t.adapter + 1], [0]));
          delta = delta ? Add(delta, scaled) : scaled;
        });
        const shaped = w.rank === 2 ? delta! : Reshape(delta!, w.shape as number[]);
        return Add(w, w.dtype === 'float32' ? shaped : Cast(shaped, w.dtype));
      });
      rewritten++;
    }
  }
  return rewritten;
}
