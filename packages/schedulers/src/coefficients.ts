/**
 * Evaluates {@link StepCoefficients} on tensors the way a float32 graph does: coefficients rounded to float32
 * constants, one rounding per Mul/Add/Div/Clip. A pipeline that folds a step into its ONNX graph can test
 * the graph against this, and this against `step()`.
 */
import { formatShape, Tensor } from '@sdxs/tensor';
import { map1 } from './common/elementwise.js';
import { f32 } from './common/float32.js';
import type { StepCoefficients } from './scheduler.js';

/** What one step computes from the coefficients. */
export interface CoefficientStep {
  /** The U-Net input: `sample / inputDivisor`. */
  readonly modelInput: Tensor<'float32'>;
  /** x0 after the optional clamp. */
  readonly predOriginalSample: Tensor<'float32'>;
  readonly prevSample: Tensor<'float32'>;
}

/**
 * `modelInput` from `sample` alone (call before the model runs), then x0 and the next sample from the model
 * output; `noise` is required when `prevCoef.noise` is not 0.
 *
 * @example
 * const c = scheduler.stepCoefficients(999);
 * const { modelInput } = applyStepCoefficients(c, latents);
 * const { prevSample } = applyStepCoefficients(c, latents, unet(modelInput));
 */
export function applyStepCoefficients(
  c: StepCoefficients,
  sample: Tensor<'float32'>,
  modelOutput: Tensor<'float32'> = sample,
  noise?: Tensor<'float32'>,
): CoefficientStep {
  for (const [name, t] of [['modelOutput', modelOutput], ['noise', noise]] as const) {
    if (t !== undefined && t.size !== sample.size) {
      throw new RangeError(`applyStepCoefficients: ${name} of shape ${formatShape(t.shape)} for a sample of shape ${formatShape(sample.shape)}`);
    }
  }
  if (c.prevCoef.noise !== 0 && noise === undefined) throw new Error('applyStepCoefficients: this step adds noise; pass a noise tensor');
  const divisor = f32(c.inputDivisor);
  const modelInput = map1(sample, (x) => x / divisor);
  const xs = f32(c.x0Coef.sample);
  const xm = f32(c.x0Coef.modelOutput);
  const clip = c.x0Coef.clip === null ? Infinity : f32(c.x0Coef.clip);
  const ps = f32(c.prevCoef.sample);
  const pm = f32(c.prevCoef.modelOutput);
  const px = f32(c.prevCoef.predOriginal);
  const pn = f32(c.prevCoef.noise);
  const s = sample.data;
  const m = modelOutput.data;
  const n = noise?.data;
  const x0 = new Float32Array(s.length);
  const prev = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const x = Math.min(Math.max(f32(f32(xs * s[i]!) + f32(xm * m[i]!)), -clip), clip);
    x0[i] = x;
    const base = f32(f32(f32(ps * s[i]!) + f32(pm * m[i]!)) + f32(px * x));
    prev[i] = n === undefined ? base : base + f32(pn * n[i]!);
  }
  const shape = sample.shape;
  return { modelInput, predOriginalSample: new Tensor('float32', shape, x0), prevSample: new Tensor('float32', shape, prev) };
}
