import { Add, Div, Mul, Sqrt, Sub } from '@sdxs/graph';
import { scheduleAt, type GraphUpdate, type Optimizer, type Schedule } from './types.js';

export interface AdamWOptions {
  lr: Schedule;
  /** (β1, β2), default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 1e-2 (torch's AdamW default). */
  weightDecay?: number;
}

/**
 * AdamW with torch.optim.AdamW's semantics (the default single-tensor path, amsgrad off, maximize off):
 * p ← p·(1 − lr·λ); m ← m + (1 − β1)·(g − m) (torch's lerp); v ← β2·v + (1 − β2)·g²;
 * p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε). State: `exp_avg`, `exp_avg_sq`.
 *
 * @example
 * const optimizer = adamw({ lr: 1e-4, weightDecay: 1e-2 });
 */
export function adamw(options: AdamWOptions): Optimizer {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  const eps = options.eps ?? 1e-8;
  const weightDecay = options.weightDecay ?? 1e-2;
  for (const [k, v] of [['beta1', beta1], ['beta2', beta2]] as const) if (!(v >= 0 && v < 1)) throw new RangeError(`adamw: ${k} must be in [0, 1), got ${v}`);
  if (!(eps >= 0)) throw new RangeError(`adamw: eps must be ≥ 0, got ${eps}`);
  if (!(weightDecay >= 0)) throw new RangeError(`adamw: weightDecay must be ≥ 0, got ${weightDecay}`);
  const w1 = 1 - beta1;
  const lrAt = (step: number) => scheduleAt(options.lr, step);
  return {
    name: 'adamw',
    slots: ['exp_avg', 'exp_avg_sq'],
    config: { lr: typeof options.lr === 'number' ? options.lr : 'schedule', beta1, beta2, eps, weight_decay: weightDecay },
    lrAt,
    scalars(step) {
      const lr = lrAt(step);
      return { decay: 1 - lr * weightDecay, step_size: lr / (1 - beta1 ** step), bias_correction2_sqrt: Math.sqrt(1 - beta2 ** step) };
    },
    buildUpdate(p, g, [m, v], s): GraphUpdate {
      const decayed = Mul(p, s['decay']!);
      const m1 = w1 < 0.5 ? Add(m!, Mul(Sub(g, m!), w1)) : Sub(g, Mul(Sub(g, m!), 1 - w1));
      const v1 = Add(Mul(v!, beta2), Mul(Mul(g, g), 1 - beta2));
      const denom = Add(Div(Sqrt(v1), s['bias_correction2_sqrt']!), eps);
      const param = Sub(decayed, Mul(Div(m1, denom), s['step_size']!));
      return { param, slots: [m1, v1] };
    },
    applyHost(p, g, [m, v], s, gradScale) {
      const decay = s['decay']!;
      const stepSize = s['step_size']!;
      const bc2 = s['bias_correction2_sqrt']!;
      const w2 = 1 - beta2;
      // One pass, float64 intermediates; a plain loop (no per-element calls) that V8 keeps in registers.
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]! * gradScale;
        const mj = m![j]! + w1 * (gj - m![j]!);
        const vj = v![j]! * beta2 + w2 * gj * gj;
        m![j] = mj;
        v![j] = vj;
        p[j] = p[j]! * decay - stepSize * (m![j]! / (Math.sqrt(v![j]!) / bc2 + eps));
      }
    },
  };
}

