import { DTYPE_BYTES, isDType, type DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { REFERENCE_DTYPE_RANK, SAFETENSORS_DTYPES } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { LENGTH_PREFIX_BYTES, MAX_HEADER_BYTES } from './header.js';

/** Named tensors to write: a plain object or a Map. */
export type NamedTensors = Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;

/** One tensor's place in a planned file. */
export interface PlannedTensor {
  readonly name: string;
  readonly tensor: Tensor;
  /** The tensor's raw little-endian bytes (a view of its data, not a copy). */
  readonly bytes: Uint8Array;
  /** Absolute offset of its data in the file. */
  readonly byteOffset: number;
}

/** A file laid out but not yet written: the header bytes, then each tensor's bytes in order. */
export interface SafetensorsLayout {
  /** The 8-byte length, the JSON header and its space padding: everything before the first tensor's data. */
  readonly header: Uint8Array;
  /** In file order, contiguous, starting right after `header`. */
  readonly tensors: readonly PlannedTensor[];
  readonly byteLength: number;
}

/**
 * Lays out a safetensors file as the reference writer does: tensors ordered by dtype (widest first) then name,
 * data contiguous, the JSON header padded with spaces to a multiple of 8 bytes, so every tensor's data is aligned
 * to its element size. Validates names and metadata first. Writers stream `header` then each tensor's `bytes`.
 * `file` names the destination in error messages.
 *
 * @example
 * const { header, tensors } = planSafetensors(weights, { format: 'pt' });
 * await sink.write(header);
 * for (const t of tensors) await sink.write(t.bytes); // t.byteOffset is where they land
 */
export function planSafetensors(tensors: NamedTensors, metadata?: Readonly<Record<string, string>>, file = 'safetensors'): SafetensorsLayout {
  const list = [...(isMap(tensors) ? tensors.entries() : Object.entries(tensors))].map(([name, tensor]) => {
    if (name === '__metadata__') throw new SafetensorsError('name', file, 'the name is reserved for metadata', { tensor: name });
    if (!isDType(tensor.dtype)) throw new SafetensorsError('dtype', file, `unsupported dtype ${String(tensor.dtype)}`, { tensor: name });
    const { data } = tensor;
    if (data.byteLength !== tensor.size * DTYPE_BYTES[tensor.dtype]) {
      throw new SafetensorsError('shape', file, `data holds ${data.byteLength} bytes, ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${tensor.size * DTYPE_BYTES[tensor.dtype]}`, { tensor: name });
    }
    return { name, tensor, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });
  list.sort((a, b) => referenceOrder({ name: a.name, dtype: a.tensor.dtype }, { name: b.name, dtype: b.tensor.dtype }));

  const { header } = safetensorsHeader(
    list.map(({ name, tensor, bytes }) => ({ name, dtype: tensor.dtype, shape: tensor.shape, byteLength: bytes.length })),
    metadata,
    file,
  );

  let position = header.length;
  const planned = list.map(({ name, tensor, bytes }): PlannedTensor => {
    const byteOffset = position;
    position += bytes.length;
    return { name, tensor, bytes, byteOffset };
  });
  return { header, tensors: planned, byteLength: position };
}

/**
 * Encodes tensors (and optional string metadata) as one safetensors file in memory.
 *
 * @example
 * const bytes = encodeSafetensors({ w: new Tensor('float32', [2], new Float32Array([1, 2])) }, { format: 'pt' });
 */
export function encodeSafetensors(tensors: NamedTensors, metadata?: Readonly<Record<string, string>>): Uint8Array<ArrayBuffer> {
  const layout = planSafetensors(tensors, metadata);
  const out = new Uint8Array(layout.byteLength);
  out.set(layout.header, 0);
  for (const t of layout.tensors) out.set(t.bytes, t.byteOffset);
  return out;
}

/**
 * The reference writer's order of tensors in a file: by dtype (widest first), then by name.
 *
 * @example
 * entries.sort(referenceOrder);
 */
export function referenceOrder(a: { readonly name: string; readonly dtype: DType }, b: { readonly name: string; readonly dtype: DType }): number {
  return REFERENCE_DTYPE_RANK[b.dtype] - REFERENCE_DTYPE_RANK[a.dtype] || compareCodePoints(a.name, b.name);
}

/** A tensor's header entry: everything but its bytes. */
export interface HeaderEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

/**
 * The bytes before a file's data (length prefix, JSON header, space padding) for tensors laid out contiguously in
 * the order given; `byteLength` is the whole file's size. For files whose data is streamed from elsewhere (a
 * checkpoint presented under other names); {@link planSafetensors} orders the tensors as the reference does first.
 *
 * @example
 * const { header } = safetensorsHeader([{ name: 'w', dtype: 'float32', shape: [2], byteLength: 8 }]);
 */
export function safetensorsHeader(entries: readonly HeaderEntry[], metadata?: Readonly<Record<string, string>>, file = 'safetensors'): { header: Uint8Array; byteLength: number } {
  const fields: string[] = [];
  if (metadata !== undefined) {
    const pairs = Object.entries(metadata).map(([key, value]: [string, unknown]) => {
      if (typeof value !== 'string') throw new SafetensorsError('metadata', file, `metadata value for ${JSON.stringify(key)} is not a string`);
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    fields.push(`"__metadata__":{${pairs.join(',')}}`);
  }
  let offset = 0;
  for (const { name, dtype, shape, byteLength } of entries) {
    if (name === '__metadata__') throw new SafetensorsError('name', file, 'the name is reserved for metadata', { tensor: name });
    const end = offset + byteLength;
    fields.push(`${JSON.stringify(name)}:{"dtype":"${SAFETENSORS_DTYPES[dtype]}","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new SafetensorsError('header-length', file, `header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit readers enforce`);
  }
  const header = new Uint8Array(LENGTH_PREFIX_BYTES + headerLength).fill(0x20, LENGTH_PREFIX_BYTES + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(headerLength), true);
  header.set(json, LENGTH_PREFIX_BYTES);
  return { header, byteLength: header.length + offset };
}

function isMap(tensors: NamedTensors): tensors is ReadonlyMap<string, Tensor> {
  return tensors instanceof Map;
}

// The reference sorts names as Rust strings (UTF-8 bytes, i.e. code points); JS `<` compares UTF-16 units,
// which differs for characters above U+FFFF.
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
