import type { Graph } from '../graph.js';
import { Identity } from '../ops/identity.js';
import type { Value } from '../value.js';

// The values made by stopGradient, per graph. The mark lives here rather than on the node: ONNX Runtime
// refuses attributes an op's schema does not define, so the node stays a plain Identity.
const stopped = new WeakMap<Graph, Set<string>>();

/**
 * `x` unchanged in the forward pass, a constant to `grad`: no gradient flows back through it. The
 * distillation recipe uses it for targets made by the networks being trained (e.g. the student's own
 * samples fed to the online score model, or Diff-Instruct's score difference injected as a gradient).
 *
 * @example
 * const target = stopGradient(teacherOutput);
 * const loss = ReduceMean(Abs(Sub(student, target)));
 */
export function stopGradient(x: Value): Value {
  const y = Identity(x);
  let names = stopped.get(x.graph);
  if (!names) stopped.set(x.graph, (names = new Set()));
  names.add(y.name);
  return y;
}

/** True for values made by `stopGradient`. */
export function isStopGradient(v: Value): boolean {
  return stopped.get(v.graph)?.has(v.name) ?? false;
}

/** The names of a graph's stop-gradient values (for the backward pass). */
export function stoppedNames(g: Graph): ReadonlySet<string> {
  return stopped.get(g) ?? new Set();
}
