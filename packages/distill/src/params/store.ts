import type { TensorStore } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';

/**
 * In-memory tensors as a `bindCheckpoint` store: bind weights held in a Map (a loaded checkpoint, a teacher
 * copied into a student) through the same checks as a file.
 *
 * @example
 * await bindCheckpoint(graph, [mapStore('checkpoint', ckpt.weights)]);
 */
export function mapStore(name: string, tensors: ReadonlyMap<string, Tensor>): TensorStore {
  return {
    name,
    entries: new Map([...tensors].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }])),
    read: async (key) => {
      const t = tensors.get(key);
      if (!t) throw new Error(`${name}: no tensor ${key}`);
      return t;
    },
  };
}
