import { toOnnx, type Graph, type Value } from '@sdxs/graph';
import { Tensor, type Runtime, type Session, type SessionOptions } from '@sdxs/tensor';
import { Ema, type EmaOptions } from './ema.js';
import { LossScaler, type LossScalerOptions, type LossScalerState } from './loss-scaler.js';
import type { Optimizer } from './optim/types.js';
import type { TrainableParam } from './params/trainable.js';
import { buildStepGraph, STEP, type UpdateMode } from './step-graph.js';
import { float32Copy, float32Data, scalarTensor } from './tensors.js';

/** Named inputs of one (micro-)batch. */
export type Batch = Readonly<Record<string, Tensor>>;

export interface TrainerOptions {
  runtime: Runtime;
  /** A graph computing `loss` from the batch inputs, parameters bound; the Trainer adds the backward pass and update. */
  graph: Graph;
  /** A scalar [] loss value of `graph`. */
  loss: Value;
  /** The parameters to train (`makeTrainable`, `addLoRA`); everything else stays frozen. */
  trainable: readonly TrainableParam[];
  optimizer: Optimizer;
  /** Clip gradients to this global 2-norm (torch's clip_grad_norm_). */
  clipGradNorm?: number;
  /** Micro-batches per optimizer step (default 1): `step` then takes an array of that many batches. */
  accumulationSteps?: number;
  /** Dynamic loss scaling (GradScaler); off by default, for float16 models. */
  lossScaling?: LossScalerOptions | boolean;
  /** Keep an EMA of the trained weights (diffusers' EMAModel). */
  ema?: EmaOptions;
  /**
   * Where the optimizer runs. 'host' (default): the graph returns gradients and TypeScript updates the resident
   * float32 arrays in place; on the CPU backend whole steps run as fast as in graph mode with 30 % less memory (README).
   * 'graph': parameters and state are graph inputs, updated values graph outputs, swapped in each step.
   */
  update?: UpdateMode;
  /** Other graph outputs to return from each step (metrics), by name. */
  metrics?: readonly string[];
  sessionOptions?: SessionOptions;
}

export interface StepResult {
  /** The optimizer step just taken (or skipped): 1 for the first. */
  step: number;
  /** The loss, averaged over the micro-batches (unscaled). */
  loss: number;
  /** The global 2-norm of the (unscaled, averaged) gradient before clipping; inf/NaN when it overflowed. */
  gradNorm: number;
  /** True when the gradients held an inf or a NaN: parameters and state were left unchanged. */
  skipped: boolean;
  /** The loss scale this step used (1 without loss scaling). */
  lossScale: number;
  /** The requested metric outputs of the last micro-batch. */
  metrics: Record<string, Tensor>;
}

/** Everything a checkpoint needs to continue training exactly. */
export interface TrainerState {
  /** Optimizer steps taken (skipped ones included, as torch's scheduler counts them). */
  step: number;
  /** Trainable parameters (float32 masters), by checkpoint key. */
  params: Map<string, Tensor<'float32'>>;
  /** Optimizer state by `<slot>.<param>` (`exp_avg.conv_in.weight`). */
  slots: Map<string, Tensor<'float32'>>;
  /** EMA shadows by parameter key. */
  ema?: Map<string, Tensor<'float32'>>;
  scaler?: LossScalerState;
  optimizer: { name: string; config: Readonly<Record<string, number | boolean | string>> };
}

/**
 * Training on ONNX Runtime: one session runs forward, loss and backward (and, in graph mode, the optimizer) for
 * the whole run; trainable parameters and optimizer state stay resident between steps as float32 tensors (no
 * graph rebuild, no re-upload of frozen weights). Adds to `graph` in place.
 *
 * @example
 * const g = new Graph({ lowering: { attention: 'decomposed', groupNorm: 'instance-norm' } });
 * // … build student and frozen teacher, bind their checkpoints …
 * const trainer = await Trainer.create({ runtime, graph: g, loss: l1DownsampledLoss(student, stopGradient(teacher)),
 *   trainable: makeTrainable(g, /^decoder\./), optimizer: adamw({ lr: 1e-4 }), clipGradNorm: 1 });
 * const { loss, gradNorm, skipped } = await trainer.step({ latents });
 */
export class Trainer {
  readonly optimizer: Optimizer;
  readonly update: UpdateMode;
  readonly accumulationSteps: number;
  readonly clipGradNorm: number | undefined;
  readonly trainable: readonly TrainableParam[];
  readonly #session: Session;
  readonly #metrics: readonly string[];
  #params: Map<string, Tensor<'float32'>>;
  #slots: Map<string, Tensor<'float32'>>;
  #scaler: LossScaler | undefined;
  #ema: Ema | undefined;
  #step = 0;
  /** Host-mode accumulation buffers (accumulationSteps > 1), allocated once. */
  readonly #accum = new Map<string, Float32Array>();
  /** Graph-mode zero accumulators for the first micro-batch, allocated once. */
  readonly #zeros = new Map<string, Tensor<'float32'>>();

  private constructor(o: TrainerOptions, session: Session) {
    this.optimizer = o.optimizer;
    this.update = o.update ?? 'host';
    this.accumulationSteps = o.accumulationSteps ?? 1;
    this.clipGradNorm = o.clipGradNorm;
    this.trainable = o.trainable;
    this.#session = session;
    this.#metrics = o.metrics ?? [];
    this.#params = new Map(o.trainable.map((p) => [p.name, float32Copy(p.init)]));
    this.#slots = new Map();
    for (const p of o.trainable) for (const s of o.optimizer.slots) this.#slots.set(STEP.slot(s, p.name), Tensor.zeros('float32', p.init.shape));
    this.#scaler = o.lossScaling ? new LossScaler(o.lossScaling === true ? {} : o.lossScaling) : undefined;
    this.#ema = o.ema ? new Ema(this.#params, o.ema) : undefined;
  }

  /** Build the step graph into `options.graph`, serialize it and open the one session of the run. */
  static async create(options: TrainerOptions): Promise<Trainer> {
    const n = options.accumulationSteps ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Trainer: accumulationSteps must be a positive integer, got ${n}`);
    if (options.clipGradNorm !== undefined && !(options.clipGradNorm > 0)) throw new RangeError(`Trainer: clipGradNorm must be > 0, got ${options.clipGradNorm}`);
    if (options.trainable.length === 0) throw new RangeError('Trainer: nothing to train');
    const names = new Set<string>();
    for (const p of options.trainable) {
      if (names.has(p.name)) throw new RangeError(`Trainer: ${p.name} is listed twice`);
      names.add(p.name);
    }
    const update = options.update ?? 'host';
    buildStepGraph(options.graph, {
      loss: options.loss,
      trainable: options.trainable,
      optimizer: options.optimizer,
      update,
      accumulate: n > 1,
      ...(options.clipGradNorm !== undefined ? { clipGradNorm: options.clipGradNorm } : {}),
    });
    const session = await options.runtime.createSession(toOnnx(options.graph), { label: 'training step', ...options.sessionOptions });
    return new Trainer(options, session);
  }

  /** Optimizer steps taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  /** The current loss scale (1 without loss scaling). */
  get lossScale(): number {
    return this.#scaler?.scale ?? 1;
  }

  /** The trainable parameters' current values (the resident tensors: copy before keeping them). */
  params(): ReadonlyMap<string, Tensor<'float32'>> {
    return this.#params;
  }

  /** The EMA shadows, when an EMA is kept. */
  emaParams(): ReadonlyMap<string, Tensor<'float32'>> | undefined {
    return this.#ema?.shadows;
  }

  /**
   * One optimizer step: forward and backward on each micro-batch (one batch, or an array of
   * `accumulationSteps`), gradients averaged, unscaled, checked for inf/NaN (then the step is skipped and the loss
   * scale backs off), clipped, and applied.
   */
  async step(batch: Batch | readonly Batch[]): Promise<StepResult> {
    const micro: readonly Batch[] = isBatchList(batch) ? batch : [batch];
    if (micro.length !== this.accumulationSteps) throw new RangeError(`Trainer.step: got ${micro.length} micro-batches, accumulationSteps is ${this.accumulationSteps}`);
    const scale = this.lossScale;
    const result = this.update === 'host' ? await this.#hostStep(micro, scale) : await this.#graphStep(micro, scale);
    this.#step++;
    this.#scaler?.update(result.skipped);
    if (!result.skipped) this.#ema?.update(this.#params, this.#step);
    return { ...result, step: this.#step, lossScale: scale };
  }

  async #hostStep(micro: readonly Batch[], scale: number): Promise<Omit<StepResult, 'step' | 'lossScale'>> {
    const n = micro.length;
    const outputs = [STEP.loss, ...this.trainable.map((p) => STEP.grad(p.name)), ...this.#metrics];
    let lossSum = 0;
    let grads = new Map<string, Float32Array>();
    let metrics: Record<string, Tensor> = {};
    for (let k = 0; k < n; k++) {
      const feeds: Record<string, Tensor> = { ...micro[k]!, [STEP.lossScale]: scalarTensor(scale) };
      for (const p of this.trainable) feeds[p.input.name] = this.#params.get(p.name)!;
      const out = await this.#session.run(feeds, outputs);
      lossSum += scalarOf(out, STEP.loss);
      metrics = pick(out, this.#metrics);
      for (const p of this.trainable) {
        const g = float32Data(need(out, STEP.grad(p.name)), STEP.grad(p.name));
        if (n === 1) grads.set(p.name, g);
        else {
          let acc = this.#accum.get(p.name);
          if (!acc) this.#accum.set(p.name, (acc = new Float32Array(g.length)));
          if (k === 0) acc.set(g);
          else for (let j = 0; j < g.length; j++) acc[j] = acc[j]! + g[j]!;
        }
      }
    }
    if (n > 1) grads = this.#accum;
    // The gradient is factor·g (unscaled and averaged): its norm first (a read-only pass, float64 sums), then one
    // pass per parameter applies factor·clip coefficient inside the optimizer's loop.
    const factor = 1 / (scale * n);
    let sumSquares = 0;
    for (const g of grads.values()) {
      let s = 0;
      for (let j = 0; j < g.length; j++) s += g[j]! * g[j]!;
      sumSquares += s;
    }
    const gradNorm = Math.sqrt(sumSquares) * factor;
    const loss = lossSum / n;
    if (!Number.isFinite(gradNorm)) return { loss, gradNorm, skipped: true, metrics };
    const coef = this.clipGradNorm === undefined ? 1 : Math.min(this.clipGradNorm / (gradNorm + 1e-6), 1);
    const s = this.optimizer.scalars(this.#step + 1);
    for (const p of this.trainable) {
      const slots = this.optimizer.slots.map((slot) => float32Data(this.#slots.get(STEP.slot(slot, p.name))!, slot));
      this.optimizer.applyHost(float32Data(this.#params.get(p.name)!, p.name), grads.get(p.name)!, slots, s, factor * coef);
    }
    return { loss, gradNorm, skipped: false, metrics };
  }

  async #graphStep(micro: readonly Batch[], scale: number): Promise<Omit<StepResult, 'step' | 'lossScale'>> {
    const n = micro.length;
    const feeds: Record<string, Tensor> = {
      [STEP.lossScale]: scalarTensor(scale),
      [STEP.gradFactor]: scalarTensor(1 / (scale * n)),
    };
    for (const [k, v] of Object.entries(this.optimizer.scalars(this.#step + 1))) feeds[STEP.scalar(k)] = scalarTensor(v);
    for (const p of this.trainable) {
      feeds[p.input.name] = this.#params.get(p.name)!;
      for (const s of this.optimizer.slots) feeds[STEP.slot(s, p.name)] = this.#slots.get(STEP.slot(s, p.name))!;
    }
    const accumNames = n > 1 ? this.trainable.map((p) => STEP.accum(p.name)) : [];
    const final = [STEP.loss, STEP.gradNorm, ...this.#metrics, ...this.trainable.flatMap((p) => [p.name, ...this.optimizer.slots.map((s) => STEP.slot(s, p.name))]).map(STEP.updated)];
    let lossSum = 0;
    let out: Record<string, Tensor> = {};
    for (let k = 0; k < n; k++) {
      for (const name of accumNames) {
        const p = this.trainable[accumNames.indexOf(name)]!;
        feeds[name] = k === 0 ? this.#zero(p) : need(out, STEP.updated(name));
      }
      const last = k === n - 1;
      out = await this.#session.run({ ...feeds, ...micro[k]! }, last ? final : [STEP.loss, ...accumNames.map(STEP.updated)]);
      lossSum += scalarOf(out, STEP.loss);
    }
    const gradNorm = scalarOf(out, STEP.gradNorm);
    const loss = lossSum / n;
    const metrics = pick(out, this.#metrics);
    if (!Number.isFinite(gradNorm)) return { loss, gradNorm, skipped: true, metrics };
    for (const p of this.trainable) {
      this.#params.set(p.name, asFloat32(need(out, STEP.updated(p.name)), p.name));
      for (const s of this.optimizer.slots) {
        const key = STEP.slot(s, p.name);
        this.#slots.set(key, asFloat32(need(out, STEP.updated(key)), key));
      }
    }
    return { loss, gradNorm, skipped: false, metrics };
  }

  #zero(p: TrainableParam): Tensor<'float32'> {
    let z = this.#zeros.get(p.name);
    if (!z) this.#zeros.set(p.name, (z = Tensor.zeros('float32', p.init.shape)));
    return z;
  }

  /** A copy of everything needed to continue exactly: step, parameters, optimizer state, EMA, loss scale. */
  state(): TrainerState {
    const copyMap = (m: ReadonlyMap<string, Tensor<'float32'>>) => new Map([...m].map(([k, v]) => [k, float32Copy(v)]));
    const state: TrainerState = {
      step: this.#step,
      params: copyMap(this.#params),
      slots: copyMap(this.#slots),
      optimizer: { name: this.optimizer.name, config: this.optimizer.config },
    };
    if (this.#ema) state.ema = copyMap(this.#ema.shadows);
    if (this.#scaler) state.scaler = this.#scaler.state();
    return state;
  }

  /** Continue from a saved state (same parameters, same optimizer); values are copied in. */
  load(state: TrainerState): void {
    if (state.optimizer.name !== this.optimizer.name) throw new Error(`Trainer.load: the state is for ${state.optimizer.name}, this trainer runs ${this.optimizer.name}`);
    const take = (from: ReadonlyMap<string, Tensor>, into: Map<string, Tensor<'float32'>>, what: string) => {
      for (const [k, cur] of into) {
        const t = from.get(k);
        if (!t) throw new Error(`Trainer.load: the state has no ${what} ${k}`);
        if (t.shape.join() !== cur.shape.join()) throw new Error(`Trainer.load: ${what} ${k} is [${t.shape}], expected [${cur.shape}]`);
        into.set(k, float32Copy(t));
      }
    };
    take(state.params, this.#params, 'parameter');
    take(state.slots, this.#slots, 'optimizer state');
    if (this.#ema) {
      if (!state.ema) throw new Error('Trainer.load: the state has no EMA weights, this trainer keeps an EMA');
      take(state.ema, this.#ema.shadows, 'EMA weight');
    }
    if (this.#scaler && state.scaler) this.#scaler.load(state.scaler);
    this.#step = state.step;
  }

  async dispose(): Promise<void> {
    await this.#session.dispose();
  }
}

function isBatchList(b: Batch | readonly Batch[]): b is readonly Batch[] {
  return Array.isArray(b);
}

function need(out: Readonly<Record<string, Tensor>>, name: string): Tensor {
  const t = out[name];
  if (!t) throw new Error(`training step: the session returned no ${name}`);
  return t;
}

function scalarOf(out: Readonly<Record<string, Tensor>>, name: string): number {
  return float32Data(need(out, name), name)[0]!;
}

function asFloat32(t: Tensor, name: string): Tensor<'float32'> {
  return new Tensor('float32', t.shape, float32Data(t, name));
}

function pick(out: Readonly<Record<string, Tensor>>, names: readonly string[]): Record<string, Tensor> {
  return Object.fromEntries(names.map((n) => [n, need(out, n)]));
}
