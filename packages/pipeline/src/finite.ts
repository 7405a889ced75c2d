/**
 * Non-finite numbers are an error, not a black image: the graphs compute a check scalar per component
 * (builders.ts `finiteCheck`: 0 when every value is finite) and the pipelines read it with the pixels.
 */
import type { Tensor } from '@sdxs/tensor';

/** Which component produced NaN or ∞ (`unet`, `vae`, `text_encoder`, `controlnet`). */
export class NonFiniteError extends Error {
  override readonly name = 'NonFiniteError';
  readonly component: string;

  constructor(component: string, where: string, float16: boolean) {
    super(
      `the ${component} produced NaN or infinite values (${where}): its weights hold non-finite numbers${float16 ? ', or float16 overflowed (try float32)' : ''}; no image was made`,
    );
    this.component = component;
  }
}

/** The check outputs a graph has, by component. */
export const FINITE_CHECKS = { unet: 'unet_check', vae: 'vae_check' } as const;

/**
 * Throw when a graph's check output says its component went non-finite.
 *
 * @example
 * throwIfNotFinite(result, { vae: 'models/sdxs/vae' }, false);
 */
export function throwIfNotFinite(outputs: Readonly<Record<string, Tensor>>, where: Readonly<Partial<Record<keyof typeof FINITE_CHECKS, string>>>, float16: boolean): void {
  // The U-Net first: its NaNs reach the decoder too, and the earlier component is the one to blame.
  for (const component of ['unet', 'vae'] as const) {
    const check = outputs[FINITE_CHECKS[component]];
    if (check && check.data[0] !== 0) throw new NonFiniteError(component, where[component] ?? component, float16);
  }
}

/** Throw when a tensor computed in TypeScript-driven steps (latents, prompt embeddings) holds NaN or ∞. */
export function throwIfTensorNotFinite(t: Tensor, component: string, where: string, float16: boolean): void {
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i] as number)) throw new NonFiniteError(component, where, float16);
  }
}
