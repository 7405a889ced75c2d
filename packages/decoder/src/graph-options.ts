import { Graph, Params, type Dim, type LoweringOverrides, type Target } from '@sdxs/graph';

/** How to build a stand-alone VAE graph: backend, precision and the input's dims (names stay symbolic). */
export interface VaeGraphOptions {
  target?: Target;
  /** Parameter and activation dtype (default float32); float16 weights are cast when bound. */
  dtype?: 'float32' | 'float16';
  /** Batch size, or a name for a symbolic dim (default 'batch'). */
  batch?: Dim;
  /** The input's height and width (latent size for decode graphs, image size for encode graphs); default symbolic. */
  height?: Dim;
  width?: Dim;
  opset?: number;
  lowering?: LoweringOverrides;
}

/** A built VAE graph and the checkpoint keys it leaves unused (pass them to bindCheckpoint's `ignore`). */
export interface VaeGraph {
  readonly graph: Graph;
  readonly ignore: readonly RegExp[];
}

/** A new graph, its root Params (checkpoint keys from the model's root) and its one NCHW input. */
export function startGraph(name: string, input: string, channels: number, options: VaeGraphOptions): { graph: Graph; root: Params; x: ReturnType<Graph['input']> } {
  const dtype = options.dtype ?? 'float32';
  const graph = new Graph({ name, target: options.target ?? 'cpu', opset: options.opset ?? 17, lowering: options.lowering ?? {} });
  const root = new Params(graph, '', dtype);
  const x = graph.input(input, dtype, [options.batch ?? 'batch', channels, options.height ?? 'height', options.width ?? 'width']);
  return { graph, root, x };
}
