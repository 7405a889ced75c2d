/**
 * A built graph as the pipeline caches it: the ONNX model with every parameter pointing into an external
 * weight blob (one per component), plus a manifest saying which checkpoint tensor goes where in each blob.
 * The model bytes hold structure and small constants only, so a cache entry is small and independent of
 * the weights' values; the blobs are filled from the model's own files whenever a session is created. (Where
 * the runtime reads files itself, file-backed.ts packs the same structure with the parameters pointing into the
 * model's safetensors files instead, one `file` blob per file.)
 */
import { DTYPE_BYTES, isDType, shapeSize, type DType } from '@sdxs/tensor';
import { toOnnx, type Graph } from '@sdxs/graph';

/** Layout version of {@link encodePackedGraph}'s bytes (the graph itself is versioned by the key). */
const PACK_MAGIC = 'SDXSPACK';
const PACK_VERSION = 1;
/** Each tensor starts at a multiple of this many bytes (enough for any SIMD load or GPU upload). */
const ALIGN = 64;

/** One parameter's place in its component's blob. */
export interface PackedTensor {
  /** The parameter's name in the component's checkpoint (the graph name without the component prefix). */
  readonly key: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly offset: number;
}

/** The external blob of one component, or one of its weight files (`file`). */
export interface PackedBlob {
  /** `unet`, `vae`, `text_encoder`: the pipeline's weight set that fills it. */
  readonly component: string;
  /** The external-data location the model refers to; for a `file` blob, the file's path in the model source. */
  readonly location: string;
  readonly size: number;
  readonly tensors: readonly PackedTensor[];
  /**
   * The blob is the component's safetensors file itself, the tensors at their offsets in it (see
   * packGraphOnFiles): the runtime reads it from disk, nothing is assembled.
   */
  readonly file?: true;
}

export interface PackedManifest {
  readonly blobs: readonly PackedBlob[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface PackedGraph {
  readonly manifest: PackedManifest;
  /** ONNX ModelProto bytes, parameters as external data at the manifest's locations. */
  readonly model: Uint8Array;
}

/** Which component owns the parameters under `prefix` (`'unet.'`; `''` takes all the rest). */
export interface ComponentPrefix {
  readonly component: string;
  readonly prefix: string;
}

/**
 * Serialize `graph` with its (unbound) parameters laid out in one external blob per component. The graph is
 * consumed: its parameters stay bound to the blob locations.
 *
 * @example
 * const packed = packGraph(graph, [{ component: 'unet', prefix: 'unet.' }, { component: 'vae', prefix: 'vae.' }]);
 */
export function packGraph(graph: Graph, components: readonly ComponentPrefix[]): PackedGraph {
  const ordered = [...components].sort((a, b) => b.prefix.length - a.prefix.length);
  const blobs = new Map(components.map((c) => [c.component, { component: c.component, location: `${c.component}.weights`, size: 0, tensors: [] as PackedTensor[] }]));
  for (const name of graph.parameterNames) {
    const init = graph.initializers.get(name)!;
    if (init.data !== undefined) continue;
    const owner = ordered.find((c) => name.startsWith(c.prefix));
    if (!owner) throw new Error(`packGraph: parameter ${name} belongs to no component (${components.map((c) => `"${c.prefix}"`).join(', ')})`);
    const blob = blobs.get(owner.component)!;
    const length = shapeSize(init.shape) * DTYPE_BYTES[init.dtype];
    const offset = Math.ceil(blob.size / ALIGN) * ALIGN;
    blob.tensors.push({ key: name.slice(owner.prefix.length), dtype: init.dtype, shape: [...init.shape], offset });
    blob.size = offset + length;
    graph.bind(name, { location: blob.location, offset, length });
  }
  const manifest: PackedManifest = {
    blobs: [...blobs.values()].filter((b) => b.tensors.length > 0),
    inputs: graph.inputs.map((v) => v.name),
    outputs: graph.outputs.map((v) => v.name),
  };
  return { manifest, model: toOnnx(graph) };
}

/** The bytes of a packed graph: magic, version, manifest length (u32 LE), manifest JSON, model. */
export function encodePackedGraph(packed: PackedGraph): Uint8Array {
  const magic = new TextEncoder().encode(PACK_MAGIC);
  const json = new TextEncoder().encode(JSON.stringify(packed.manifest));
  const out = new Uint8Array(magic.length + 8 + json.length + packed.model.length);
  out.set(magic);
  const view = new DataView(out.buffer);
  view.setUint32(magic.length, PACK_VERSION, true);
  view.setUint32(magic.length + 4, json.length, true);
  out.set(json, magic.length + 8);
  out.set(packed.model, magic.length + 8 + json.length);
  return out;
}

function fail(why: string): never {
  throw new Error(`not a packed sdxs graph: ${why}`);
}

function checkManifest(m: unknown): PackedManifest {
  const o = typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : fail('manifest is not an object');
  const strings = (v: unknown, what: string): string[] =>
    Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : fail(`${what} is not a list of names`);
  const count = (v: unknown, what: string): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${what} is not a size`));
  if (!Array.isArray(o.blobs)) fail('blobs is not a list');
  const blobs = o.blobs.map((b: unknown): PackedBlob => {
    const r = typeof b === 'object' && b !== null ? (b as Record<string, unknown>) : fail('a blob is not an object');
    if (typeof r.component !== 'string' || typeof r.location !== 'string' || !Array.isArray(r.tensors)) fail('a blob lacks component, location or tensors');
    const size = count(r.size, 'blob size');
    const tensors = r.tensors.map((t: unknown): PackedTensor => {
      const e = typeof t === 'object' && t !== null ? (t as Record<string, unknown>) : fail('a tensor entry is not an object');
      if (typeof e.key !== 'string' || !isDType(e.dtype) || !Array.isArray(e.shape)) fail('a tensor entry lacks key, dtype or shape');
      const shape = e.shape.map((d: unknown) => count(d, 'a dimension'));
      const offset = count(e.offset, 'an offset');
      if (offset + shapeSize(shape) * DTYPE_BYTES[e.dtype] > size) fail(`${e.key} lies past the end of its blob`);
      return { key: e.key, dtype: e.dtype, shape, offset };
    });
    if (r.file !== undefined && r.file !== true) fail('a blob\'s file flag is not true');
    return { component: r.component, location: r.location, size, tensors, ...(r.file ? { file: true as const } : {}) };
  });
  return { blobs, inputs: strings(o.inputs, 'inputs'), outputs: strings(o.outputs, 'outputs') };
}

/** Parse bytes from {@link encodePackedGraph}; throws on anything else (a truncated or foreign cache entry). */
export function decodePackedGraph(bytes: Uint8Array): PackedGraph {
  const magicLength = PACK_MAGIC.length;
  if (bytes.length < magicLength + 8 || new TextDecoder().decode(bytes.subarray(0, magicLength)) !== PACK_MAGIC) fail('wrong magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(magicLength, true);
  if (version !== PACK_VERSION) fail(`layout version ${version}, expected ${PACK_VERSION}`);
  const jsonLength = view.getUint32(magicLength + 4, true);
  const start = magicLength + 8;
  if (start + jsonLength > bytes.length) fail('truncated manifest');
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + jsonLength)));
  } catch {
    fail('manifest is not JSON');
  }
  const model = bytes.slice(start + jsonLength);
  if (model.length === 0) fail('no model bytes');
  return { manifest: checkManifest(manifest), model };
}
