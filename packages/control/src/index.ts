export { controlNetConfigFromUNet, controlNetUNetConfig, parseControlNetConfig, type FromUNetOptions, ControlNetConfigError, type ChannelOrder, type ControlNetConfig, type ControlNetMidBlockType } from './config.js';
export { controlNetConditioningEmbedding } from './conditioning-embedding.js';
export { midBlock2D } from './mid-block-2d.js';
export { controlNetModel, guessModeScales, type ControlNetInputs, type ControlNetOutputs } from './controlnet.js';
export { buildControlNetGraph, controlNetDownOutput, CONTROLNET_MID_OUTPUT, toUNetResidualFeeds, type ControlNetGraph, type ControlNetGraphOptions } from './controlnet-graph.js';
export { loadControlNet, type LoadControlNetOptions, type LoadedControlNet } from './load-controlnet.js';
export { canny, type CannyOptions } from './image/canny.js';
export { channelsOf, toRGB, type GrayImage, type Pixels } from './image/pixels.js';
export { controlImagePixels, prepareControlImage, type ControlImageOptions, type ControlMode, type ControlPixelsOptions, type RGBPixels } from './image/control-image.js';
