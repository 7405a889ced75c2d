import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import type { LossScalerState } from './loss-scaler.js';
import { float32Copy } from './tensors.js';
import type { TrainerState } from './trainer.js';

/** File names inside a checkpoint folder (component files are diffusers' own). */
export const CHECKPOINT_FILES = {
  weights: 'diffusion_pytorch_model.safetensors',
  adapters: 'pytorch_lora_weights.safetensors',
  config: 'config.json',
  state: 'training_state.safetensors',
} as const;

export interface CheckpointContents {
  /** The component folder, as in a diffusers model folder: `vae`, `unet`. */
  component: string;
  /** The component's config.json object, written as is. */
  config: unknown;
  /**
   * Every weight of the component under its diffusers names (trained and frozen ones), written as
   * `<component>/diffusion_pytorch_model.safetensors`: the folder then loads with `from_pretrained` and with
   * `bindCheckpoint`. For LoRA runs pass the merged weights (`mergeLoRA`).
   */
  weights: ReadonlyMap<string, Tensor>;
  /** LoRA adapters under peft's names, written as `<component>/pytorch_lora_weights.safetensors`. */
  adapters?: ReadonlyMap<string, Tensor>;
  /**
   * The adapters' scale alpha/r (`addLoRA`'s `scale`): each module's `<module>.alpha` (= scale · r) is written beside
   * its factors, as kohya and diffusers' loaders read it, so the file applies at its trained strength with scale 1.
   */
  adapterScale?: number;
  trainer: TrainerState;
  /** The data generator's state (`Generator.getState()`, torch's layout). */
  rng?: Uint8Array;
  /** Anything else to keep (JSON): the run's options, data position… */
  meta?: Readonly<Record<string, unknown>>;
}

export interface LoadedCheckpoint {
  readonly dir: string;
  readonly component: string;
  readonly config: unknown;
  readonly weights: Map<string, Tensor>;
  readonly adapters?: Map<string, Tensor>;
  readonly trainer: TrainerState;
  readonly rng?: Uint8Array;
  readonly meta: Record<string, unknown>;
}

interface StateHeader {
  version: 1;
  component: string;
  step: number;
  optimizer: TrainerState['optimizer'];
  scaler?: LossScalerState;
  /** Trainer parameters stored in the component files (the rest are `param.<name>` here). */
  paramsIn: Record<string, 'weights' | 'adapters' | 'state'>;
  ema: boolean;
}

const PREFIX = { param: 'param.', slot: 'optimizer.', ema: 'ema.' } as const;
const RNG = 'rng_state';

function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The adapter tensors plus `<module>.alpha` = scale · r for every `<module>.lora_A.weight` [r, …] (none without a scale). */
function withAlphas(adapters: ReadonlyMap<string, Tensor>, scale: number | undefined): ReadonlyMap<string, Tensor> {
  if (scale === undefined) return adapters;
  if (!Number.isFinite(scale) || scale === 0) throw new RangeError(`saveCheckpoint: adapterScale must be a finite non-zero number, got ${scale}`);
  const out = new Map(adapters);
  for (const [key, t] of adapters) {
    if (!key.endsWith('.lora_A.weight')) continue;
    out.set(`${key.slice(0, -'.lora_A.weight'.length)}.alpha`, new Tensor('float32', [], Float32Array.of(scale * t.shape[0]!)));
  }
  return out;
}

/**
 * Save a training checkpoint as a folder: `<component>/config.json` and `<component>/diffusion_pytorch_model.safetensors`
 * (+ `pytorch_lora_weights.safetensors`) — a diffusers component folder — and `training_state.safetensors` with the
 * optimizer state (`optimizer.<slot>.<name>`, torch's state names), EMA weights (`ema.<name>`), the RNG state
 * (`rng_state`, uint8 in torch's Generator layout) and a JSON header (step, loss scaler, optimizer settings) in its
 * metadata. Trainer parameters are stored once: in the weights or adapter file when they are there bit for bit, else
 * as `param.<name>`. The folder appears whole or not at all: it is written under a temporary name and renamed.
 *
 * @example
 * await saveCheckpoint('runs/tiny/checkpoint-000100', { component: 'vae', config, weights, trainer: trainer.state(), rng: gen.getState() });
 */
export async function saveCheckpoint(dir: string, c: CheckpointContents): Promise<void> {
  const temp = join(dirname(dir), `.${basename(dir)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  await mkdir(join(temp, c.component), { recursive: true });
  try {
    const comp = join(temp, c.component);
    await writeFile(join(comp, CHECKPOINT_FILES.config), JSON.stringify(c.config, null, 2) + '\n');
    await writeSafetensorsFile(join(comp, CHECKPOINT_FILES.weights), c.weights, { format: 'pt' });
    if (c.adapters) await writeSafetensorsFile(join(comp, CHECKPOINT_FILES.adapters), withAlphas(c.adapters, c.adapterScale), { format: 'pt' });
    const tensors = new Map<string, Tensor>();
    const paramsIn: StateHeader['paramsIn'] = {};
    for (const [name, t] of c.trainer.params) {
      const inAdapters = c.adapters?.get(name);
      const inWeights = c.weights.get(name);
      if (inAdapters && sameTensor(inAdapters, t)) paramsIn[name] = 'adapters';
      else if (inWeights && sameTensor(inWeights, t)) paramsIn[name] = 'weights';
      else {
        paramsIn[name] = 'state';
        tensors.set(PREFIX.param + name, t);
      }
    }
    for (const [name, t] of c.trainer.slots) tensors.set(PREFIX.slot + name, t);
    for (const [name, t] of c.trainer.ema ?? []) tensors.set(PREFIX.ema + name, t);
    if (c.rng) tensors.set(RNG, new Tensor('uint8', [c.rng.length], c.rng.slice()));
    const header: StateHeader = {
      version: 1,
      component: c.component,
      step: c.trainer.step,
      optimizer: c.trainer.optimizer,
      ...(c.trainer.scaler ? { scaler: c.trainer.scaler } : {}),
      paramsIn,
      ema: c.trainer.ema !== undefined,
    };
    await writeSafetensorsFile(join(temp, CHECKPOINT_FILES.state), tensors, { format: 'pt', sdxs_training_state: JSON.stringify(header), meta: JSON.stringify(c.meta ?? {}) });
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
}

function isStateHeader(h: unknown): h is StateHeader {
  if (typeof h !== 'object' || h === null) return false;
  const o = h as Record<string, unknown>;
  const opt = o['optimizer'];
  return (
    o['version'] === 1 &&
    typeof o['component'] === 'string' &&
    Number.isInteger(o['step']) &&
    typeof o['paramsIn'] === 'object' &&
    o['paramsIn'] !== null &&
    typeof o['ema'] === 'boolean' &&
    typeof opt === 'object' &&
    opt !== null &&
    typeof (opt as Record<string, unknown>)['name'] === 'string'
  );
}

function parseHeader(text: string | undefined, file: string): StateHeader {
  if (text === undefined) throw new Error(`${file}: not an sdxs training state (no sdxs_training_state metadata)`);
  const h: unknown = JSON.parse(text);
  if (!isStateHeader(h)) throw new Error(`${file}: unknown or malformed training state header`);
  return h;
}

/**
 * Read a checkpoint folder written by `saveCheckpoint`: the component's weights and config, and the trainer state
 * to pass to `Trainer.load`, with the RNG state for `Generator.setState`.
 *
 * @example
 * const ckpt = await loadCheckpoint(await latestCheckpoint('runs/tiny'));
 * trainer.load(ckpt.trainer);
 * generator.setState(ckpt.rng!);
 */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const stateFile = join(dir, CHECKPOINT_FILES.state);
  const { tensors, metadata } = await loadSafetensorsFile(stateFile);
  const header = parseHeader(metadata['sdxs_training_state'], stateFile);
  const comp = join(dir, header.component);
  const config: unknown = JSON.parse(await readFile(join(comp, CHECKPOINT_FILES.config), 'utf8'));
  const weights = (await loadSafetensorsFile(join(comp, CHECKPOINT_FILES.weights))).tensors;
  const adapterPath = join(comp, CHECKPOINT_FILES.adapters);
  const adapters = (await exists(adapterPath)) ? (await loadSafetensorsFile(adapterPath)).tensors : undefined;
  const params = new Map<string, Tensor<'float32'>>();
  for (const [name, where] of Object.entries(header.paramsIn)) {
    const t = where === 'state' ? tensors.get(PREFIX.param + name) : where === 'adapters' ? adapters?.get(name) : weights.get(name);
    if (!t) throw new Error(`${dir}: parameter ${name} is missing from its ${where} file`);
    params.set(name, float32Copy(t));
  }
  const byPrefix = (prefix: string) => {
    const out = new Map<string, Tensor<'float32'>>();
    for (const [k, t] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), float32Copy(t));
    return out;
  };
  const trainer: TrainerState = { step: header.step, params, slots: byPrefix(PREFIX.slot), optimizer: header.optimizer };
  if (header.ema) trainer.ema = byPrefix(PREFIX.ema);
  if (header.scaler) trainer.scaler = header.scaler;
  const rngTensor = tensors.get(RNG);
  const meta: unknown = JSON.parse(metadata['meta'] ?? '{}');
  return {
    dir,
    component: header.component,
    config,
    weights,
    ...(adapters ? { adapters } : {}),
    trainer,
    ...(rngTensor && rngTensor.data instanceof Uint8Array ? { rng: rngTensor.data.slice() } : {}),
    meta: typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : {},
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The folder name of the checkpoint at `step`: `checkpoint-<step>`, zero-padded so names sort by step. */
export function checkpointName(step: number): string {
  return `checkpoint-${String(step).padStart(6, '0')}`;
}

/**
 * The newest complete checkpoint folder under `root` (highest step), or undefined. Partial folders of an interrupted
 * save are ignored.
 *
 * @example
 * const dir = await latestCheckpoint('runs/tiny');
 */
export async function latestCheckpoint(root: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return undefined;
  }
  let best: [number, string] | undefined;
  for (const n of names) {
    const m = /^checkpoint-(\d+)$/.exec(n);
    if (!m || !(await exists(join(root, n, CHECKPOINT_FILES.state)))) continue;
    const step = Number(m[1]);
    if (!best || step > best[0]) best = [step, n];
  }
  return best && join(root, best[1]);
}
