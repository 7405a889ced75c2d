import { Add, GraphError, MatMul, Mul, replaceReads, type Graph } from '@sdxs/graph';
import { Generator, Tensor } from '@sdxs/tensor';
import { float32Data } from '../tensors.js';

import type { TrainableParam } from './trainable.js';

export interface LoraOptions {
  /** The adapters' rank r. */
  rank: number;
  /** The scale's numerator: the update is (alpha / r)·B·A (default r, i.e. scale 1). */
  alpha?: number;
  /**
   * Modules to adapt, matched on the module path (the weight's key without `.weight`); default the attention
   * projections `to_q`, `to_k`, `to_v`, `to_out.0` (peft's usual `target_modules` for diffusers U-Nets).
   */
  targets?: RegExp;
  /** Draws A (default: a fresh generator with torch's default seed). */
  generator?: Generator;
}

/** The default LoRA targets: every attention projection. */
export const LORA_ATTENTION_TARGETS = /(^|\.)(to_q|to_k|to_v|to_out\.0)$/;

/** What `addLoRA` added: the adapters (the only parameters to train) and their scale. */
export interface LoraAdapters {
  readonly params: TrainableParam[];
  /** Adapted modules, e.g. `down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q`. */
  readonly modules: string[];
  readonly scale: number;
}

/**
 * Low-rank adapters (Hu et al. 2021) on the linear layers of `g` whose module path matches `targets`: each frozen
 * weight W [out, in] is read as W + (alpha/r)·B·A with A [r, in] and B [out, r] new float32 inputs under peft's
 * names (`<module>.lora_A.weight`, `<module>.lora_B.weight`). B starts at zero, so the adapted model starts equal
 * to the original; A starts N(0, 1/r²) (peft's `init_lora_weights="gaussian"`). W stays an initializer: train
 * the returned params only. The merged weight is formed once per step (r·in·out multiply-adds per layer), which
 * keeps the model code untouched.
 *
 * @example
 * const { graph } = buildUNetGraph(config, { lowering: { attention: 'decomposed', groupNorm: 'instance-norm' } });
 * await bindCheckpoint(graph, files);
 * const lora = addLoRA(graph, { rank: 4 });
 * const trainer = await Trainer.create({ runtime, graph, loss, trainable: lora.params, optimizer: adamw({ lr: 1e-4 }) });
 */
export function addLoRA(g: Graph, options: LoraOptions): LoraAdapters {
  const { rank } = options;
  if (!Number.isInteger(rank) || rank < 1) throw new GraphError('addLoRA', `the rank must be a positive integer, got ${rank}`);
  const alpha = options.alpha ?? rank;
  const scale = alpha / rank;
  const targets = options.targets ?? LORA_ATTENTION_TARGETS;
  const generator = options.generator ?? new Generator();
  const params: TrainableParam[] = [];
  const modules: string[] = [];
  for (const name of [...g.parameterNames]) {
    if (!name.endsWith('.weight')) continue;
    const module = name.slice(0, -'.weight'.length);
    if (!targets.test(module)) continue;
    const w = g.value(name);
    if (w.rank !== 2 || w.dtype !== 'float32') throw new GraphError('addLoRA', `${name} is ${w}; LoRA adapts float32 linear weights [out, in]`);
    const [out, inF] = w.shape as [number, number];
    const a = g.input(`${module}.lora_A.weight`, 'float32', [rank, inF]);
    const b = g.input(`${module}.lora_B.weight`, 'float32', [out, rank]);
    replaceReads(g, name, () => Add(w, Mul(MatMul(b, a), scale)));
    const aInit = generator.randn([rank, inF]);
    for (let i = 0; i < aInit.data.length; i++) aInit.data[i] = aInit.data[i]! / rank;
    params.push({ name: a.name, input: a, init: aInit, modelDType: 'float32' });
    params.push({ name: b.name, input: b, init: Tensor.zeros('float32', [out, rank]), modelDType: 'float32' });
    modules.push(module);
  }
  if (modules.length === 0) throw new GraphError('addLoRA', `no float32 linear weight matches ${targets}`);
  return { params, modules, scale };
}

/**
 * The merged weights W + (alpha/r)·B·A of adapted modules, computed in float64 and rounded once, for exporting a
 * LoRA-trained model as plain weights (loads anywhere, no adapter code needed).
 *
 * @example
 * const merged = mergeLoRA(frozenWeights, trainer.params(), lora);
 */
export function mergeLoRA(weights: ReadonlyMap<string, Tensor>, adapters: ReadonlyMap<string, Tensor>, lora: Pick<LoraAdapters, 'modules' | 'scale'>): Map<string, Tensor> {
  const out = new Map(weights);
  for (const m of lora.modules) {
    const w = weights.get(`${m}.weight`);
    const a = adapters.get(`${m}.lora_A.weight`);
    const b = adapters.get(`${m}.lora_B.weight`);
    if (!w || !a || !b) throw new Error(`mergeLoRA: ${m} needs its weight, lora_A and lora_B`);
    const [o, i] = w.shape as [number, number];
    const r = a.shape[0]!;
    const merged = new Float32Array(o * i);
    const wd = float32Data(w, `${m}.weight`);
    const ad = float32Data(a, `${m}.lora_A.weight`);
    const bd = float32Data(b, `${m}.lora_B.weight`);
    for (let y = 0; y < o; y++) {
      for (let x = 0; x < i; x++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += bd[y * r + k]! * ad[k * i + x]!;
        merged[y * i + x] = wd[y * i + x]! + lora.scale * s;
      }
    }
    out.set(`${m}.weight`, new Tensor('float32', [o, i], merged));
  }
  return out;
}
