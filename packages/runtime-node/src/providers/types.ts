/** The execution providers sdxs runs on in Node (onnxruntime-node 1.30). */
export type ProviderName = 'cpu' | 'webgpu' | 'cuda';

export const PROVIDERS: readonly ProviderName[] = ['cpu', 'webgpu', 'cuda'];

/**
 * Type guard for provider names coming from users (CLI flags, configs).
 *
 * @example
 * if (!isProviderName(flag)) throw new Error(`--provider must be one of ${PROVIDERS.join(', ')}`);
 */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDERS as readonly string[]).includes(name);
}

export interface WebGpuProviderOptions {
  /**
   * Layout for layout-sensitive ops (Conv, pooling, normalizations): onnxruntime inserts the transposes.
   * Default NHWC: measured 2× faster than NCHW for the SDXS U-Net and tiny decoder on an H200 (docs/DESIGN.md).
   */
  preferredLayout?: 'NHWC' | 'NCHW';
}

export interface CudaProviderOptions {
  /** CUDA device ordinal (default 0). */
  deviceId?: number;
}

/** Per-provider settings, used only when that provider runs. */
export interface ProviderSettings {
  webgpu?: WebGpuProviderOptions;
  cuda?: CudaProviderOptions;
}

/** Whether a provider works on this machine: the answer of {@link probeProvider}. */
export type ProviderProbe = { readonly provider: ProviderName; readonly available: true } | { readonly provider: ProviderName; readonly available: false; readonly reason: string };

/** A provider was asked for with `fallback: false` and does not work here. */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
  readonly provider: ProviderName;
  readonly reason: string;

  constructor(provider: ProviderName, reason: string) {
    super(`onnxruntime-node: the ${provider} execution provider is unavailable: ${reason}`);
    this.provider = provider;
    this.reason = reason;
  }
}
