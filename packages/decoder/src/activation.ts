// diffusers.models.activations.get_activation: the activations a VAE config may name in `act_fn`.
import { Add, Exp, Log, Mul, Relu, Tanh, gelu, silu, type Value } from '@sdxs/graph';

/** The `act_fn` names diffusers' `ACT2CLS` knows ("swish" and "silu" are the same function). */
export const ACTIVATIONS = ['relu', 'silu', 'swish', 'gelu', 'mish'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Apply the activation `name` as torch does: ReLU, SiLU, exact (erf) GELU, or Mish = x·tanh(softplus(x)).
 *
 * @example
 * const h = activate(conv2d(p.child('conv').child(0), x, 64, 64, 3, { padding: 1 }), 'relu');
 */
export function activate(x: Value, name: Activation): Value {
  switch (name) {
    case 'relu':
      return Relu(x);
    case 'silu':
    case 'swish':
      return silu(x);
    case 'gelu':
      return gelu(x, 'erf');
    case 'mish':
      // softplus as log(1 + eᕽ): for x > 88 eᕽ overflows to ∞ and tanh(∞) = 1 gives x, which is Mish's limit.
      return Mul(x, Tanh(Log(Add(Exp(x), 1))));
  }
}

/** True for the activations `groupNorm(..., { silu: true })` can fuse. */
export function isSilu(name: Activation): boolean {
  return name === 'silu' || name === 'swish';
}
