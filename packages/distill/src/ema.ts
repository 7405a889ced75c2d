import type { Tensor } from '@sdxs/tensor';
import { float32Copy, float32Data } from './tensors.js';

/** diffusers' `EMAModel` settings (training/ema_model in diffusers), warmup off. */
export interface EmaOptions {
  /** The largest decay (default 0.9999). */
  decay?: number;
  /** The smallest decay (default 0). */
  minDecay?: number;
  /** Steps before averaging starts (default 0). */
  updateAfterStep?: number;
}

/**
 * An exponential moving average of the trained weights, with diffusers' EMAModel semantics: at optimizer step t
 * the decay is min((1 + s)/(10 + s), decay) with s = t − updateAfterStep − 1 (0 while s ≤ 0, so the average starts
 * as a copy), floored at minDecay, and each shadow moves by (1 − decay)·(shadow − param). Kept in TypeScript on
 * float32 arrays: one pass per step, no graph outputs.
 *
 * @example
 * const ema = new Ema(trainer.params(), { decay: 0.999 });
 * ema.update(trainer.params(), step);
 */
export class Ema {
  readonly decay: number;
  readonly minDecay: number;
  readonly updateAfterStep: number;
  readonly shadows: Map<string, Tensor<'float32'>>;

  constructor(params: ReadonlyMap<string, Tensor>, options: EmaOptions = {}) {
    this.decay = options.decay ?? 0.9999;
    this.minDecay = options.minDecay ?? 0;
    this.updateAfterStep = options.updateAfterStep ?? 0;
    if (!(this.decay >= 0 && this.decay <= 1)) throw new RangeError(`Ema: decay must be in [0, 1], got ${this.decay}`);
    this.shadows = new Map([...params].map(([k, v]) => [k, float32Copy(v)]));
  }

  /** The decay used at optimizer step `step` (1-based). */
  decayAt(step: number): number {
    const s = Math.max(0, step - this.updateAfterStep - 1);
    if (s <= 0) return 0;
    return Math.max(Math.min((1 + s) / (10 + s), this.decay), this.minDecay);
  }

  /** Move every shadow toward the parameters after optimizer step `step`. */
  update(params: ReadonlyMap<string, Tensor>, step: number): void {
    const k = 1 - this.decayAt(step);
    for (const [name, shadow] of this.shadows) {
      const p = params.get(name);
      if (!p) throw new Error(`Ema: no parameter ${name}`);
      const s = float32Data(shadow, name);
      const v = float32Data(p, name);
      for (let j = 0; j < s.length; j++) s[j] = s[j]! - Math.fround(k * (s[j]! - v[j]!));
    }
  }
}
