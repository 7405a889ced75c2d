/**
 * W + Σ scale·up·down: LoRA adapters merged into a weight (Hu et al. 2021, eq. 3), for linear layers
 * ([out, in]) and convolutions ([out, in, kh, kw]: down is a conv [r, in, kh, kw], up a 1×1 conv [out, r, 1, 1],
 * so the product is up[out, r] · down[r, in·kh·kw]), as kohya's and PEFT's Conv2d LoRA define it.
 */
import { castTensor, Tensor } from '@sdxs/tensor';

/** One adapter's low-rank update of one weight: up [out, r] · down [r, cols], times `scale` (alpha/r × the user's). */
export interface LoraTerm {
  readonly up: Float32Array;
  readonly down: Float32Array;
  readonly rank: number;
  readonly scale: number;
  /** alpha/r alone (the graph-node path multiplies by the user's scale at run time). */
  readonly alphaOverRank: number;
  /** The adapter's index in the list given (its entry of `lora_scales`). */
  readonly adapter: number;
}

/**
 * The merged weight, float32: each element W + Σ_terms scale·(Σ_k up[o,k]·down[k,c]), the sums in float64 in the
 * order @sdxs/distill's mergeLoRA takes (k ascending, then W + scale·sum), rounded once to float32 — so one
 * adapter merged here and by mergeLoRA gives the same bits.
 *
 * @example
 * const merged = mergeLoraTerms(weight, [{ up, down, rank: 4, scale: 0.75 }]);
 */
export function mergeLoraTerms(weight: Tensor, terms: readonly Pick<LoraTerm, 'up' | 'down' | 'rank' | 'scale'>[]): Tensor<'float32'> {
  const w = castTensor(weight, 'float32').data;
  const rows = weight.shape[0] ?? 1;
  const cols = w.length / rows;
  const acc = Float64Array.from(w);
  const sum = new Float64Array(cols);
  for (const { up, down, rank, scale } of terms) {
    if (up.length !== rows * rank || down.length !== rank * cols) throw new RangeError(`mergeLoraTerms: up [${up.length / rank}×${rank}] · down [${rank}×${down.length / rank}] does not fit a [${weight.shape.join(', ')}] weight`);
    for (let o = 0; o < rows; o++) {
      sum.fill(0);
      let k = 0;
      // Four k at a time, each added in turn (the same order as one at a time), to load and store the sums less.
      for (; k + 4 <= rank; k += 4) {
        const [u0, u1, u2, u3] = [up[o * rank + k]!, up[o * rank + k + 1]!, up[o * rank + k + 2]!, up[o * rank + k + 3]!];
        const [d0, d1, d2, d3] = [k * cols, (k + 1) * cols, (k + 2) * cols, (k + 3) * cols];
        for (let c = 0; c < cols; c++) {
          let s = sum[c]!;
          s += u0 * down[d0 + c]!;
          s += u1 * down[d1 + c]!;
          s += u2 * down[d2 + c]!;
          s += u3 * down[d3 + c]!;
          sum[c] = s;
        }
      }
      for (; k < rank; k++) {
        const u = up[o * rank + k]!;
        const d = k * cols;
        for (let c = 0; c < cols; c++) sum[c] = sum[c]! + u * down[d + c]!;
      }
      const base = o * cols;
      for (let c = 0; c < cols; c++) acc[base + c] = acc[base + c]! + scale * sum[c]!;
    }
  }
  return new Tensor('float32', weight.shape, Float32Array.from(acc));
}
