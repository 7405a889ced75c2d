import { Cast, GraphError, replaceReads, type Graph, type Value } from '@sdxs/graph';
import { isFloatDType, type Tensor } from '@sdxs/tensor';
import { float32Copy } from '../tensors.js';


/**
 * A parameter the optimizer updates: a float32 graph input (the master copy) and its starting value. Parameters
 * stored in float16/bfloat16 get a float32 master input, cast to the model's dtype inside the graph, so updates
 * accumulate in float32 (mixed precision).
 */
export interface TrainableParam {
  /** The checkpoint key (`decoder.layers.2.conv.0.weight`, `…to_q.lora_A.weight`). */
  readonly name: string;
  /** The graph input the step feeds (float32). */
  readonly input: Value;
  /** The starting value (float32). */
  readonly init: Tensor<'float32'>;
  /** The dtype the model computes in (what a checkpoint stores). */
  readonly modelDType: Tensor['dtype'];
}

/** Which parameters to train: names, a pattern on names, or a predicate. */
export type ParamSelector = readonly string[] | RegExp | ((name: string) => boolean);

function matcher(select: ParamSelector): (name: string) => boolean {
  if (typeof select === 'function') return select;
  if (select instanceof RegExp) return (n) => select.test(n);
  const set = new Set(select);
  return (n) => set.has(n);
}

/**
 * Turn the selected bound parameters of `g` into graph inputs, so each step feeds their current values; the
 * others stay initializers (frozen: ONNX Runtime may fold them, and `grad` builds no gradient for them). A frozen
 * teacher and a trained student can thus share one graph. Call after binding the checkpoint; the values bound
 * become the starting values.
 *
 * @example
 * await bindCheckpoint(g, [file]);
 * const trainable = makeTrainable(g, /^student\./);
 */
export function makeTrainable(g: Graph, select: ParamSelector): TrainableParam[] {
  const wanted = matcher(select);
  const names = [...g.parameterNames].filter(wanted);
  if (names.length === 0) throw new GraphError('makeTrainable', 'no parameter matches the selection');
  return names.map((name) => {
    const init = g.initializers.get(name)!;
    const data = init.data;
    if (data === undefined) throw new GraphError('makeTrainable', `${name} is not bound yet; bind the checkpoint first`);
    if (!('dtype' in data)) throw new GraphError('makeTrainable', `${name} is bound to external data; bind tensors (bindCheckpoint) to train it`);
    if (!isFloatDType(data.dtype)) throw new GraphError('makeTrainable', `${name} is ${data.dtype}; only float parameters train`);
    g.initializers.delete(name);
    g.parameterNames.delete(name);
    const value = g.value(name);
    let input = value;
    if (value.dtype === 'float32') g.inputs.push(value);
    else {
      // The graph reads a float16 copy of a float32 master input.
      input = g.input(`${name}::master`, 'float32', value.shape);
      replaceReads(g, name, () => Cast(input, value.dtype));
    }
    return { name, input, init: float32Copy(data), modelDType: value.dtype };
  });
}

/**
 * Turn the selected bound float32 parameters of `g` into plain graph inputs, fed each step and never trained here:
 * the weights of a network another trainer updates (Diff-Instruct's online diffusion model, read by the student's
 * step). Returns their names; feed each under its name with the other trainer's current values.
 *
 * @example
 * const fed = makeInputs(studentGraph, /^online\./);
 * await student.step({ ...batch, ...Object.fromEntries(online.params()) });
 */
export function makeInputs(g: Graph, select: ParamSelector): string[] {
  const wanted = matcher(select);
  const names = [...g.parameterNames].filter(wanted);
  if (names.length === 0) throw new GraphError('makeInputs', 'no parameter matches the selection');
  for (const name of names) {
    const init = g.initializers.get(name)!;
    if (init.dtype !== 'float32') throw new GraphError('makeInputs', `${name} is ${init.dtype}; only float32 parameters are fed`);
    g.initializers.delete(name);
    g.parameterNames.delete(name);
    g.inputs.push(g.value(name));
  }
  return names;
}
