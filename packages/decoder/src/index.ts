export { ACTIVATIONS, activate, type Activation } from './activation.js';
export { ConfigError } from './config-reader.js';
export type { VaeGraph, VaeGraphOptions } from './graph-options.js';

export { AutoencoderTiny } from './tiny/autoencoder-tiny.js';
export { autoencoderTinyBlock } from './tiny/autoencoder-block.js';
export { parseAutoencoderTinyConfig, TAESD_CONFIG, type AutoencoderTinyConfig } from './tiny/config.js';
export { decoderTiny } from './tiny/decoder-tiny.js';
export { encoderTiny } from './tiny/encoder-tiny.js';

export { AutoencoderKL, type LatentDist } from './kl/autoencoder-kl.js';
export { attentionBlock, type AttentionBlockOptions } from './kl/attention-block.js';
export { parseAutoencoderKLConfig, type AutoencoderKLConfig } from './kl/config.js';
export { decoder } from './kl/decoder.js';
export { downEncoderBlock2D, type DownEncoderBlock2DOptions } from './kl/down-encoder-block.js';
export { downsample2D } from './kl/downsample-2d.js';
export { encoder } from './kl/encoder.js';
export { uNetMidBlock2D, type UNetMidBlock2DOptions } from './kl/mid-block.js';
export { resnetBlock2D, type ResnetBlock2DOptions } from './kl/resnet-block.js';
export { upDecoderBlock2D, type UpDecoderBlock2DOptions } from './kl/up-decoder-block.js';
export { upsample2D } from './kl/upsample-2d.js';
export { isVaeAttentionProjection, vaeKeyFromLdm, vaeKeyToLdm } from './kl/ldm-keys.js';
