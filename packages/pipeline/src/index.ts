// @sdxs/pipeline: a diffusers folder in, images out, on any Runtime (Node, browser) — environment-neutral.
export { StableDiffusionPipeline, type CallOptions, type GenerateLatents, type GenerateResult, type GenerateTimings, type LoadOptions, type ModelDefaults } from './pipeline.js';
export { checkRequest, MAX_BATCH, MAX_BATCH_PIXELS, MAX_PROMPT_CHARS, MAX_SIDE, MAX_STEPS, type CheckedRequest, type GenerateRequest, type RequestDefaults } from './request.js';
export type { ProgressCallback, ProgressEvent } from './progress.js';
export type { ComponentInfo, ConditioningInfo, PipelineInfo, TokenizerInfo } from './info.js';
export { conditioningFeeds, createPromptEncoder, requestConditioning, type Conditioning, type UseTextGraph } from './text-side.js';
export { PromptEncoder, type EncodeCall, type EncodedPrompts, type TextEncoderRun } from './prompt-encoder.js';
export { checkSdxlFields, sdxlTimeIds, type CheckedSdxlFields, type CropCoords, type ImageSize, type SdxlRequestFields } from './sdxl-request.js';
export { addedConditionShape, checkTextConditioning, crossAttentionDim, SDXL_TIME_IDS, type AddedConditionShape, type SecondTextEncoder } from './model/text-conditioning.js';
export { PromptEmbeddingCache } from './prompt-cache.js';
export { MemoryGraphCache, type GraphCache } from './cache/graph-cache.js';
export { canonicalJson, graphKey, GRAPH_FORMAT_VERSION, type GraphKeyParts, type WeightFileIdentity } from './cache/graph-key.js';
export { sha256, sha256Hex, toHex } from './cache/sha256.js';
export { parseModelIndex, SD_PIPELINES, SDXL_PIPELINES, SUPPORTED_PIPELINES, type ComponentSpec, type ModelIndex } from './model/model-index.js';
export { loadComponents, newScheduler, type ComponentOptions, type PipelineComponents } from './model/components.js';
export { pipelineVae, VAE_CLASSES, type PipelineVae, type VaeClass } from './model/vae.js';
export { openComponentWeights, type ComponentWeights } from './model/weights.js';
export { loadLora, withLora, type AppliedLora, type ComponentLora, type LoadedLora, type LoraAdapter, type LoraFile, type LoraIdentity, type LoraPath } from './lora/load.js';
export { flattenModule, parseLoraKeys, type LoraComponent, type LoraModuleKeys } from './lora/keys.js';
export { mergeLoraTerms, type LoraTerm } from './lora/merge.js';
export {
  conditioningInputs,
  decodeGraph,
  oneStepGraph,
  textEncoderGraph,
  unetStepGraph,
  IMAGE_COMPONENTS,
  TEXT_2_COMPONENTS,
  TEXT_COMPONENTS,
  UNET_COMPONENTS,
  VAE_COMPONENTS,
  type BuildSettings,
  type ConditioningValues,
  type ImageGraphShape,
  type OneStep,
  type TextEncoderOutputs,
  type UNetSide,
} from './graphs/builders.js';
export { foldedStep, guidedNoisePrediction, linearCombination, type FoldedStep, type GuidedUNetInputs } from './graphs/denoise.js';
export { postprocessImages, type PostprocessedImages } from './graphs/postprocess.js';
export { decodePackedGraph, encodePackedGraph, packGraph, type ComponentPrefix, type PackedBlob, type PackedGraph, type PackedManifest, type PackedTensor } from './graphs/packed-graph.js';
export { assembleWeights } from './graphs/assemble-weights.js';
export { canUseWeightFiles, packGraphOnFiles, sessionExternalData } from './graphs/file-backed.js';
export { concatRows, repeatRows, scaleTensor, splitImages } from './tensors.js';
export { ControlNetPipeline, type ControlNetLoadOptions, type ControlNetLocation, type ControlNetRequest } from './controlnet-pipeline.js';
export {
  CONTROLNET_COMPONENTS,
  CONTROLNET_IMAGE_COMPONENTS,
  CONTROLNET_UNET_COMPONENTS,
  controlImageFactor,
  controlNetOneStepGraph,
  controlNetUNetStepGraph,
  type ControlledUNetSide,
} from './graphs/controlnet-step.js';
export {
  createRealtimeStream,
  LatestFrameLoop,
  type RealtimeFrame,
  type RealtimeImage,
  type RealtimeOptions,
  type RealtimeStats,
  type RealtimeStream,
  type ResolvedRealtimeOptions,
} from './realtime.js';
export { img2img, img2imgTimesteps, oneStepImg2ImgSteps, type Img2ImgRequest, type Img2ImgTimesteps } from './img2img.js';
export { img2imgGraph, type Img2ImgStep, type Img2ImgUNetSide, type NoiseMix } from './graphs/img2img-step.js';
export { FINITE_CHECKS, NonFiniteError } from './finite.js';
export { GeneratedImage, generatedImages, type CallParameters, type ToLossyOptions, type ToPngOptions } from './images.js';
export { progressTo, runUnlessAborted, throwIfAborted } from './call.js';
export { graphTarget } from './target.js';
export { SDXS_VERSION } from './version.js';
export {
  currentPlatform,
  DEVICES,
  fromPretrainedParts,
  loraFiles,
  registerPlatform,
  type Device,
  type DownloadEvent,
  type OpenedRuntime,
  type Platform,
  type PretrainedOptions,
  type PretrainedParts,
  type ResolvedModel,
  type ResolveOptions,
} from './pretrained.js';
export * from './single-file/index.js';
