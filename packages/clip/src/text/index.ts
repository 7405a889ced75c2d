export { parseCLIPTextConfig, type CLIPTextConfig } from './config.js';
export { clipTextModel, clipBindOptions, type CLIPTextOptions, type CLIPTextOutputs } from './text-model.js';
