export { avgPool2d } from './avg-pool.js';
export { hingeDiscriminatorLoss, hingeGeneratorLoss, nonSaturatingDiscriminatorLoss, nonSaturatingGeneratorLoss, softplus } from './gan.js';
export { l1DownsampledLoss, l1Loss } from './l1.js';
export { mseLoss } from './mse.js';
export { gaussianWindow, ssim, type SsimOptions } from './ssim.js';
export { crossEntropyLoss } from './cross-entropy.js';
export { featureMatchingLoss, ssimWindowFor } from './feature-matching.js';
