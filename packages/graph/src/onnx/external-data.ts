import { DTYPE_BYTES, shapeSize, type Tensor } from '@sdxs/tensor';
import { GraphError } from '../errors.js';
import type { ExternalData, Graph, Initializer } from '../graph.js';
import { tensorBytes, toOnnx, type SerializeOptions } from './serialize.js';

export interface ExternalDataOptions extends SerializeOptions {
  /** Inline initializers of at least this many bytes move out; default 1024 (as onnx's `convert_model_to_external_data`). */
  threshold?: number;
  /** Name of the blob, relative to the model file; default `model.onnx.data`. */
  location?: string;
  /** Each tensor starts at a multiple of this many bytes; default 64 (enough for any SIMD load or GPU upload). */
  align?: number;
}

export interface ExternalizedModel {
  /** ModelProto bytes whose large initializers reference `externalFiles`. */
  model: Uint8Array;
  /** Blob contents by location; empty when nothing reached the threshold. */
  externalFiles: Map<string, Uint8Array>;
}

/**
 * Serialize `graph` with every inline initializer of `threshold` bytes or more moved into one external blob
 * (ONNX external data), at aligned offsets. Initializers already bound to external files stay as they are.
 * Needs no file system: write the files beside the model, or hand them to onnxruntime in memory with
 * `externalData: [...externalFiles].map(([path, data]) => ({ path, data }))` — which also keeps protobuf's
 * 2 GB model limit out of the way.
 *
 * @example
 * const { model, externalFiles } = toOnnxWithExternalData(graph, { location: 'unet.onnx.data' });
 */
export function toOnnxWithExternalData(graph: Graph, options: ExternalDataOptions = {}): ExternalizedModel {
  const threshold = options.threshold ?? 1024;
  const location = options.location ?? 'model.onnx.data';
  const align = options.align ?? 64;
  if (!Number.isInteger(align) || align < 1) throw new GraphError('externalData', `alignment must be a positive integer, got ${align}`);
  const moved: { init: Initializer; tensor: Tensor; offset: number }[] = [];
  let size = 0;
  for (const init of graph.initializers.values()) {
    const data = init.data;
    if (data !== undefined && 'location' in data && data.location === location) {
      throw new GraphError('externalData', `${init.name} is already bound to ${location}; choose another location for the blob`);
    }
    if (data === undefined || 'location' in data) continue;
    const bytes = shapeSize(init.shape) * DTYPE_BYTES[init.dtype];
    if (bytes < threshold || bytes === 0) continue;
    const offset = Math.ceil(size / align) * align;
    moved.push({ init, tensor: data, offset });
    size = offset + bytes;
  }
  if (moved.length === 0) return { model: toOnnx(graph, options), externalFiles: new Map() };

  const blob = new Uint8Array(size);
  for (const { tensor, offset } of moved) blob.set(tensorBytes(tensor), offset);
  // The serializer writes whatever each initializer is bound to, so point the moved ones at the blob for
  // the duration of the call, then put their tensors back: the graph is unchanged afterwards.
  try {
    for (const m of moved) {
      const ext: ExternalData = { location, offset: m.offset, length: tensorBytes(m.tensor).length };
      m.init.data = ext;
    }
    return { model: toOnnx(graph, options), externalFiles: new Map([[location, blob]]) };
  } finally {
    for (const m of moved) m.init.data = m.tensor;
  }
}
