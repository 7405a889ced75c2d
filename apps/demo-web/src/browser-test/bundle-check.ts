/**
 * What the demo's build ships: sizes per kind (JS, CSS, WASM) and a scan of the JS for code that must not
 * reach a browser — imports of Node built-ins — and for `eval`/`new Function`, which the CSP forbids.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface BundleFile {
  readonly path: string;
  readonly bytes: number;
}

export interface BundleReport {
  readonly files: readonly BundleFile[];
  /** Bytes per kind: `js` (our chunks and onnxruntime-web's entry), `ort-glue` (its .mjs), `wasm`, `css`, `html`. */
  readonly totals: Readonly<Record<string, number>>;
  /** `file: import` for every import of a Node built-in. */
  readonly nodeImports: readonly string[];
  /** `file: snippet` for every `eval(` / `new Function` in JS files. */
  readonly dynamicCode: readonly string[];
}

const NODE_BUILTINS = ['fs', 'path', 'os', 'crypto', 'module', 'url', 'util', 'worker_threads', 'child_process', 'stream', 'buffer', 'http', 'https', 'zlib'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function kind(path: string): string {
  if (path.endsWith('.wasm')) return 'wasm';
  if (path.endsWith('.mjs')) return 'ort-glue';
  if (path.endsWith('.js')) return 'js';
  if (path.endsWith('.css')) return 'css';
  if (path.endsWith('.html')) return 'html';
  return 'other';
}

/**
 * Scan a build folder.
 *
 * @example
 * const report = checkBundle('apps/demo-web/dist'); if (report.nodeImports.length) throw …
 */
export function checkBundle(dir: string): BundleReport {
  const files = walk(dir).map((p) => ({ path: relative(dir, p), bytes: statSync(p).size }));
  const totals: Record<string, number> = {};
  const nodeImports: string[] = [];
  const dynamicCode: string[] = [];
  for (const f of files) {
    const k = kind(f.path);
    totals[k] = (totals[k] ?? 0) + f.bytes;
    if (k !== 'js' && k !== 'ort-glue') continue;
    const text = readFileSync(join(dir, f.path), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || NODE_BUILTINS.includes(spec)) nodeImports.push(`${f.path}: ${spec}`);
    }
    for (const m of text.matchAll(/new Function\s*\(|(?<![\w$.])eval\s*\(/g)) {
      dynamicCode.push(`${f.path}: …${text.slice(Math.max(0, m.index - 60), m.index + 40)}…`);
    }
  }
  return { files, totals, nodeImports, dynamicCode };
}
