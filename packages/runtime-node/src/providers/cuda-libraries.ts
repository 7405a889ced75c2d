import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where onnxruntime-node keeps its native libraries, and so where its install script puts the CUDA ones. */
export interface OrtInstall {
  /** The onnxruntime-node package folder. */
  packageDir: string;
  /** `bin/napi-v6/<platform>/<arch>` inside it. */
  binDir: string;
}

/** The onnxruntime-node package this module loads. */
export function ortInstall(platform: string = process.platform, arch: string = process.arch): OrtInstall {
  const main = createRequire(import.meta.url).resolve('onnxruntime-node'); // <package>/dist/index.js
  const packageDir = dirname(dirname(main));
  return { packageDir, binDir: join(packageDir, 'bin', 'napi-v6', platform, arch) };
}

/** The CUDA provider's libraries on `platform` (what onnxruntime-node's install manifest downloads). */
export function cudaLibraryNames(platform: string = process.platform): string[] {
  return platform === 'win32'
    ? ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll']
    : ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
}

/**
 * Why the CUDA provider cannot load here, before asking onnxruntime (which would log a native error line):
 * undefined when its libraries are in place. The text says how to get them — onnxruntime-node does not ship
 * them on npm (they are too large); its postinstall script downloads them from NuGet when asked to.
 *
 * @example
 * const why = missingCudaLibraries(); // undefined, or 'onnxruntime-node's CUDA provider libraries are not installed …'
 */
export function missingCudaLibraries(install: OrtInstall = ortInstall(), platform: string = process.platform, arch: string = process.arch): string | undefined {
  const missing = cudaLibraryNames(platform).filter((f) => !existsSync(join(install.binDir, f)));
  if (missing.length === 0) return undefined;
  if (`${platform}/${arch}` !== 'linux/x64') {
    return `onnxruntime-node 1.30 has no CUDA provider for ${platform}/${arch} (its install script fetches one for linux/x64 only); use the webgpu provider`;
  }
  return (
    `onnxruntime-node's CUDA provider libraries are not installed (${install.binDir} has no ${missing.join(', ')}). ` +
    `They are not on npm: onnxruntime-node's install script downloads them from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux) ` +
    `when the environment variable ONNXRUNTIME_NODE_INSTALL=cuda12 is set while onnxruntime-node installs ` +
    `(or the npm config onnxruntime-node-install=cuda12; the deprecated ONNXRUNTIME_NODE_INSTALL_CUDA=v12 also works). ` +
    `pnpm skips that script unless onnxruntime-node is allowed to build; to fetch them now, run ` +
    `ONNXRUNTIME_NODE_INSTALL=cuda12 node ${join(install.packageDir, 'script', 'install.js')}. ` +
    `The provider also needs an NVIDIA driver and the CUDA 12 and cuDNN 9 runtime libraries on the library path`
  );
}
