import * as ort from 'onnxruntime-node';
import { missingCudaLibraries } from './cuda-libraries.js';
import { ortExecutionProvider } from './ort-options.js';
import { PROBE_INPUT, PROBE_OUTPUT, probeModel } from './probe-model.js';
import type { ProviderName, ProviderProbe, ProviderSettings } from './types.js';

// One answer per provider (and CUDA device) per process: a probe creates a device context, which is slow.
const probes = new Map<string, Promise<ProviderProbe>>();

const WEBGPU_HINT =
  "onnxruntime-node's WebGPU provider runs on Dawn over Vulkan (Linux), Metal (macOS) or D3D12 (Windows); on Linux it needs " +
  'the Vulkan loader (libvulkan.so.1) and a Vulkan driver for the GPU. Without a GPU, for tests: apt-get install -y chromium, ' +
  'then start Node with LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json ' +
  "(Chromium's SwiftShader software driver: slow, float32 only)";

const CUDA_HINT = 'The CUDA provider needs an NVIDIA GPU and driver, and the CUDA 12 and cuDNN 9 runtime libraries on the library path';

/**
 * Whether `provider` works on this machine, found by creating and running a one-node model with it (cached per
 * process). `listSupportedBackends()` cannot tell: it lists what the binary was built with — webgpu with no
 * GPU driver, or cuda whose libraries were never downloaded, are still listed.
 *
 * @example
 * const probe = await probeProvider('webgpu');
 * if (!probe.available) console.log(probe.reason);
 */
export function probeProvider(provider: ProviderName, settings: ProviderSettings = {}): Promise<ProviderProbe> {
  const key = provider === 'cuda' ? `cuda:${settings.cuda?.deviceId ?? 0}` : provider;
  let probe = probes.get(key);
  if (!probe) {
    probe = runProbe(provider, settings);
    probes.set(key, probe);
  }
  return probe;
}

async function runProbe(provider: ProviderName, settings: ProviderSettings): Promise<ProviderProbe> {
  if (provider === 'cuda') {
    const missing = missingCudaLibraries();
    if (missing) return { provider, available: false, reason: missing };
  }
  let session: ort.InferenceSession | undefined;
  try {
    // Errors only: a probe that fails is expected, and its reason is returned, not printed.
    session = await ort.InferenceSession.create(probeModel(), { executionProviders: [ortExecutionProvider(provider, settings)], logSeverityLevel: 3 });
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from(PROBE_INPUT), [2]) });
    const data = y?.data;
    const got = data instanceof Float32Array ? Array.from(data) : [];
    y?.dispose();
    if (got.join() !== PROBE_OUTPUT.join()) {
      return { provider, available: false, reason: `a test model computed [${got.join(', ')}] instead of [${PROBE_OUTPUT.join(', ')}]` };
    }
    return { provider, available: true };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint = provider === 'webgpu' ? WEBGPU_HINT : provider === 'cuda' ? CUDA_HINT : '';
    return { provider, available: false, reason: hint ? `${message.trim()}. ${hint}` : message.trim() };
  } finally {
    await session?.release();
  }
}
