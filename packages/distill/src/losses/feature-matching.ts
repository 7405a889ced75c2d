import { Add, Div, Split, Sub, stopGradient, type Value } from '@sdxs/graph';
import { ssim } from './ssim.js';

/** The SSIM window for a feature map of side `h`: the paper's 11 does not fit small latents and their features. */
export function ssimWindowFor(h: number): { windowSize: number; sigma: number } {
  if (h >= 11) return { windowSize: 11, sigma: 1.5 };
  if (h >= 8) return { windowSize: 5, sigma: 1.5 };
  if (h >= 4) return { windowSize: 3, sigma: 1 };
  return { windowSize: 1, sigma: 1 };
}

/**
 * Multi-layer SSIM feature matching (SDXS eq. 10): each layer holds [student; target] along the batch (one pass of
 * the frozen extractor over both); the loss is the mean over layers of 1 − SSIM(student half, target half), the
 * target half taken as a constant.
 *
 * @example
 * const loss = featureMatchingLoss([both, ...unetDownPath(teacher, config, { sample: both, … }).skips]);
 */
export function featureMatchingLoss(layers: readonly Value[]): Value {
  if (layers.length === 0) throw new RangeError('featureMatchingLoss: no layers');
  let total: Value | undefined;
  for (const f of layers) {
    const [a, b] = Split(f, 2, 0) as [Value, Value];
    const term = Sub(1, ssim(a, stopGradient(b), ssimWindowFor(Number(f.shape[2]))));
    total = total ? Add(total, term) : term;
  }
  return Div(total!, layers.length);
}
