import { ProtobufError, WIRE_LEN, fields, lenHeader, lenField, concat } from './protobuf.js';

/**
 * Where a TensorProto can sit in a ModelProto (field numbers from onnx.proto): graph initializers, sparse
 * initializers, Constant-style tensor attributes, and the same again inside subgraphs (If/Loop/Scan bodies),
 * functions and training graphs. Every path is walked, so no external reference goes unseen.
 */
type Message = 'model' | 'training' | 'function' | 'graph' | 'node' | 'attribute' | 'sparse' | 'tensor';

const CHILDREN: { readonly [M in Message]: Readonly<Record<number, Message>> } = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  training: { 1: 'graph', 2: 'graph' },
  function: { 7: 'node', 11: 'attribute' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  tensor: {},
};

const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
// Subgraphs nest; a hostile model could nest them until the stack overflows. Real models stay far below.
const MAX_DEPTH = 64;

/** A rewritten message as the parts to concatenate (views of the input where nothing changed). */
interface Rewritten {
  parts: Uint8Array[];
  length: number;
}

/**
 * Rewrite the `location` of every external-data tensor in an ONNX model: `rename` gets each location and returns
 * the one to write (the same string keeps it). Returns the input itself when nothing changed. Throws for bytes
 * that are not a ModelProto, and lets `rename` throw to refuse a location.
 *
 * @example
 * const bytes = rewriteExternalLocations(model, (loc) => (loc === 'unet.safetensors' ? 'blobs/4f2a…' : loc));
 */
export function rewriteExternalLocations(model: Uint8Array, rename: (location: string) => string): Uint8Array {
  let out: Rewritten | undefined;
  try {
    out = rewrite(model, 'model', rename, 0);
  } catch (e) {
    if (e instanceof ProtobufError) throw new Error(`the model bytes are not a valid ONNX ModelProto: ${e.message}`);
    throw e;
  }
  return out ? concat(out.parts) : model;
}

/** Every external-data location the model references, in order of first appearance. */
export function externalLocations(model: Uint8Array): string[] {
  const seen = new Set<string>();
  rewriteExternalLocations(model, (location) => {
    seen.add(location);
    return location;
  });
  return [...seen];
}

function rewrite(bytes: Uint8Array, type: Message, rename: (location: string) => string, depth: number): Rewritten | undefined {
  if (depth > MAX_DEPTH) throw new ProtobufError(`messages nested deeper than ${MAX_DEPTH} levels`);
  const children = CHILDREN[type];
  let parts: Uint8Array[] | undefined;
  let length = 0;
  let copiedTo = 0; // bytes of `bytes` before this offset are already in `parts`
  for (const f of fields(bytes)) {
    if (f.wire !== WIRE_LEN) continue;
    const payload = bytes.subarray(f.value, f.end);
    let replacement: Rewritten | undefined;
    if (type === 'tensor' && f.field === TENSOR_EXTERNAL_DATA) replacement = rewriteEntry(payload, rename);
    else {
      const child = children[f.field];
      if (child) replacement = rewrite(payload, child, rename, depth + 1);
    }
    if (!replacement) continue;
    parts ??= [];
    if (f.start > copiedTo) {
      parts.push(bytes.subarray(copiedTo, f.start));
      length += f.start - copiedTo;
    }
    const header = lenHeader(f.field, replacement.length);
    parts.push(header, ...replacement.parts);
    length += header.length + replacement.length;
    copiedTo = f.end;
  }
  if (!parts) return undefined;
  if (copiedTo < bytes.length) {
    parts.push(bytes.subarray(copiedTo));
    length += bytes.length - copiedTo;
  }
  return { parts, length };
}

/** A StringStringEntryProto of `external_data`: only the one whose key is `location` is renamed. */
function rewriteEntry(entry: Uint8Array, rename: (location: string) => string): Rewritten | undefined {
  let key: string | undefined;
  let value: string | undefined;
  for (const f of fields(entry)) {
    if (f.wire !== WIRE_LEN) continue;
    if (f.field === ENTRY_KEY) key = utf8(entry.subarray(f.value, f.end));
    else if (f.field === ENTRY_VALUE) value = utf8(entry.subarray(f.value, f.end));
  }
  if (key !== 'location') return undefined;
  const location = value ?? '';
  const renamed = rename(location);
  if (renamed === location) return undefined;
  const bytes = concat([lenField(ENTRY_KEY, 'location'), lenField(ENTRY_VALUE, renamed)]);
  return { parts: [bytes], length: bytes.length };
}

function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProtobufError('an external_data entry is not UTF-8');
  }
}
