import { DTYPE_BYTES, type Tensor } from '@sdxs/tensor';
import type { AttrValue } from '../attributes.js';
import type { SymShape } from '../dim.js';
import { GraphError } from '../errors.js';
import type { ExternalData, Graph, Initializer } from '../graph.js';
import type { Value } from '../value.js';
import { ONNX_DTYPE } from './dtypes.js';
import { ProtoWriter } from './proto-writer.js';

// Field numbers from onnx/onnx.proto (stable since IR version 3).
const MODEL = { ir_version: 1, producer_name: 2, producer_version: 3, graph: 7, opset_import: 8 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, op_type: 4, attribute: 5, domain: 7 } as const;
const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, type: 20 } as const;
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;
const TENSOR = { dims: 1, data_type: 2, name: 8, raw_data: 9, external_data: 13, data_location: 14 } as const;

/** ONNX IR version per opset (onnx/helper.py VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 17) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

/** Raw little-endian bytes of a tensor (typed arrays are little-endian on every platform ONNX Runtime supports). */
export function tensorBytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * DTYPE_BYTES[t.dtype]);
}

function writeTensor(w: ProtoWriter, name: string, t: Tensor): void {
  w.packedInts(TENSOR.dims, t.shape);
  w.int(TENSOR.data_type, ONNX_DTYPE[t.dtype]);
  w.string(TENSOR.name, name);
  w.bytes(TENSOR.raw_data, tensorBytes(t));
}

function writeExternal(w: ProtoWriter, init: Initializer, ext: ExternalData): void {
  w.packedInts(TENSOR.dims, init.shape);
  w.int(TENSOR.data_type, ONNX_DTYPE[init.dtype]);
  w.string(TENSOR.name, init.name);
  const entries: [string, string][] = [
    ['location', ext.location],
    ['offset', String(ext.offset)],
    ['length', String(ext.length)],
  ];
  for (const [k, v] of entries) w.message(TENSOR.external_data, (e) => e.string(1, k).string(2, v));
  w.int(TENSOR.data_location, 1);
}

function writeAttr(w: ProtoWriter, name: string, a: AttrValue): void {
  w.string(ATTR.name, name);
  switch (a.type) {
    case 'int':
      w.int(ATTR.i, a.value);
      break;
    case 'float':
      w.float(ATTR.f, a.value);
      break;
    case 'string':
      w.string(ATTR.s, a.value);
      break;
    case 'ints':
      w.packedInts(ATTR.ints, a.value);
      break;
    case 'floats':
      w.packedFloats(ATTR.floats, a.value);
      break;
    case 'strings':
      for (const s of a.value) w.string(ATTR.strings, s);
      break;
    case 'tensor':
      w.message(ATTR.t, (t) => writeTensor(t, '', a.value));
      break;
  }
  w.int(ATTR.type, ATTR_TYPE[a.type]);
}

function writeValueInfo(w: ProtoWriter, v: Value): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, ONNX_DTYPE[v.dtype]);
      tt.message(2, (shape) => writeShape(shape, v.shape));
    }),
  );
}

function writeShape(w: ProtoWriter, shape: SymShape): void {
  for (const d of shape) w.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
}

export interface SerializeOptions {
  producerName?: string;
  producerVersion?: string;
}

/**
 * Serialize a graph to ONNX ModelProto bytes. Every parameter must be bound; initializers bound to
 * ExternalData are written as external references (their bytes stay where they are).
 */
export function toOnnx(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  const unbound = graph.unbound();
  if (unbound.length) {
    const list = unbound.slice(0, 5).join(', ') + (unbound.length > 5 ? `, … (${unbound.length} in all)` : '');
    throw new GraphError('serialize', `parameters without data: ${list}`);
  }
  if (graph.outputs.length === 0) throw new GraphError('serialize', 'the graph has no outputs');
  const w = new ProtoWriter();
  w.int(MODEL.ir_version, irVersionFor(graph.opset));
  w.string(MODEL.producer_name, options.producerName ?? 'sdxs');
  w.string(MODEL.producer_version, options.producerVersion ?? '0.1.0');
  w.message(MODEL.opset_import, (o) => o.string(1, '').int(2, graph.opset));
  for (const [domain, version] of graph.domains) w.message(MODEL.opset_import, (o) => o.string(1, domain).int(2, version));
  w.message(MODEL.graph, (g) => {
    for (const n of graph.nodes) {
      g.message(GRAPH.node, (nw) => {
        for (const i of n.inputs) nw.string(NODE.input, i);
        for (const o of n.outputs) nw.string(NODE.output, o);
        nw.string(NODE.name, n.name);
        nw.string(NODE.op_type, n.opType);
        if (n.domain) nw.string(NODE.domain, n.domain);
        for (const [k, a] of Object.entries(n.attributes)) nw.message(NODE.attribute, (aw) => writeAttr(aw, k, a));
      });
    }
    g.string(GRAPH.name, graph.name);
    for (const init of graph.initializers.values()) {
      const data = init.data;
      if (data === undefined) continue;
      g.message(GRAPH.initializer, (t) => ('location' in data ? writeExternal(t, init, data) : writeTensor(t, init.name, data)));
    }
    for (const v of graph.inputs) g.message(GRAPH.input, (vi) => writeValueInfo(vi, v));
    for (const v of graph.outputs) g.message(GRAPH.output, (vi) => writeValueInfo(vi, v));
  });
  return w.finish();
}
