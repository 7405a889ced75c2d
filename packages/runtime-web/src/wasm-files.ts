/**
 * @sdxs/runtime-web/wasm-files — for build tools, in Node: where the onnxruntime-web files an app must serve
 * from its own origin are (see ORT_WASM_FILES), so nothing is fetched from a CDN and the CSP can stay
 * `script-src 'self' 'wasm-unsafe-eval'`. Never import this from browser code.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Backend } from './backend.js';
import { ORT_WASM_FILES } from './ort/files.js';

export { ORT_WASM_FILES } from './ort/files.js';

/** The `dist/` folder of the onnxruntime-web this package depends on. */
export function ortDistDir(): string {
  // The package's exports map has no ./package.json; its Node entry lives in dist/.
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

/**
 * Name and absolute path of every file to copy for `backends`.
 *
 * @example
 * for (const f of ortWasmFiles()) copyFileSync(f.path, join(outDir, 'ort', f.name));
 */
export function ortWasmFiles(backends: readonly Backend[] = ['webgpu', 'wasm']): { name: string; path: string }[] {
  const dir = ortDistDir();
  return backends.flatMap((b) => ORT_WASM_FILES[b].map((name) => ({ name, path: join(dir, name) })));
}
