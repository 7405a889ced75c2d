import type { Schedule } from '../optim/types.js';

/**
 * Linear warm-up over `warmup` steps to `lr`, then a cosine decay to `floor`·lr at `steps` (diffusers'
 * get_cosine_schedule_with_warmup with a floor).
 */
export function cosineWithWarmup(lr: number, steps: number, warmup: number, floor = 0.05): Schedule {
  return (step: number) => {
    if (step <= warmup) return (lr * step) / Math.max(1, warmup);
    const p = Math.min(1, (step - warmup) / Math.max(1, steps - warmup));
    return lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
  };
}
