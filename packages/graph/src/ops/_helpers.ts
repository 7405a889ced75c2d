import { allocData, isFloatDType, numberToBfloat16Bits, numberToFloat16Bits, Tensor, type DType } from '@sdxs/tensor';
import type { Graph } from '../graph.js';
import { check } from '../errors.js';
import { Value } from '../value.js';

/** A Value, or a JS number that becomes a scalar constant of the other operand's dtype. */
export type Operand = Value | number;

/** An int64 1-D constant (shapes, axes, starts/ends), as ONNX wants for shape-like inputs. */
export function int64s(g: Graph, values: readonly number[], name?: string): Value {
  return g.constant(new Tensor('int64', [values.length], BigInt64Array.from(values, (v) => BigInt(v))), name ?? 'ints');
}

/** A scalar constant of `dtype`. */
export function scalar(g: Graph, value: number, dtype: DType): Value {
  const data = allocData(dtype, 1);
  if (data instanceof BigInt64Array) data[0] = BigInt(value);
  else if (dtype === 'float16' && data instanceof Uint16Array) data[0] = numberToFloat16Bits(value);
  else if (dtype === 'bfloat16' && data instanceof Uint16Array) data[0] = numberToBfloat16Bits(value);
  else data[0] = value;
  return g.constant(new Tensor(dtype, [], data), 'scalar');
}

/** Turn numbers into constants matching `like`'s dtype. */
export function operand(like: Value, v: Operand): Value {
  return v instanceof Value ? v : scalar(like.graph, v, like.dtype);
}

/** The graph of the first Value among the operands (one must be a Value). */
export function graphOf(op: string, ...vs: Operand[]): Graph {
  const v = vs.find((x): x is Value => x instanceof Value);
  check(v !== undefined, op, 'needs at least one symbolic tensor operand');
  return v.graph;
}

export function checkFloat(op: string, x: Value): void {
  check(isFloatDType(x.dtype), op, `expects a floating-point tensor, got ${x.dtype} for ${x.name}`);
}

export function checkSameDType(op: string, values: readonly Value[]): void {
  const first = values[0];
  if (!first) return;
  for (const v of values) {
    check(v.dtype === first.dtype, op, `inputs must share a dtype, got ${values.map((x) => x.dtype).join(' and ')}`);
  }
}
