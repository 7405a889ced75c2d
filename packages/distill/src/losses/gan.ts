import { Abs, Add, Exp, Log, Neg, ReduceMean, Relu, Sub, type Value } from '@sdxs/graph';

/** softplus(x) = log(1 + eˣ), as max(x, 0) + log(1 + e^−|x|), which neither overflows nor loses small values. */
export function softplus(x: Value): Value {
  return Add(Relu(x), Log(Add(Exp(Neg(Abs(x))), 1)));
}

const mean = (v: Value) => ReduceMean(v, undefined, false);

/**
 * Hinge GAN loss for the discriminator (Lim & Ye 2017, as in SAGAN/BigGAN and the ADD/SDXS discriminators):
 * mean(relu(1 − D(real))) + mean(relu(1 + D(fake))), a scalar []. `real`, `fake`: the discriminator's logits.
 *
 * @example
 * const dLoss = hingeDiscriminatorLoss(disc(realImages), disc(stopGradient(fakeImages)));
 */
export function hingeDiscriminatorLoss(real: Value, fake: Value): Value {
  return Add(mean(Relu(Sub(1, real))), mean(Relu(Add(fake, 1))));
}

/**
 * Hinge GAN loss for the generator: −mean(D(fake)), a scalar [].
 *
 * @example
 * const gLoss = hingeGeneratorLoss(disc(studentImages));
 */
export function hingeGeneratorLoss(fake: Value): Value {
  return Neg(mean(fake));
}

/**
 * Non-saturating GAN loss for the discriminator (Goodfellow et al. 2014): binary cross-entropy on logits,
 * mean(softplus(−D(real))) + mean(softplus(D(fake))), a scalar [].
 *
 * @example
 * const dLoss = nonSaturatingDiscriminatorLoss(disc(realImages), disc(stopGradient(fakeImages)));
 */
export function nonSaturatingDiscriminatorLoss(real: Value, fake: Value): Value {
  return Add(mean(softplus(Neg(real))), mean(softplus(fake)));
}

/**
 * Non-saturating GAN loss for the generator: mean(softplus(−D(fake))) = −mean(log σ(D(fake))), a scalar [];
 * its gradient stays large while the discriminator wins, unlike the saturating log(1 − σ(D(fake))).
 *
 * @example
 * const gLoss = nonSaturatingGeneratorLoss(disc(studentImages));
 */
export function nonSaturatingGeneratorLoss(fake: Value): Value {
  return mean(softplus(Neg(fake)));
}
