export { PROVIDERS, ProviderUnavailableError, isProviderName, type CudaProviderOptions, type ProviderName, type ProviderProbe, type ProviderSettings, type WebGpuProviderOptions } from './types.js';
export { probeProvider } from './probe.js';
export { resolveProvider, type ResolveProviderOptions } from './resolve.js';
export { missingCudaLibraries } from './cuda-libraries.js';
