export { parseCLIPTextConfig, type CLIPTextConfig } from './config.js';
export { clipTextModel, clipBindOptions, clipModelKey, type CLIPTextOptions, type CLIPTextOutputs } from './text-model.js';
export { CLIP_VIT_L14_TEXT_CONFIG } from './clip-vit-l14.js';
export { openClipKeyToTransformers, transformersKeyToOpenClip, type OpenClipPlace } from './open-clip-keys.js';
