import type { Node } from '../graph.js';
import { absGrad } from './abs.js';
import { addGrad } from './add.js';
import { castGrad } from './cast.js';
import { clipGrad } from './clip.js';
import { concatGrad } from './concat.js';
import { convTransposeGrad } from './conv-transpose.js';
import { convGrad } from './conv.js';
import { cosGrad } from './cos.js';
import { divGrad } from './div.js';
import { erfGrad } from './erf.js';
import { expGrad } from './exp.js';
import { expandGrad } from './expand.js';
import { gatherGrad } from './gather.js';
import { geluGrad } from './gelu.js';
import { gemmGrad } from './gemm.js';
import { identityGrad } from './identity.js';
import { instanceNormalizationGrad } from './instance-normalization.js';
import { layerNormalizationGrad } from './layer-normalization.js';
import { logGrad } from './log.js';
import { matmulGrad } from './matmul.js';
import { extremumGrad } from './max-min.js';
import { msFastGeluGrad } from './ms-fast-gelu.js';
import { msGeluGrad } from './ms-gelu.js';
import { msQuickGeluGrad } from './ms-quick-gelu.js';
import { mulGrad } from './mul.js';
import { negGrad } from './neg.js';
import { padGrad } from './pad.js';
import { powGrad } from './pow.js';
import { reciprocalGrad } from './reciprocal.js';
import { reduceMaxGrad } from './reduce-max.js';
import { reduceMeanGrad } from './reduce-mean.js';
import { reduceSumGrad } from './reduce-sum.js';
import { reluGrad } from './relu.js';
import { reshapeGrad } from './reshape.js';
import { resizeGrad } from './resize.js';
import type { GradRule } from './_rule.js';
import { sigmoidGrad } from './sigmoid.js';
import { sinGrad } from './sin.js';
import { sliceGrad } from './slice.js';
import { softmaxGrad } from './softmax.js';
import { splitGrad } from './split.js';
import { sqrtGrad } from './sqrt.js';
import { subGrad } from './sub.js';
import { tanhGrad } from './tanh.js';
import { transposeGrad } from './transpose.js';
import { whereGrad } from './where.js';

/**
 * Every op the graph builder emits (src/ops), by its node's key: the op type, prefixed by the domain outside
 * the ONNX default one (`com.microsoft.Gelu`). A new op file must add its key here, and then the rule map
 * below stops compiling until it has an entry.
 */
export type GradOpType =
  | 'Abs' | 'Add' | 'And' | 'ArgMax' | 'Cast' | 'Clip' | 'Concat' | 'Conv' | 'ConvTranspose' | 'Cos' | 'Div' | 'Equal'
  | 'Erf' | 'Exp' | 'Expand' | 'Gather' | 'Gelu' | 'Gemm' | 'Identity' | 'InstanceNormalization' | 'LayerNormalization'
  | 'Log' | 'MatMul' | 'Max' | 'Min' | 'Mul' | 'Neg' | 'Not' | 'Pad' | 'Pow' | 'Range' | 'Reciprocal' | 'ReduceMax'
  | 'ReduceMean' | 'ReduceSum' | 'Relu' | 'Reshape' | 'Resize' | 'Round' | 'Shape' | 'Sigmoid' | 'Sign' | 'Sin' | 'Slice'
  | 'Softmax' | 'Split' | 'Sqrt' | 'Squeeze' | 'Sub' | 'Tanh' | 'Transpose' | 'Unsqueeze' | 'Where'
  | 'com.microsoft.FastGelu' | 'com.microsoft.Gelu' | 'com.microsoft.GroupNorm' | 'com.microsoft.MultiHeadAttention'
  | 'com.microsoft.QuickGelu';

/** One entry per op: a gradient rule, 'none' (no gradient flows through), or why there is none yet. */
export const GRAD_RULES = {
  Abs: absGrad,
  Add: addGrad,
  And: 'none',
  ArgMax: 'none',
  Cast: castGrad,
  Clip: clipGrad,
  Concat: concatGrad,
  Conv: convGrad,
  ConvTranspose: convTransposeGrad,
  Cos: cosGrad,
  Div: divGrad,
  Equal: 'none',
  Erf: erfGrad,
  Exp: expGrad,
  Expand: expandGrad,
  Gather: gatherGrad,
  Gelu: geluGrad,
  Gemm: gemmGrad,
  Identity: identityGrad,
  InstanceNormalization: instanceNormalizationGrad,
  LayerNormalization: layerNormalizationGrad,
  Log: logGrad,
  MatMul: matmulGrad,
  Max: extremumGrad,
  Min: extremumGrad,
  Mul: mulGrad,
  Neg: negGrad,
  Not: 'none',
  Pad: padGrad,
  Pow: powGrad,
  Range: 'none',
  Reciprocal: reciprocalGrad,
  ReduceMax: reduceMaxGrad,
  ReduceMean: reduceMeanGrad,
  ReduceSum: reduceSumGrad,
  Relu: reluGrad,
  Reshape: reshapeGrad,
  Resize: resizeGrad,
  Shape: 'none',
  Sigmoid: sigmoidGrad,
  // Piecewise constant: its derivative is 0 wherever it has one.
  Round: 'none',
  Sign: 'none',
  Sin: sinGrad,
  Slice: sliceGrad,
  Softmax: softmaxGrad,
  Split: splitGrad,
  Sqrt: sqrtGrad,
  Squeeze: reshapeGrad,
  Sub: subGrad,
  Tanh: tanhGrad,
  Transpose: transposeGrad,
  Unsqueeze: reshapeGrad,
  Where: whereGrad,
  'com.microsoft.FastGelu': msFastGeluGrad,
  'com.microsoft.Gelu': msGeluGrad,
  'com.microsoft.GroupNorm': { unsupported: "build the graph with new Graph({ lowering: { groupNorm: 'instance-norm' } }) (or 'decomposed')" },
  'com.microsoft.MultiHeadAttention': { unsupported: "build the graph with new Graph({ lowering: { attention: 'decomposed' } })" },
  'com.microsoft.QuickGelu': msQuickGeluGrad,
} satisfies Record<GradOpType, GradRule>;

/** The map key of a node: its op type, domain-prefixed outside the default domain. */
export function ruleKey(node: Node): string {
  return node.domain === '' ? node.opType : `${node.domain}.${node.opType}`;
}

function isGradOpType(key: string): key is GradOpType {
  return Object.hasOwn(GRAD_RULES, key);
}

/** The rule for a node, or undefined for an op the map does not know. */
export function ruleFor(node: Node): GradRule | undefined {
  const key = ruleKey(node);
  return isGradOpType(key) ? GRAD_RULES[key] : undefined;
}
