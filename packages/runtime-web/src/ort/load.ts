import type { Backend } from '../backend.js';
import type { OrtModule } from './tensor-convert.js';

export interface OrtLoadOptions {
  /**
   * URL prefix where onnxruntime-web's `.mjs` and `.wasm` files are served (see `@sdxs/runtime-web/wasm-files`);
   * default `/ort/` on this origin. Always our own origin: no CDN, and the CSP's `script-src 'self'` covers them.
   */
  readonly wasmPaths?: string | URL;
  /** WebAssembly threads; default: the cores when the page is cross-origin isolated, else 1. */
  readonly numThreads?: number;
}

export interface LoadedOrt {
  readonly ort: OrtModule;
  readonly threads: number;
}

const loading = new Map<Backend, Promise<LoadedOrt>>();

function defaultWasmPaths(): string {
  return new URL('/ort/', globalThis.location?.href ?? 'http://localhost/').href;
}

function defaultThreads(): number {
  if (globalThis.crossOriginIsolated !== true) return 1;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  // All cores: generation is the only work while it runs, and the page's own thread is mostly idle then.
  return Math.max(1, Math.min(cores, 16));
}

/**
 * Load onnxruntime-web's entry point for a backend, once per worker. WebGPU uses `onnxruntime-web/webgpu` (the
 * native WebGPU execution provider — the same C++ EP as onnxruntime-node's — in the asyncify build, which also
 * has the CPU kernels that shape ops fall back to); WASM uses `onnxruntime-web/wasm`, the smaller build with no
 * GPU code. Neither entry's own code uses `eval` or `new Function`, so the page's CSP needs only
 * `'wasm-unsafe-eval'`. Settings apply to the first load of each entry.
 *
 * @example
 * const { ort } = await loadOrt('wasm', { wasmPaths: '/ort/' });
 */
export function loadOrt(backend: Backend, options: OrtLoadOptions = {}): Promise<LoadedOrt> {
  let pending = loading.get(backend);
  if (!pending) {
    pending = (async () => {
      const ort: OrtModule = backend === 'webgpu' ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
      const threads = options.numThreads ?? defaultThreads();
      if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`numThreads must be an integer ≥ 1, got ${threads}`);
      const paths = options.wasmPaths ?? defaultWasmPaths();
      ort.env.wasm.wasmPaths = typeof paths === 'string' ? paths : paths.href;
      ort.env.wasm.numThreads = threads;
      // We already run in a worker of our own: onnxruntime's proxy worker would only add a copy of every tensor.
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'error';
      return { ort, threads };
    })();
    pending.catch(() => loading.delete(backend));
    loading.set(backend, pending);
  }
  return pending;
}
