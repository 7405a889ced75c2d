import { formatDims, type SymShape } from './dim.js';

/** A graph-building error; the message names the op and the shapes involved. */
export class GraphError extends Error {
  override readonly name = 'GraphError';
  readonly op: string;

  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.op = op;
  }
}

/** Throw a GraphError listing the input shapes when `cond` is false. */
export function check(cond: boolean, op: string, message: string, shapes?: readonly SymShape[]): asserts cond {
  if (!cond) {
    const detail = shapes ? ` (input shapes ${shapes.map(formatDims).join(', ')})` : '';
    throw new GraphError(op, message + detail);
  }
}
