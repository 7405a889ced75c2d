import { DTYPE_BYTES, shapeSize, type DType, type Tensor } from '@sdxs/tensor';
import type { Attributes } from './attributes.js';
import { formatDims, type SymShape } from './dim.js';
import { GraphError } from './errors.js';
import { checkLoweringOverrides, type LoweringOverrides } from './lowering.js';
import type { Target } from './target.js';
import { Value } from './value.js';

/** Bytes of an initializer that live outside the model: a file (or a region of one) named by `location`. */
export interface ExternalData {
  /** Path relative to the model file (as ONNX external data requires), e.g. `unet/diffusion_pytorch_model.safetensors`. */
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** An initializer: a constant or a model parameter. Parameters may be declared first and bound later. */
export interface Initializer {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  data?: Tensor | ExternalData;
}

export interface Node {
  readonly opType: string;
  /** '' (ONNX default domain) or e.g. 'com.microsoft'. */
  readonly domain: string;
  readonly name: string;
  /** Input value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Attributes;
}

export interface GraphOptions {
  name?: string;
  target?: Target;
  /** Default ONNX opset (17 or newer). */
  opset?: number;
  /** Force composite implementations (see lowering.ts), e.g. `{ attention: 'decomposed' }`. */
  lowering?: LoweringOverrides;
}

export interface NodeSpec {
  opType: string;
  domain?: string;
  inputs: readonly (Value | undefined)[];
  attributes?: Attributes;
  outputs: readonly { dtype: DType; shape: SymShape }[];
}

/**
 * A graph under construction. Ops (`ops/*.ts`) check shapes and call `addNode`; models add parameters
 * by their checkpoint names; serialization turns the result into ONNX bytes.
 *
 * @example
 * const g = new Graph({ target: 'cpu' });
 * const x = g.input('x', 'float32', ['batch', 4]);
 * g.output(Relu(x), 'y');
 */
export class Graph {
  readonly name: string;
  readonly target: Target;
  readonly opset: number;
  readonly lowering: LoweringOverrides;
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers = new Map<string, Initializer>();
  /** Non-default operator domains used, with their versions. */
  readonly domains = new Map<string, number>();
  /** Names of initializers declared with `parameter` (as opposed to constants). */
  readonly parameterNames = new Set<string>();
  private readonly values = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private counter = 0;

  constructor(options: GraphOptions = {}) {
    this.name = options.name ?? 'sdxs';
    this.target = options.target ?? 'cpu';
    this.opset = options.opset ?? 17;
    if (this.opset < 17) throw new GraphError('Graph', `opset ${this.opset} is too old; sdxs needs 17 or newer`);
    this.lowering = options.lowering ?? {};
    checkLoweringOverrides(this.lowering);
  }

  /** A graph input. Dims may be names (`'batch'`), which become ONNX dim_params. */
  input(name: string, dtype: DType, shape: SymShape): Value {
    const v = this.newValue(name, dtype, shape);
    this.inputs.push(v);
    return v;
  }

  /** Mark `value` as a graph output, renaming it through an Identity node when a name is given. */
  output(value: Value, name?: string): Value {
    this.own(value, 'output');
    let out = value;
    if (name !== undefined && name !== value.name) {
      [out] = this.addNode({ opType: 'Identity', inputs: [value], outputs: [value] }, [name]) as [Value];
    }
    if (this.outputs.some((o) => o.name === out.name)) throw new GraphError('output', `${out.name} is already an output`);
    this.outputs.push(out);
    return out;
  }

  /** A constant tensor stored inline in the model. */
  constant(tensor: Tensor, name?: string): Value {
    const n = this.uniqueName(name ?? 'const');
    this.initializers.set(n, { name: n, dtype: tensor.dtype, shape: [...tensor.shape], data: tensor });
    return this.newValue(n, tensor.dtype, tensor.shape);
  }

  /**
   * A named parameter (a weight), declared by its checkpoint key, e.g. `down_blocks.0.resnets.0.conv1.weight`.
   * Its data is bound later with `bind`; serialization refuses unbound parameters.
   */
  parameter(name: string, dtype: DType, shape: readonly number[]): Value {
    if (this.initializers.has(name)) throw new GraphError('parameter', `${name} is declared twice`);
    this.initializers.set(name, { name, dtype, shape: [...shape] });
    this.parameterNames.add(name);
    return this.newValue(name, dtype, shape);
  }

  /** Bind a parameter's data: a tensor, or bytes in an external file. */
  bind(name: string, data: Tensor | ExternalData): void {
    const init = this.initializers.get(name);
    if (!init) throw new GraphError('bind', `no parameter named ${name}`);
    if ('location' in data) {
      const bytes = shapeSize(init.shape) * DTYPE_BYTES[init.dtype];
      if (data.length !== bytes) {
        throw new GraphError('bind', `${name}: external data has ${data.length} bytes, ${init.dtype}${formatDims(init.shape)} needs ${bytes}`);
      }
    } else if (data.dtype !== init.dtype || data.shape.join() !== init.shape.join()) {
      throw new GraphError('bind', `${name}: got ${data.dtype}${formatDims(data.shape)}, expected ${init.dtype}${formatDims(init.shape)}`);
    }
    init.data = data;
  }

  /** Names of parameters not yet bound. */
  unbound(): string[] {
    return [...this.initializers.values()].filter((i) => i.data === undefined).map((i) => i.name);
  }

  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new GraphError('value', `no value named ${name}`);
    return v;
  }

  /** Run `fn` with node and value names prefixed by `scope` (as checkpoint module paths are). */
  scoped<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /**
   * Append a node. Called by op functions after they have checked their inputs and computed output
   * shapes; returns the output Values.
   */
  addNode(spec: NodeSpec, outputNames?: readonly string[]): Value[] {
    for (const v of spec.inputs) if (v) this.own(v, spec.opType);
    const domain = spec.domain ?? '';
    if (domain !== '' && !this.domains.has(domain)) this.domains.set(domain, 1);
    const base = this.scopedName(spec.opType);
    const nodeName = this.uniqueName(base);
    const outputs = spec.outputs.map((o, i) =>
      this.newValue(outputNames?.[i] ?? this.uniqueName(`${nodeName}${spec.outputs.length > 1 ? `_${i}` : ''}:out`), o.dtype, o.shape),
    );
    this.nodes.push({
      opType: spec.opType,
      domain,
      name: nodeName,
      inputs: spec.inputs.map((v) => v?.name ?? ''),
      outputs: outputs.map((v) => v.name),
      attributes: spec.attributes ?? {},
    });
    return outputs;
  }

  /** Number of elements in declared parameters (initializers made by `parameter`, bound or not). */
  parameterCount(): number {
    let n = 0;
    for (const name of this.parameterNames) n += shapeSize(this.initializers.get(name)!.shape);
    return n;
  }

  /** Total bytes of initializers (inline and external). */
  parameterBytes(): number {
    let n = 0;
    for (const i of this.initializers.values()) n += shapeSize(i.shape) * DTYPE_BYTES[i.dtype];
    return n;
  }

  private own(v: Value, op: string): void {
    if (v.graph !== this) throw new GraphError(op, `${v.name} belongs to another graph`);
  }

  private newValue(name: string, dtype: DType, shape: SymShape): Value {
    if (this.values.has(name)) throw new GraphError('value', `the name ${name} is already used`);
    for (const d of shape) {
      if (typeof d === 'number' && (!Number.isSafeInteger(d) || d < 0)) {
        throw new GraphError('value', `${name} has an invalid dimension ${d} in ${formatDims(shape)}`);
      }
    }
    const v = new Value(this, name, dtype, shape);
    this.values.set(name, v);
    return v;
  }

  private scopedName(base: string): string {
    return this.scopes.length ? `${this.scopes.join('.')}.${base}` : base;
  }

  private uniqueName(base: string): string {
    let name: string;
    do name = `${base}_${this.counter++}`;
    while (this.values.has(name) || this.initializers.has(name));
    return name;
  }
}
