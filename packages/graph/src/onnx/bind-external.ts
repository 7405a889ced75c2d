import { DTYPE_BYTES, shapeSize, type DType } from '@sdxs/tensor';
import { formatDims } from '../dim.js';
import { GraphError } from '../errors.js';
import type { Graph } from '../graph.js';

/**
 * Where one tensor's bytes are in a file: what @sdxs/tensor's safetensors reader reports per tensor
 * (`byteOffset` is absolute, counted from the start of the file).
 */
export interface ExternalTensorEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface BindExternalOptions {
  /** Map a file's tensor name to a parameter name; undefined skips it. Default: the same name. */
  rename?: (name: string) => string | undefined;
}

export interface BindExternalResult {
  /** Parameters now pointing into the file. */
  bound: string[];
  /** Tensors of the file that no parameter asked for. */
  unused: string[];
}

/**
 * Bind the graph's parameters to regions of an existing file (a safetensors checkpoint) by offset, so the
 * model references the checkpoint's bytes instead of copying them. `location` is the file's path relative to
 * the model file, as ONNX external data requires. The bytes are used as they are: a dtype or shape that
 * differs from the parameter's is a GraphError naming the tensor (convert such weights with a tensor bind).
 *
 * @example
 * const { entries } = await readSafetensorsHeader(path);
 * bindSafetensors(graph, entries, 'unet/diffusion_pytorch_model.safetensors');
 */
export function bindSafetensors(graph: Graph, entries: Iterable<ExternalTensorEntry>, location: string, options: BindExternalOptions = {}): BindExternalResult {
  const op = 'bindSafetensors';
  const bound: string[] = [];
  const unused: string[] = [];
  for (const e of entries) {
    const name = options.rename ? options.rename(e.name) : e.name;
    const init = name === undefined ? undefined : graph.initializers.get(name);
    if (name === undefined || init === undefined) {
      unused.push(e.name);
      continue;
    }
    if (e.dtype !== init.dtype || e.shape.join() !== init.shape.join()) {
      throw new GraphError(op, `${e.name}: ${location} holds ${e.dtype}${formatDims(e.shape)}, the graph declares ${name} as ${init.dtype}${formatDims(init.shape)}`);
    }
    const bytes = shapeSize(e.shape) * DTYPE_BYTES[e.dtype];
    if (e.byteLength !== bytes || !Number.isSafeInteger(e.byteOffset) || e.byteOffset < 0) {
      throw new GraphError(op, `${e.name}: region at ${e.byteOffset} of ${e.byteLength} bytes does not hold ${e.dtype}${formatDims(e.shape)} (${bytes} bytes)`);
    }
    graph.bind(name, { location, offset: e.byteOffset, length: e.byteLength });
    bound.push(name);
  }
  return { bound, unused };
}
