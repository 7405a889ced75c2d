import { concat, lenField, varintField } from '../external-data/protobuf.js';

/** Input of the probe model, and what it must return: y = x + x. */
export const PROBE_INPUT = [1.5, -2] as const;
export const PROBE_OUTPUT = [3, -4] as const;

// onnx.proto: TensorProto.FLOAT.
const FLOAT = 1;

/** ValueInfoProto for a float32 tensor of shape [2]. */
function float2(name: string): Uint8Array {
  const dim = lenField(1, varintField(1, 2)); // TensorShapeProto.dim { dim_value: 2 }
  const tensorType = concat([varintField(1, FLOAT), lenField(2, dim)]); // elem_type, shape
  return concat([lenField(1, name), lenField(2, lenField(1, tensorType))]); // name, type { tensor_type }
}

/**
 * The smallest useful model: one Add node, y = x + x over float32[2]. Creating and running it on a provider
 * shows whether that provider works here (its libraries load, a device is found, a kernel compiles and runs).
 * Built by code, as every sdxs graph is; @sdxs/graph is not a dependency of this package.
 */
export function probeModel(): Uint8Array {
  const node = concat([lenField(1, 'x'), lenField(1, 'x'), lenField(2, 'y'), lenField(4, 'Add')]);
  const graph = concat([lenField(1, node), lenField(2, 'sdxs-provider-probe'), lenField(11, float2('x')), lenField(12, float2('y'))]);
  const opset = concat([lenField(1, ''), varintField(2, 17)]);
  return concat([varintField(1, 8), lenField(8, opset), lenField(7, graph)]); // ir_version 8, opset_import, graph
}
