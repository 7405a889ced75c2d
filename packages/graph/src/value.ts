import type { DType } from '@sdxs/tensor';
import { formatDims, type SymShape } from './dim.js';
import type { Graph } from './graph.js';

/**
 * A symbolic tensor: a named edge of a graph with a known dtype and a (possibly symbolic) shape.
 * Ops take Values and return Values; the graph they belong to is implied.
 */
export class Value {
  readonly graph: Graph;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: SymShape;

  constructor(graph: Graph, name: string, dtype: DType, shape: SymShape) {
    this.graph = graph;
    this.name = name;
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
  }

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatDims(this.shape)}`;
  }
}
