/**
 * `toOnnx` (the hand-written protobuf writer) against protobufjs with onnx.proto's schema: the same ModelProto
 * built as plain objects and encoded by the library. Both byte strings are decoded by protobufjs and compared,
 * and ONNX Runtime runs both.
 */
import { type Graph, ONNX_DTYPE, tensorBytes } from '@sdxs/graph';
import type { AttrValue } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import type protobuf from 'protobufjs';
import type { SymShape } from '@sdxs/graph';

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;
const utf8 = new TextEncoder();

/** ONNX IR version per opset, as serialize.ts (onnx/helper.py VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 17) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function tensorMessage(name: string, t: Tensor): Record<string, unknown> {
  return { dims: [...t.shape], data_type: ONNX_DTYPE[t.dtype], name, raw_data: tensorBytes(t) };
}

function attrMessage(name: string, a: AttrValue): Record<string, unknown> {
  const m: Record<string, unknown> = { name, type: ATTR_TYPE[a.type] };
  switch (a.type) {
    case 'int':
      m.i = a.value;
      break;
    case 'float':
      m.f = a.value;
      break;
    case 'string':
      m.s = utf8.encode(a.value);
      break;
    case 'ints':
      m.ints = [...a.value];
      break;
    case 'floats':
      m.floats = [...a.value];
      break;
    case 'strings':
      m.strings = a.value.map((s) => utf8.encode(s));
      break;
    case 'tensor':
      m.t = tensorMessage('', a.value);
      break;
  }
  return m;
}

function shapeMessage(shape: SymShape): Record<string, unknown> {
  return { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) };
}

/** The ModelProto of `graph` as a plain object for protobufjs, field for field what `toOnnx` writes. */
export function modelMessage(graph: Graph): Record<string, unknown> {
  const initializer: Record<string, unknown>[] = [];
  for (const init of graph.initializers.values()) {
    const data = init.data;
    if (data === undefined) continue;
    if ('location' in data) {
      initializer.push({
        dims: [...init.shape],
        data_type: ONNX_DTYPE[init.dtype],
        name: init.name,
        external_data: [
          { key: 'location', value: data.location },
          { key: 'offset', value: String(data.offset) },
          { key: 'length', value: String(data.length) },
        ],
        data_location: 1,
      });
    } else initializer.push(tensorMessage(init.name, data));
  }
  const valueInfo = (v: Graph['inputs'][number]) => ({ name: v.name, type: { tensor_type: { elem_type: ONNX_DTYPE[v.dtype], shape: shapeMessage(v.shape) } } });
  return {
    ir_version: irVersionFor(graph.opset),
    producer_name: 'sdxs',
    producer_version: '0.1.0',
    opset_import: [{ domain: '', version: graph.opset }, ...[...graph.domains].map(([domain, version]) => ({ domain, version }))],
    graph: {
      node: graph.nodes.map((n) => ({
        input: [...n.inputs],
        output: [...n.outputs],
        name: n.name,
        op_type: n.opType,
        ...(n.domain ? { domain: n.domain } : {}),
        attribute: Object.entries(n.attributes).map(([k, a]) => attrMessage(k, a)),
      })),
      name: graph.name,
      initializer,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
}

/** Serialize with protobufjs. */
export function toOnnxWithProtobufjs(type: protobuf.Type, graph: Graph): Uint8Array {
  return type.encode(modelMessage(graph)).finish();
}

/** Decoded with protobufjs into JSON-comparable form (longs and bytes as strings). */
export function decodedJson(type: protobuf.Type, bytes: Uint8Array): string {
  return JSON.stringify(type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: false }));
}

export interface ProtobufComparison {
  /** Full-size SDXS-512 U-Net, every weight external: model bytes, ms to serialize (median), decoded equal. */
  unet: { nodes: number; initializers: number; ours_bytes: number; lib_bytes: number; bytes_identical: boolean; decoded_equal: boolean; ours_ms: number; lib_ms: number };
  /** The micro U-Net with inline synthetic weights: decoded equal, ONNX Runtime outputs bit-identical. */
  micro: { bytes: number; bytes_identical: boolean; decoded_equal: boolean; outputs_identical: boolean; ours_ms: number; lib_ms: number };
}

/** Median over `runs` interleaved pairs of calls (A B A B …), so load and frequency treat both alike. */
export async function interleaved(runs: number, a: () => unknown, b: () => unknown): Promise<[number[], number[]]> {
  const ta: number[] = [];
  const tb: number[] = [];
  await a();
  await b();
  for (let i = 0; i < runs; i++) {
    for (const [fn, out] of i % 2 === 0 ? ([[a, ta], [b, tb]] as const) : ([[b, tb], [a, ta]] as const)) {
      const t0 = performance.now();
      await fn();
      out.push(performance.now() - t0);
    }
  }
  return [ta, tb];
}
