/**
 * Content keys for built graphs: everything a graph's bytes depend on, hashed. Same inputs → same key in Node
 * and in browsers (the JSON is canonical: keys sorted, no whitespace).
 */
import { sha256Hex } from './sha256.js';

/**
 * Version of what sdxs writes for a graph (model code, lowering, the packed-graph layout). Bump it whenever
 * a change in the builders could change a graph for the same inputs, so stale cache entries are never used.
 */
export const GRAPH_FORMAT_VERSION = 2;

/** A weight file's identity: cheap to compute (the header, not the tensor bytes) yet changes with the file. */
export interface WeightFileIdentity {
  /** Path inside the model source, e.g. `unet/diffusion_pytorch_model.safetensors`. */
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the safetensors header (its length prefix and JSON: every name, dtype, shape and offset). */
  readonly headerSha256: string;
}

/** What a graph is built from. */
export interface GraphKeyParts {
  /** Which graph, e.g. `one-step`, `unet-step`, `decode`, `text-encoder` (letters, digits, `-`). */
  readonly kind: string;
  /** The components' config.json contents (and the scheduler's) the graph depends on. */
  readonly configs: Readonly<Record<string, unknown>>;
  /** The weight files per component. */
  readonly weights: Readonly<Record<string, readonly WeightFileIdentity[]>>;
  /** LoRA adapters of a component's weights (content hash, size, scale — 'input' for adapter nodes), by component; absent when none. */
  readonly adapters?: Readonly<Record<string, readonly { readonly sha256: string; readonly size: number; readonly scale: number | 'input' }[]>>;
  /** Build options: batch, size, dtype, target, lowering, guidance, step coefficients… */
  readonly options: Readonly<Record<string, unknown>>;
}

/** JSON with object keys sorted at every level; non-finite numbers and bigints as strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
  if (typeof value === 'bigint') return JSON.stringify(`${value}n`);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (ArrayBuffer.isView(value)) return canonicalJson(Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));
  if (typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`graphKey: cannot hash a ${typeof value}`);
}

/**
 * The cache key of a graph: `<kind>-<sha256 hex>` over the graph-format version, configs, weight identities
 * and options, so that any change to what the graph is built from gives a new key.
 *
 * @example
 * const key = await graphKey({ kind: 'one-step', configs: { unet, vae, scheduler }, weights, options: { batch: 1, height: 512, width: 512 } });
 */
export async function graphKey(parts: GraphKeyParts): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(parts.kind)) throw new RangeError(`graphKey: kind ${JSON.stringify(parts.kind)} must be lower-case letters, digits and '-'`);
  const text = canonicalJson({ format: GRAPH_FORMAT_VERSION, ...parts });
  return `${parts.kind}-${await sha256Hex(new TextEncoder().encode(text))}`;
}
