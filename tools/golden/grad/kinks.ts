import type { Graph, Node } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';

/**
 * ReLU kinks in gradient checks.
 *
 * ReLU's derivative jumps at 0, so a ReLU input that is zero up to float32 rounding has a gradient that depends on the
 * sign rounding gave it. Two correct float32 forward passes (PyTorch's oneDNN convolutions, ONNX Runtime's MLAS ones)
 * round differently, and where one lands at +1e-7 and the other at −1e-7 one keeps that position's cotangent and the
 * other drops it: every gradient upstream of that ReLU then differs by that one cotangent, far beyond 1e-4 of its
 * scale, although both backward passes are right for their own forward pass. grad-vae-tiny-decoder has such
 * positions (its deep layers accumulate forward differences of tens of ulps).
 *
 * The check may then evaluate our backward pass with the other subgradient at those positions, and only those:
 * each affected ReLU is rebuilt as `Mul(x, mask)` with `mask = (our x > 0)`, the chosen near-zero positions flipped.
 * The forward pass moves by at most |x| (rounding level) and the gradient becomes the one the other sign choice
 * gives; the comparison itself keeps its tolerance. Every flip is reported.
 *
 * Which positions to flip is found stage by stage (`kinkStages`, `searchSubgradients`), never by trying every
 * combination: a gradient depends on a ReLU's mask only when its parameter (or input) lies upstream of that ReLU, so
 * the ReLUs are decided from the last to the first, each by the outputs that depend on no earlier undecided ReLU.
 */

/** float32's unit roundoff, 2⁻²⁴. */
const UNIT_ROUNDOFF = 2 ** -24;

/**
 * "Within rounding of zero": |x| ≤ NEAR_ZERO_ULPS · 2⁻²⁴ · rms(x) over the ReLU's whole input. The forward passes of
 * two float32 implementations drift apart with depth: in grad-vae-tiny-decoder the sign disagreements sit up to ~20 of
 * these units from zero, so a tighter bound would miss real kinks; 64 leaves margin and still marks only one input in
 * ~280 000 there (44 of 12.5 million).
 */
export const NEAR_ZERO_ULPS = 64;

export interface SearchLimits {
  /** A stage with more near-zero positions than this is not searched: the check fails, saying so. */
  readonly handful: number;
  /** The most positions flipped in one stage. */
  readonly maxFlips: number;
  /** The most forward/backward evaluations of the whole search. */
  readonly maxEvaluations: number;
}

/**
 * A handful of candidates per stage, at most two flipped per stage (grad-vae-tiny-decoder needs one in each of four
 * ReLUs, found in 6 evaluations), and a bound on the evaluations so that a real backward-pass bug, which no choice
 * explains, fails in minutes rather than searching on.
 */
export const DEFAULT_LIMITS: SearchLimits = { handful: 8, maxFlips: 2, maxEvaluations: 24 };

/** One ReLU input position within rounding of zero. */
export interface NearZero {
  /** The Relu node's name. */
  readonly relu: string;
  /** Row-major index into the ReLU's input. */
  readonly index: number;
  readonly coords: readonly number[];
  /** Our float32 value there. */
  readonly x: number;
  /** The root mean square of the ReLU's whole input: the scale rounding is measured against. */
  readonly rms: number;
  /** |x| / (2⁻²⁴ · rms). */
  readonly ulps: number;
}

/** The graph's ONNX Relu nodes, in graph (topological) order. */
export function reluNodes(graph: Graph): Node[] {
  return graph.nodes.filter((n) => n.opType === 'Relu' && n.domain === '');
}

/** The positions of `x` (the input of Relu `relu`) within `ulps` · 2⁻²⁴ · rms(x) of zero, nearest first. */
export function nearZeroInputs(relu: string, x: Tensor, ulps = NEAR_ZERO_ULPS): NearZero[] {
  const data = floatData(x, relu);
  let sumSquares = 0;
  for (const v of data) sumSquares += v * v;
  const rms = Math.sqrt(sumSquares / Math.max(1, data.length));
  const unit = UNIT_ROUNDOFF * rms;
  const found: NearZero[] = [];
  if (unit === 0) return found;
  data.forEach((v, index) => {
    if (Math.abs(v) <= ulps * unit) found.push({ relu, index, coords: unravel(index, x.shape), x: v, rms, ulps: Math.abs(v) / unit });
  });
  return found.sort((a, b) => a.ulps - b.ulps);
}

/**
 * Rebuild each named Relu of `graph` as `Mul(x, mask)`, the mask a new float32 graph input of x's shape (fed per
 * evaluation, so one session serves every choice). Must run before `grad` builds the backward pass: Mul's rule then
 * passes `dy · mask`, i.e. the subgradient the mask chooses, and the mask, an input nobody differentiates, gets none.
 * The node keeps its name and output, so everything downstream is untouched. Returns the mask input's name by Relu.
 */
export function maskRelus(graph: Graph, relus: readonly string[]): Map<string, string> {
  const masks = new Map<string, string>();
  for (const relu of relus) {
    const i = graph.nodes.findIndex((n) => n.name === relu);
    const node = graph.nodes[i];
    if (!node || node.opType !== 'Relu') throw new Error(`${graph.name}: no Relu node named ${relu}`);
    const x = graph.value(node.inputs[0]!);
    if (x.dtype !== 'float32') throw new Error(`${relu}: subgradient masks are float32, the input is ${x.dtype}`);
    const mask = graph.input(`subgradient_mask.${relu}`, 'float32', x.shape);
    graph.nodes[i] = { opType: 'Mul', domain: '', name: node.name, inputs: [x.name, mask.name], outputs: node.outputs, attributes: {} };
    masks.set(relu, mask.name);
  }
  return masks;
}

/** The mask feeds for `maskRelus`' inputs: `our x > 0`, with `flips` inverted. */
export function maskFeeds(probe: ReadonlyMap<string, Tensor>, masks: ReadonlyMap<string, string>, flips: readonly NearZero[]): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const [relu, input] of masks) {
    const x = probe.get(relu);
    if (!x) throw new Error(`no probed input for ${relu}`);
    const mask = Float32Array.from(floatData(x, relu), (v) => (v > 0 ? 1 : 0));
    for (const f of flips) if (f.relu === relu) mask[f.index] = 1 - mask[f.index]!;
    feeds[input] = new Tensor('float32', x.shape, mask);
  }
  return feeds;
}

/** A set of ReLUs decided together, by the outputs that depend on them and on no earlier undecided ReLU. */
export interface KinkStage {
  readonly relus: readonly string[];
  /** Their near-zero positions, nearest to zero first. */
  readonly pool: readonly NearZero[];
  /** The outputs that decide them. */
  readonly witnesses: readonly string[];
}

export interface KinkPlan {
  /** From the last ReLU in the graph to the first. */
  readonly stages: readonly KinkStage[];
  /** Outputs no near-zero ReLU lies downstream of: no choice of subgradient changes them. */
  readonly unaffected: readonly string[];
}

/**
 * Group the near-zero positions into stages. `sources` maps each checked output to the graph value it is the gradient
 * of (a parameter or an input); an output depends on a ReLU's mask when its source is upstream of that ReLU's input.
 * Each output is a witness of the first ReLU (in graph order) it depends on: once every later ReLU is decided, that
 * output is fixed by this ReLU's choice alone. A ReLU no output witnesses is decided together with the one before it.
 */
export function kinkStages(graph: Graph, sources: ReadonlyMap<string, string>, nearZero: readonly NearZero[]): KinkPlan {
  const order = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const relus = [...new Set(nearZero.map((z) => z.relu))].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const upstream = new Map(relus.map((r) => [r, ancestors(graph, graph.nodes[order.get(r)!]!.inputs[0]!)]));
  const witnessesOf = new Map<string, string[]>(relus.map((r) => [r, []]));
  const unaffected: string[] = [];
  for (const [output, source] of sources) {
    const first = relus.find((r) => upstream.get(r)!.has(source));
    if (first === undefined) unaffected.push(output);
    else witnessesOf.get(first)!.push(output);
  }
  const stages: KinkStage[] = [];
  let carried: string[] = [];
  for (const relu of [...relus].reverse()) {
    carried.push(relu);
    const witnesses = witnessesOf.get(relu)!;
    if (witnesses.length === 0) continue;
    const pool = nearZero.filter((z) => carried.includes(z.relu)).sort((a, b) => a.ulps - b.ulps);
    stages.push({ relus: carried, pool, witnesses });
    carried = [];
  }
  return { stages, unaffected };
}

export interface SearchOutcome<T> {
  readonly ok: boolean;
  /** The positions evaluated with the other subgradient (accepted so far, when not ok). */
  readonly flips: readonly NearZero[];
  /** The outputs of the last accepted evaluation (`initial` when none was). */
  readonly outputs: T;
  readonly evaluations: number;
  /** Why the search stopped, when not ok. */
  readonly reason?: string;
}

/**
 * Decide the stages of `plan` in order: keep our subgradients where the stage's witnesses already pass, else try
 * flipping one position of its pool, then two, … (nearest to zero first), and keep the first choice under which they
 * pass. A stage with more than `handful` near-zero positions is not searched, and no stage may flip more than
 * `maxFlips`: the search then fails, so an ill-conditioned case stays red rather than being fitted. Outputs no
 * near-zero ReLU can change must already pass. `initial` are the outputs with our own subgradients everywhere (the
 * plain run); `evaluate` runs the forward and backward pass with the given flips (counted as evaluations); `failing`
 * names the outputs (of those given) that miss.
 */
export async function searchSubgradients<T>(
  plan: KinkPlan,
  initial: T,
  evaluate: (flips: readonly NearZero[]) => Promise<T>,
  failing: (outputs: T, names: readonly string[]) => string[],
  limits: SearchLimits = DEFAULT_LIMITS,
): Promise<SearchOutcome<T>> {
  let accepted: NearZero[] = [];
  let current = initial;
  let evaluations = 0;
  const stop = (reason: string): SearchOutcome<T> => ({ ok: false, flips: accepted, outputs: current, evaluations, reason });
  const still = failing(current, plan.unaffected);
  if (still.length > 0) return stop(`${still.join(', ')} miss(es) and no near-zero ReLU input lies downstream of them: not a kink`);
  for (const stage of plan.stages) {
    const missing = failing(current, stage.witnesses);
    if (missing.length === 0) continue;
    const where = stage.relus.join(' + ');
    if (stage.pool.length > limits.handful) {
      return stop(`${where}: ${stage.pool.length} ReLU inputs within rounding of zero, more than ${limits.handful}: no combinations tried (${list(missing)} miss)`);
    }
    let found = false;
    // The trial that left the fewest witnesses missing, to say what no choice explains.
    let best = { subset: [] as readonly NearZero[], missing };
    for (const subset of subsets(stage.pool, limits.maxFlips)) {
      if (evaluations >= limits.maxEvaluations) return stop(`${where}: search stopped after ${evaluations} evaluations (${list(best.missing)} still miss)`);
      const trial = await evaluate([...accepted, ...subset]);
      evaluations++;
      const left = failing(trial, stage.witnesses);
      if (left.length === 0) {
        accepted = [...accepted, ...subset];
        current = trial;
        found = true;
        break;
      }
      if (left.length < best.missing.length) best = { subset, missing: left };
    }
    if (!found) {
      const tried = best.subset.length === 0 ? 'flipping none of them' : `flipping ${best.subset.map((z) => `${z.relu} input[${z.coords.join(',')}]`).join(' and ')}`;
      return stop(`${where}: no choice of the other subgradient at up to ${limits.maxFlips} of its ${stage.pool.length} near-zero inputs makes its ${stage.witnesses.length} witness output(s) match (best, ${tried}: ${list(best.missing)} still miss)`);
    }
  }
  return { ok: true, flips: accepted, outputs: current, evaluations };
}

/** A few output names, for messages. */
function list(names: readonly string[]): string {
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
}

/** One line per flipped position. */
export function describeFlip(z: NearZero): string {
  return `${z.relu} input[${z.coords.join(',')}] = ${z.x.toExponential(2)} (${z.ulps.toFixed(1)}·2⁻²⁴·rms, rms ${z.rms.toExponential(2)}): ${z.x > 0 ? 'dropped' : 'kept'} instead of ${z.x > 0 ? 'kept' : 'dropped'}`;
}

/** Non-empty subsets of `pool` of up to `max` elements: by size, then in the pool's order. */
function* subsets<T>(pool: readonly T[], max: number): Generator<T[]> {
  function* ofSize(start: number, k: number): Generator<T[]> {
    if (k === 0) {
      yield [];
      return;
    }
    for (let i = start; i <= pool.length - k; i++) for (const rest of ofSize(i + 1, k - 1)) yield [pool[i]!, ...rest];
  }
  for (let k = 1; k <= Math.min(max, pool.length); k++) yield* ofSize(0, k);
}

/** Every value `value` is computed from (itself included). */
function ancestors(graph: Graph, value: string): Set<string> {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const seen = new Set<string>();
  const todo = [value];
  for (let v = todo.pop(); v !== undefined; v = todo.pop()) {
    if (v === '' || seen.has(v)) continue;
    seen.add(v);
    for (const i of producer.get(v)?.inputs ?? []) todo.push(i);
  }
  return seen;
}

function floatData(x: Tensor, what: string): Float32Array {
  if (!(x.data instanceof Float32Array)) throw new Error(`${what}: expected a float32 ReLU input, got ${x.dtype}`);
  return x.data;
}

function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1, rest = index; d >= 0; d--) {
    const size = shape[d]!;
    coords[d] = rest % size;
    rest = Math.floor(rest / size);
  }
  return coords;
}
