// safetensors: read one tensor at a time from any ByteSource, validate like the reference implementation, write.
export { SafetensorsError, type SafetensorsErrorCode } from './errors.js';
// Re-exported under a prefixed name: this index is spread into the package's top-level namespace.
export { MAX_HEADER_BYTES as SAFETENSORS_MAX_HEADER_BYTES, type SafetensorsEntry } from './header.js';
export { SAFETENSORS_DTYPES, dtypeFromSafetensors } from './dtypes.js';
export { SafetensorsFile, type ReadAllOptions } from './reader.js';
export { encodeSafetensors, planSafetensors, referenceOrder, safetensorsHeader, type HeaderEntry, type NamedTensors, type PlannedTensor, type SafetensorsLayout } from './writer.js';
export { ArrayBufferByteSource, type ArrayBufferByteSourceOptions } from './byte-sources.js';
export { RangedFetchByteSource, type FetchLike, type RangedFetchOptions } from './fetch-source.js';
