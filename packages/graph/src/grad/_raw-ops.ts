import { attr } from '../attributes.js';
import type { Value } from '../value.js';

// ONNX ops only gradients need. They are not part of the model-building op set (src/ops), so they are
// emitted here with their shapes given by the caller, who knows them.

/** ONNX Sign (−1, 0 or 1), for |x|'s derivative. */
export function Sign(x: Value): Value {
  const [y] = x.graph.addNode({ opType: 'Sign', inputs: [x], outputs: [{ dtype: x.dtype, shape: x.shape }] });
  return y!;
}

/**
 * ONNX ScatterND with reduction 'add' (opset 16+, run by onnxruntime's CPU EP, negative indices included):
 * `data` with `updates` added at `indices` [..., 1]; repeated indices accumulate (an embedding's gradient).
 */
export function ScatterNDAdd(data: Value, indices: Value, updates: Value): Value {
  const [y] = data.graph.addNode({
    opType: 'ScatterND',
    inputs: [data, indices, updates],
    attributes: { reduction: attr.string('add') },
    outputs: [{ dtype: data.dtype, shape: data.shape }],
  });
  return y!;
}

/** ONNX ReduceProd over every axis of a 1-D int64 tensor (a run-time element count), as a scalar. */
export function ProductOf(x: Value): Value {
  const [y] = x.graph.addNode({ opType: 'ReduceProd', inputs: [x], attributes: { keepdims: attr.int(0) }, outputs: [{ dtype: x.dtype, shape: [] }] });
  return y!;
}
