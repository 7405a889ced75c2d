/**
 * Loading the WebAssembly codecs (@jsquash's MozJPEG and libwebp builds) for the encoders and decoders: once, on
 * first use; in Node from node_modules (Emscripten would fetch the .wasm by URL, which Node's fetch cannot do for
 * files), in browsers by the bundler's URL.
 */
import { nodeBuiltin } from './node-builtin.js';

export type Init = (options?: { wasmBinary?: Uint8Array; print?: () => void; printErr?: () => void }) => Promise<unknown> | unknown;
interface NodeModules {
  readFileSync(path: string): Uint8Array;
  resolve(specifier: string): string;
}

/** node:fs and a require.resolve from this module, where the platform has them (Node); undefined in browsers. */
function nodeModules(): NodeModules | undefined {
  const fs = nodeBuiltin<{ readFileSync(path: string): Uint8Array }>('node:fs');
  const mod = nodeBuiltin<{ createRequire(from: string): { resolve(s: string): string } }>('node:module');
  if (!fs || !mod) return undefined;
  const require = mod.createRequire(import.meta.url);
  return { readFileSync: (p) => fs.readFileSync(p), resolve: (s) => require.resolve(s) };
}

/** Emscripten fetches its .wasm by URL, which Node's fetch cannot do for files: hand Node the bytes instead. */
export async function initCodec(init: Init, wasm: () => Promise<string>): Promise<void> {
  // libjpeg's warnings about damaged files ("Corrupt JPEG data: …") would go to stderr; the caller gets an error or
  // an image instead.
  const quiet = { print: () => {}, printErr: () => {} };
  const node = nodeModules();
  if (!node) {
    await init(quiet);
    return;
  }
  await init({ ...quiet, wasmBinary: node.readFileSync(node.resolve(await wasm())) });
}

