import { Add, Mul, Sub } from '@sdxs/graph';
import { scheduleAt, type GraphUpdate, type Optimizer, type Schedule } from './types.js';

export interface SgdOptions {
  lr: Schedule;
  /** Default 0 (plain SGD, no state). */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient (coupled, torch's SGD semantics), default 0. */
  weightDecay?: number;
  /** Nesterov momentum, default off; needs momentum > 0 and dampening 0 (torch's rule). */
  nesterov?: boolean;
}

/**
 * SGD with torch.optim.SGD's semantics: d = g + λ·p; with momentum, b ← d on the first step, else
 * b ← μ·b + (1 − dampening)·d, and d = b (or d + μ·b with Nesterov); p ← p − lr·d. State: `momentum_buffer`
 * when momentum > 0. The first step's "b ← d" is fed as μ = 0 and (1 − dampening) = 1, one graph for every step.
 *
 * @example
 * const optimizer = sgd({ lr: 0.1, momentum: 0.9 });
 */
export function sgd(options: SgdOptions): Optimizer {
  const momentum = options.momentum ?? 0;
  const dampening = options.dampening ?? 0;
  const weightDecay = options.weightDecay ?? 0;
  const nesterov = options.nesterov ?? false;
  if (!(momentum >= 0)) throw new RangeError(`sgd: momentum must be ≥ 0, got ${momentum}`);
  if (!(weightDecay >= 0)) throw new RangeError(`sgd: weightDecay must be ≥ 0, got ${weightDecay}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError('sgd: Nesterov momentum requires a momentum and zero dampening');
  const lrAt = (step: number) => scheduleAt(options.lr, step);
  const hasBuffer = momentum !== 0;
  return {
    name: 'sgd',
    slots: hasBuffer ? ['momentum_buffer'] : [],
    config: { lr: typeof options.lr === 'number' ? options.lr : 'schedule', momentum, dampening, weight_decay: weightDecay, nesterov },
    lrAt,
    scalars(step) {
      const first = step === 1;
      return { lr: lrAt(step), buffer_decay: first ? 0 : momentum, grad_weight: first ? 1 : 1 - dampening };
    },
    buildUpdate(p, g, slots, s): GraphUpdate {
      let d = weightDecay !== 0 ? Add(g, Mul(p, weightDecay)) : g;
      const out = [];
      if (hasBuffer) {
        const b = Add(Mul(slots[0]!, s['buffer_decay']!), Mul(d, s['grad_weight']!));
        out.push(b);
        d = nesterov ? Add(d, Mul(b, momentum)) : b;
      }
      return { param: Sub(p, Mul(d, s['lr']!)), slots: out };
    },
    applyHost(p, g, slots, s, gradScale) {
      const lr = s['lr']!;
      const bd = s['buffer_decay']!;
      const gw = s['grad_weight']!;
      const buf = slots[0];
      for (let j = 0; j < p.length; j++) {
        let d = g[j]! * gradScale + weightDecay * p[j]!;
        if (buf) {
          buf[j] = buf[j]! * bd + d * gw;
          d = nesterov ? d + momentum * buf[j]! : buf[j]!;
        }
        p[j] = p[j]! - lr * d;
      }
    },
  };
}
