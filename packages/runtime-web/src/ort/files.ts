import type { Backend } from '../backend.js';

/**
 * The onnxruntime-web files each backend loads at run time — the Emscripten glue (.mjs, also the script of the
 * WebAssembly thread workers) and the binary — which an app serves from its own origin, under the runtime's
 * `wasmPaths` (`/ort/` by default). Build tools copy them from onnxruntime-web's `dist/`.
 */
export const ORT_WASM_FILES: Readonly<Record<Backend, readonly string[]>> = {
  webgpu: ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'],
  wasm: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'],
};
