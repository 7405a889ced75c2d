import type * as ort from 'onnxruntime-node';
import type { ProviderName, ProviderSettings } from './types.js';

/**
 * The `executionProviders` entry onnxruntime-node takes for `provider`. onnxruntime appends its CPU EP on its
 * own, so nodes the provider has no kernel for still run (on the CPU, with copies between devices).
 *
 * @example
 * ortExecutionProvider('webgpu', {}); // { name: 'webgpu', preferredLayout: 'NHWC' }
 */
export function ortExecutionProvider(provider: ProviderName, settings: ProviderSettings = {}): ort.InferenceSession.ExecutionProviderConfig {
  switch (provider) {
    case 'cpu':
      return 'cpu';
    case 'webgpu':
      return { name: 'webgpu', preferredLayout: settings.webgpu?.preferredLayout ?? 'NHWC' };
    case 'cuda': {
      const deviceId = settings.cuda?.deviceId;
      return deviceId === undefined ? { name: 'cuda' } : { name: 'cuda', deviceId };
    }
  }
}
