/**
 * The denoiser part of StableDiffusionPipeline.__call__ as graph nodes: the U-Net on the (doubled, for
 * classifier-free guidance) latents and the guidance mix, plus the scheduler step folded into constants.
 */
import { Add, Cast, Clip, Concat, Mul, Split, Sub, type Params, type Value } from '@sdxs/graph';
import type { DType } from '@sdxs/tensor';
import { unet2DCondition, type UNet2DConditionConfig } from '@sdxs/unet';

export interface GuidedUNetInputs {
  /** The scaled model input [B, C, h, w], float32. */
  readonly sample: Value;
  /** float32 [] — one timestep for the whole batch. */
  readonly timestep: Value;
  /** [B, T, D] float32, or [2B, T, D] (negative first, then positive) with guidance. */
  readonly encoderHiddenStates: Value;
  /** SDXL's `added_cond_kwargs`: text_embeds [B or 2B, n] and time_ids [B or 2B, 6], float32, rows as the context's. */
  readonly textEmbeds?: Value | undefined;
  readonly timeIds?: Value | undefined;
  /** float32 [] guidance scale; present exactly when classifier-free guidance is on. */
  readonly guidanceScale?: Value;
  /** ControlNet residuals (for the doubled batch with guidance), added to the U-Net's skips and mid block. */
  readonly controlnet?: { readonly down: readonly Value[]; readonly mid: Value };
}

/**
 * `noise_pred` of StableDiffusionPipeline: the U-Net on `sample` (twice, as `torch.cat([latents] * 2)`, with
 * guidance) and `uncond + g · (cond − uncond)`. The U-Net runs in `dtype`; the result is float32.
 *
 * @example
 * const eps = guidedNoisePrediction(new Params(g, 'unet', 'float32'), config, { sample, timestep, encoderHiddenStates });
 */
export function guidedNoisePrediction(root: Params, config: UNet2DConditionConfig, inputs: GuidedUNetInputs): Value {
  const dtype: DType = root.dtype;
  const { guidanceScale } = inputs;
  const doubled = guidanceScale ? Concat([inputs.sample, inputs.sample], 0) : inputs.sample;
  const toModel = (v: Value): Value => (v.dtype === dtype ? v : Cast(v, dtype));
  const { sample: out } = unet2DCondition(root, config, {
    sample: toModel(doubled),
    timestep: inputs.timestep,
    encoderHiddenStates: toModel(inputs.encoderHiddenStates),
    ...(inputs.textEmbeds ? { textEmbeds: inputs.textEmbeds } : {}),
    ...(inputs.timeIds ? { timeIds: inputs.timeIds } : {}),
    ...(inputs.controlnet ? { downBlockAdditionalResiduals: inputs.controlnet.down.map(toModel), midBlockAdditionalResidual: toModel(inputs.controlnet.mid) } : {}),
  });
  const pred = out.dtype === 'float32' ? out : Cast(out, 'float32');
  if (!guidanceScale) return pred;
  const [uncond, cond] = Split(pred, 2, 0) as [Value, Value];
  return Add(uncond, Mul(guidanceScale, Sub(cond, uncond)));
}

/**
 * Σ cᵢ·vᵢ over the non-zero coefficients, written the way diffusers' formulas are (`a − σ·ε` as a Sub of a
 * product, unit coefficients without a multiply), so that float32 results match its ops where they can.
 */
export function linearCombination(terms: readonly (readonly [number, Value])[]): Value {
  const nonZero = terms.filter(([c]) => c !== 0);
  // Positive terms first, so that negative ones become subtractions.
  nonZero.sort(([a], [b]) => Number(a < 0) - Number(b < 0));
  let acc: Value | undefined;
  for (const [c, v] of nonZero) {
    const scaled = (k: number): Value => (k === 1 ? v : Mul(v, k));
    if (acc === undefined) acc = scaled(c);
    else acc = c > 0 ? Add(acc, scaled(c)) : Sub(acc, scaled(-c));
  }
  const first = terms[0];
  if (!first) throw new Error('linearCombination: no terms');
  return acc ?? Mul(first[1], 0);
}

/** Scalars of one folded scheduler step (a scheduler's `stepCoefficients(t)`). */
export interface FoldedStep {
  readonly inputDivisor: number;
  readonly x0Coef: { readonly sample: number; readonly modelOutput: number; readonly clip: number | null };
  readonly prevCoef: { readonly sample: number; readonly modelOutput: number; readonly predOriginal: number; readonly noise: number };
}

/**
 * The step's output from `sample`, the model output and (when the step is stochastic) standard normal
 * `noise`: x0 = clamp(a·x + b·ε), prev = c·x + d·ε + e·x0 + f·noise.
 */
export function foldedStep(step: FoldedStep, sample: Value, modelOutput: Value, noise?: Value): Value {
  const x = step.x0Coef;
  let x0 = linearCombination([
    [x.sample, sample],
    [x.modelOutput, modelOutput],
  ]);
  if (x.clip !== null) x0 = Clip(x0, -x.clip, x.clip);
  const p = step.prevCoef;
  if (p.noise !== 0 && !noise) throw new Error('foldedStep: the step is stochastic; give the noise input');
  const terms: [number, Value][] = [
    [p.sample, sample],
    [p.modelOutput, modelOutput],
    [p.predOriginal, x0],
  ];
  if (noise && p.noise !== 0) terms.push([p.noise, noise]);
  return linearCombination(terms);
}
