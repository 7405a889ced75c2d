import type { DType } from '@sdxs/tensor';
import type { Graph } from './graph.js';
import type { Value } from './value.js';

/**
 * A module path into a checkpoint, as torch's `nn.Module` nesting gives it: parameters declared through
 * `Params` get exactly the checkpoint key (`down_blocks.1.attentions.0.proj_in.weight`), so loading is a
 * lookup by name, never a translation table.
 *
 * @example
 * const unet = new Params(g, '', 'float32');
 * const w = unet.child('conv_in').param('weight', [320, 4, 3, 3]);   // "conv_in.weight"
 */
export class Params {
  readonly graph: Graph;
  readonly prefix: string;
  readonly dtype: DType;

  constructor(graph: Graph, prefix = '', dtype: DType = 'float32') {
    this.graph = graph;
    this.prefix = prefix;
    this.dtype = dtype;
  }

  /** The sub-module `name` (numbers for list entries: `child('down_blocks').child(1)`). */
  child(name: string | number): Params {
    return new Params(this.graph, this.key(String(name)), this.dtype);
  }

  /** The full checkpoint key of `name` under this module. */
  key(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  /** Declare the parameter `name` with `shape` (bound to checkpoint data later). */
  param(name: string, shape: readonly number[], dtype: DType = this.dtype): Value {
    return this.graph.parameter(this.key(name), dtype, shape);
  }

  /** Run `fn` with node names scoped to this module's path, so dumps and taps read like the checkpoint. */
  scoped<T>(fn: () => T): T {
    return this.prefix ? this.graph.scoped(this.prefix, fn) : fn();
  }
}
