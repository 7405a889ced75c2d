/**
 * The demo's Vite configuration, as a function: `pnpm demo`, the browser test and the bench build and serve
 * the app through it (there is no vite.config.ts, so the server code here runs from sources through tsx).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defaultClientConditions, type InlineConfig, type Plugin } from 'vite';
import { ORT_WASM_FILES } from '@sdxs/runtime-web';
import { securityHeaders } from './headers.js';
import { modelFolderMiddleware, type Next } from './model-folder.js';
import { folderPaths, manifestMiddleware, type ServedModels } from './model-manifest.js';

/** apps/demo-web */
export const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = fileURLToPath(new URL('../../../../packages/', import.meta.url));

export interface DemoServerOptions {
  /**
   * Local model folders served at `/models/<name>/`, e.g. `{ sdxs: '/data/sdxs-512-dreamshaper' }`, a folder with the
   * steps and guidance it wants where it is not a one-step model; `/models.json` tells the page about them.
   */
  readonly models?: ServedModels;
  readonly port?: number;
  /** Build output (default apps/demo-web/dist). */
  readonly outDir?: string;
  /** HTML entry points relative to the app root (default `index.html`). */
  readonly pages?: readonly string[];
  /** Dev server headers (CSS injected inline) instead of the production ones. */
  readonly dev?: boolean;
  /** Folders the served folders' symlinks may point into (the golden data); other links out of a folder are 403. */
  readonly linkRoots?: readonly string[];
}

/**
 * onnxruntime-web's .mjs/.wasm files at `/ort/`: served from node_modules by the dev and preview servers, and
 * copied into the build — never from a CDN.
 */
function ortAssets(): Plugin {
  // The onnxruntime-web that @sdxs/runtime-web depends on (what @sdxs/runtime-web/wasm-files finds from its build).
  const dist = dirname(createRequire(join(PACKAGES, 'runtime-web', 'package.json')).resolve('onnxruntime-web'));
  const files = new Map(Object.values(ORT_WASM_FILES).flat().map((name) => [name, join(dist, name)] as const));
  const middleware = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const name = /^\/ort\/([^/?]+)$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname)?.[1];
    const path = name === undefined ? undefined : files.get(name);
    if (path === undefined) return next();
    res.setHeader('Content-Type', path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    createReadStream(path).on('error', next).pipe(res);
  };
  return {
    name: 'sdxs-ort-assets',
    configureServer: (server) => void server.middlewares.use(middleware),
    generateBundle() {
      for (const [name, path] of files) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(path) });
    },
  };
}

/** Model folders, their manifest and security headers on the dev and preview servers. */
function demoServer(options: DemoServerOptions): Plugin {
  const headers = securityHeaders({ dev: options.dev === true });
  const models = modelFolderMiddleware(folderPaths(options.models ?? {}), { linkRoots: options.linkRoots ?? [] });
  const manifest = manifestMiddleware(options.models ?? {});
  const withHeaders = (_req: IncomingMessage, res: ServerResponse, next: Next): void => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    next();
  };
  return {
    name: 'sdxs-demo-server',
    configureServer: (server) => {
      server.middlewares.use(withHeaders);
      server.middlewares.use(manifest);
      server.middlewares.use(models);
    },
    configurePreviewServer: (server) => {
      server.middlewares.use(withHeaders);
      server.middlewares.use(manifest);
      server.middlewares.use(models);
    },
  };
}

/**
 * The Vite config of the demo. `@sdxs/*` resolve to the packages' sources (as the root tsconfig and vitest do),
 * so no package build is needed first; onnxruntime-web resolves to its entries without embedded glue code
 * (`onnxruntime-web-use-extern-wasm`), since the runtime loads the glue from `/ort/` anyway.
 *
 * @example
 * await (await createServer(demoViteConfig({ models: { sdxs: dir }, dev: true }))).listen();
 */
export function demoViteConfig(options: DemoServerOptions = {}): InlineConfig {
  const input = Object.fromEntries((options.pages ?? ['index.html']).map((p) => [p.replace(/\.html$/, '').replace(/[^\w]/g, '_'), fileURLToPath(new URL(p, `file://${APP_ROOT}`))]));
  return {
    configFile: false,
    root: APP_ROOT,
    // Unknown paths are 404s, not index.html: a wrong model URL must fail as a missing file.
    appType: 'mpa',
    logLevel: 'warn',
    resolve: {
      alias: [
        { find: /^@sdxs\/([a-z-]+)\/([a-z-]+)$/, replacement: `${PACKAGES}$1/src/$2.ts` },
        { find: /^@sdxs\/([a-z-]+)$/, replacement: `${PACKAGES}$1/src/index.ts` },
      ],
      conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
    },
    // Module workers: the generation worker imports onnxruntime-web's entry dynamically (one chunk per backend).
    worker: { format: 'es' },
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    build: {
      target: 'es2022',
      outDir: options.outDir ?? `${APP_ROOT}dist`,
      emptyOutDir: true,
      reportCompressedSize: false,
      rollupOptions: { input },
    },
    server: { host: '127.0.0.1', port: options.port ?? 5173, strictPort: options.port !== undefined },
    preview: { host: '127.0.0.1', port: options.port ?? 4173, strictPort: options.port !== undefined },
    // Headers first: every response, onnxruntime's thread-worker scripts included, needs COEP to run isolated.
    plugins: [demoServer(options), ortAssets()],
  };
}
