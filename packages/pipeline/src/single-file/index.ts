// Single-file checkpoints (the original Stable Diffusion / A1111 layout) as diffusers folders, and back.
export { identifyCheckpoint, LDM_PREFIX, SingleFileError, type CheckpointFamily, type IdentifiedCheckpoint, type LdmTextEncoder } from './identify.js';
export { ldmToDiffusers, ldmLayersPerBlock, type ComponentTensors } from './ldm-to-diffusers.js';
export { unetConfigFromShapes, vaeConfigFromShapes, textConfigFromShapes, type Shapes } from './config-from-shapes.js';
export { SingleFileSource, type SingleFileOptions } from './single-file-source.js';
export { planTokenizers, TOKENIZER_FILES, TOKENIZER_REPOS, withPadToken, type FetchTokenizers, type TokenizerEntry, type TokenizerRepo } from './tokenizers.js';
export { planFolder, type FolderPlan, type VirtualEntry } from './folder-plan.js';
export { virtualSafetensors, transposeBytes, type Piece, type VirtualTensor } from './virtual-file.js';
export { SharedByteSource } from './shared-file.js';
export { diffusersToLdm } from './diffusers-to-ldm.js';
