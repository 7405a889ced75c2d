export { parseCLIPTextConfig, type CLIPTextConfig } from './config.js';
export { clipTextModel, clipBindOptions, type CLIPTextOptions, type CLIPTextOutputs } from './text-model.js';
export { CLIP_VIT_L14_TEXT_CONFIG } from './clip-vit-l14.js';
