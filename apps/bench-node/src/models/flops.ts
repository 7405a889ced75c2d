/**
 * FLOPs of a graph, counted from its nodes and the shapes the builder inferred. Only the ops that do the
 * arithmetic are counted (a multiply-add is 2 FLOPs); elementwise ops, norms and softmax are ignored, as the
 * usual model FLOP tables (and docs/DESIGN.md's 369 GFLOP for the U-Net) ignore them.
 *   MatMul       2 · |Y| · K
 *   Gemm         2 · M · N · K
 *   Conv         2 · |Y| · Cin/groups · kh · kw      (= 2·N·Cout·Hout·Wout·Cin/groups·kh·kw)
 *   ConvTranspose 2 · |X| · Cout/groups · kh · kw
 *   com.microsoft.MultiHeadAttention  2·B·S·T·(H·d) for Q·Kᵀ plus 2·B·S·T·(H·dv) for P·V
 */
import { getAttr, type Graph, type Node, type SymShape } from '@sdxs/graph';

export interface FlopCount {
  /** Total FLOPs of the counted ops. */
  total: number;
  /** FLOPs per op type. */
  byOp: Record<string, number>;
  /** Names of counted-type nodes skipped because a shape was symbolic. */
  symbolic: string[];
}

function size(shape: SymShape): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

function last(shape: SymShape, fromEnd = 1): number | undefined {
  const d = shape[shape.length - fromEnd];
  return typeof d === 'number' ? d : undefined;
}

function product(...xs: (number | undefined)[]): number | undefined {
  let n = 1;
  for (const x of xs) {
    if (x === undefined) return undefined;
    n *= x;
  }
  return n;
}

/** FLOPs of one node, 0 for ops that are not counted, undefined when a needed dim is symbolic. */
export function nodeFlops(graph: Graph, node: Node): number | undefined {
  const shape = (i: number, of: readonly string[] = node.inputs) => {
    const name = of[i];
    return name ? graph.value(name).shape : [];
  };
  const y = shape(0, node.outputs);
  switch (node.domain === '' ? node.opType : `${node.domain}.${node.opType}`) {
    case 'MatMul':
      // K is A's last dim whatever the ranks (a 1-D A is a row vector).
      return product(2, size(y), last(shape(0)));
    case 'Gemm': {
      const a = shape(0);
      const transA = getAttr(node.attributes, 'transA', 'int') ?? 0;
      return product(2, size(y), transA ? last(a, 2) : last(a));
    }
    case 'Conv':
      // W is [Cout, Cin/groups, kh, kw]: every output element is a dot product of Cin/groups·kh·kw terms.
      return product(2, size(y), size(shape(1).slice(1)));
    case 'ConvTranspose':
      // W is [Cin, Cout/groups, kh, kw]: every input element is scattered into Cout/groups·kh·kw outputs.
      return product(2, size(shape(0)), size(shape(1).slice(1)));
    case 'com.microsoft.MultiHeadAttention': {
      const [b, s] = shape(0);
      const t = shape(1)[1];
      const qk = last(shape(0));
      const dv = last(shape(2));
      if (typeof b !== 'number' || typeof s !== 'number' || typeof t !== 'number') return undefined;
      return product(2, b, s, t, qk === undefined || dv === undefined ? undefined : qk + dv);
    }
    default:
      return 0;
  }
}

/**
 * Count the FLOPs of every node of `graph`.
 *
 * @example
 * const { total } = countFlops(buildUNetGraph(config, { batch: 1, height: 64, width: 64 }).graph); // ≈ 3.7e11
 */
export function countFlops(graph: Graph): FlopCount {
  const byOp: Record<string, number> = {};
  const symbolic: string[] = [];
  let total = 0;
  for (const node of graph.nodes) {
    const f = nodeFlops(graph, node);
    if (f === undefined) symbolic.push(node.name);
    else if (f > 0) {
      byOp[node.opType] = (byOp[node.opType] ?? 0) + f;
      total += f;
    }
  }
  return { total, byOp, symbolic };
}
