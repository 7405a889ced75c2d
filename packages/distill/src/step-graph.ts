import { Add, Cast, Div, GraphError, grad, Min, Mul, ReduceSum, Sqrt, type Graph, type Value } from '@sdxs/graph';
import type { Optimizer } from './optim/types.js';
import type { TrainableParam } from './params/trainable.js';

/** Where the optimizer update runs: inside the step graph, or in TypeScript on the resident tensors. */
export type UpdateMode = 'graph' | 'host';

export interface StepGraphOptions {
  loss: Value;
  trainable: readonly TrainableParam[];
  optimizer: Optimizer;
  update: UpdateMode;
  /** Add gradient-accumulation inputs (graph mode; the host accumulates itself). */
  accumulate: boolean;
  /** torch.nn.utils.clip_grad_norm_'s max_norm (graph mode). */
  clipGradNorm?: number;
}

/** The names of a step graph's extra inputs and outputs. */
export const STEP = {
  /** Input []: the loss scale (GradScaler), seed of the backward pass. */
  lossScale: 'train.loss_scale',
  /** Input []: what the (accumulated, scaled) gradients are multiplied by: 1/(scale·micro-batches). */
  gradFactor: 'train.grad_factor',
  /** Output []: the loss, unscaled, float32. */
  loss: 'train.loss',
  /** Output []: the global 2-norm of the unscaled gradients before clipping (graph mode). */
  gradNorm: 'train.grad_norm',
  scalar: (name: string) => `optim.${name}`,
  slot: (slot: string, param: string) => `${slot}.${param}`,
  accum: (param: string) => `grad_accum.${param}`,
  /** Host mode output: the gradient of the scaled loss. */
  grad: (param: string) => `grad.${param}`,
  /** Graph mode outputs: updated values. */
  updated: (name: string) => `update.${name}`,
} as const;

/**
 * Turn a graph that computes `loss` into a training step graph, in place: the backward pass of loss·scale with
 * respect to the trainable inputs and, in graph mode, the whole update — unscaling (and averaging over
 * micro-batches), the global gradient norm, clipping by it (torch's clip_grad_norm_: coefficient
 * max_norm/(norm + 1e-6), capped at 1) and the optimizer — so parameters and optimizer state go in as inputs and
 * come out updated. In host mode the graph stops at the gradients and the Trainer does the rest.
 */
export function buildStepGraph(g: Graph, o: StepGraphOptions): void {
  const { loss, trainable, optimizer } = o;
  if (loss.graph !== g) throw new GraphError('buildStepGraph', 'the loss belongs to another graph');
  if (loss.rank !== 0) throw new GraphError('buildStepGraph', `the loss must be a scalar [], got ${loss}`);
  const scale = g.input(STEP.lossScale, 'float32', []);
  const grads = grad(loss, trainable.map((p) => p.input), { seed: loss.dtype === 'float32' ? scale : Cast(scale, loss.dtype) });
  g.output(loss.dtype === 'float32' ? loss : Cast(loss, 'float32'), STEP.loss);
  if (o.update === 'host') {
    trainable.forEach((p, i) => g.output(grads[i]!, STEP.grad(p.name)));
    return;
  }
  const factor = g.input(STEP.gradFactor, 'float32', []);
  const scalars = Object.fromEntries(Object.keys(optimizer.scalars(1)).map((k) => [k, g.input(STEP.scalar(k), 'float32', [])]));
  let summed = grads;
  if (o.accumulate) {
    summed = trainable.map((p, i) => {
      const acc = g.input(STEP.accum(p.name), 'float32', p.input.shape);
      const total = Add(acc, grads[i]!);
      g.output(total, STEP.updated(STEP.accum(p.name)));
      return total;
    });
  }
  const unscaled = summed.map((d) => Mul(d, factor));
  const sumSquares = unscaled.map((d) => ReduceSum(Mul(d, d), undefined, false));
  const norm = Sqrt(sumSquares.reduce((a, b) => Add(a, b)));
  g.output(norm, STEP.gradNorm);
  let clipped = unscaled;
  if (o.clipGradNorm !== undefined) {
    const coef = Min(Div(o.clipGradNorm, Add(norm, 1e-6)), 1);
    clipped = unscaled.map((d) => Mul(d, coef));
  }
  trainable.forEach((p, i) => {
    const slots = optimizer.slots.map((s) => g.input(STEP.slot(s, p.name), 'float32', p.input.shape));
    const u = optimizer.buildUpdate(p.input, clipped[i]!, slots, scalars);
    g.output(u.param, STEP.updated(p.name));
    optimizer.slots.forEach((s, k) => g.output(u.slots[k]!, STEP.updated(STEP.slot(s, p.name))));
  });
}
