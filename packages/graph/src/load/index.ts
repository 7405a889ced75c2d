export { bindCheckpoint, CheckpointError, matchCheckpoint, toParameterDType, type BindOptions, type MatchedTensor, type TensorStore, type WantedTensor } from './bind-checkpoint.js';
export { bindSynthetic, syntheticTensor } from './synthetic.js';
export { findWeightFiles, openWeightFiles, type WeightFileOptions } from './weight-files.js';
export { bindComponentWeights, readComponentConfig } from './component.js';
export { renamePrefix, type PrefixTable } from './rename-prefix.js';
