/**
 * diffusers' `VaeImageProcessor.postprocess` inside the graph: the decoder's [-1, 1] NCHW output becomes
 * the float image diffusers returns for `output_type="np"` ([N, H, W, 3] in [0, 1]) and the 8-bit RGBA
 * pixels `numpy_to_pil` would make ((x · 255).round() as uint8, alpha 255), so the runtime hands back
 * bytes ready for a canvas or a PNG encoder.
 */
import { Add, Cast, Clip, Concat, Expand, Mul, Round, Transpose, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';

export interface PostprocessedImages {
  /** [N, H, W, 3] float32 in [0, 1]. */
  readonly image: Value;
  /** [N, H, W, 4] uint8, alpha 255. */
  readonly rgba: Value;
}

/**
 * `decoded` [N, 3, H, W] float32 in [-1, 1] (static dims) → the float image and RGBA bytes.
 *
 * @example
 * const { image, rgba } = postprocessImages(vae.decode(root, latents));
 */
export function postprocessImages(decoded: Value): PostprocessedImages {
  const [n, c, h, w] = decoded.shape;
  if (decoded.dtype !== 'float32' || c !== 3 || typeof n !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
    throw new Error(`postprocessImages: needs a float32 [N, 3, H, W] image with known dims, got ${decoded}`);
  }
  // denormalize: (x * 0.5 + 0.5).clamp(0, 1), as two float32 ops like torch.
  const unit = Clip(Add(Mul(decoded, 0.5), 0.5), 0, 1);
  const image = Transpose(unit, [0, 2, 3, 1]);
  // The alpha plane joins before rounding so that the only uint8 op is the final Cast (WebGPU has few
  // uint8 kernels; a Cast falling back to the CPU costs little, a Concat would cost a copy).
  // Expanded from one value rather than stored: a constant plane would put megabytes into the model.
  const alpha = Expand(image.graph.constant(new Tensor('float32', [1, 1, 1, 1], Float32Array.of(255)), 'alpha'), [n, h, w, 1]);
  const rgba = Cast(Round(Concat([Mul(image, 255), alpha], 3)), 'uint8');
  return { image, rgba };
}
