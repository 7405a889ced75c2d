/**
 * LoRA adapters at inference: each file read and checked against the model's own weights (every module found,
 * every shape fitting), then kept as low-rank terms per parameter that the weight assembly merges in
 * (W + Σ scale·up·down, merge.ts) when a graph's session is created. A component with adapters is read into
 * memory rather than pointed at in its files (file-backed.ts), since its merged tensors exist nowhere on disk.
 */
import { ArrayBufferByteSource, castTensor, SafetensorsFile, type ModelSource, type Tensor } from '@sdxs/tensor';
import { unetKeyToLdm, type LdmUNetLayout } from '@sdxs/unet';
import { sha256Hex } from '../cache/sha256.js';
import type { ComponentWeights } from '../model/weights.js';
import { flattenModule, parseLoraKeys, type LoraComponent, type LoraModuleKeys } from './keys.js';
import type { LoraTerm } from './merge.js';

/** A LoRA file in a model source (a folder, a repo), and how strongly to apply it (default 1). */
export interface LoraFile {
  readonly source: ModelSource;
  /** The file's path inside the source, e.g. `pytorch_lora_weights.safetensors`. */
  readonly file: string;
  readonly scale?: number;
}

/** A LoRA file by path (Node) or URL (browsers), opened through the platform. */
export interface LoraPath {
  readonly path: string;
  readonly scale?: number;
}

/** A LoRA adapter to apply: the update is scale × alpha/rank × up·down. */
export type LoraAdapter = LoraFile | LoraPath;

/** What identifies an applied adapter in graph keys: the file's content and the scale. */
export interface LoraIdentity {
  readonly sha256: string;
  readonly size: number;
  readonly scale: number;
}

/**
 * How adapters reach the graphs: `merge` (default) folds W + Σ scale·up·down into the weights when a session is
 * created — the fastest graphs, a rebuild per scale; `nodes` keeps them as low-rank nodes whose scales are a graph
 * input (nodes.ts), switchable with `setLoraScales` without a rebuild.
 */
export type LoraMode = 'merge' | 'nodes';

/** The adapters of one component: their identities (for keys) and the terms to merge, by parameter name. */
export interface ComponentLora {
  readonly adapters: readonly LoraIdentity[];
  readonly terms: ReadonlyMap<string, readonly LoraTerm[]>;
  /** Absent: merged. */
  readonly mode?: LoraMode;
}

const COMPONENT_NAMES: Readonly<Record<LoraComponent, string>> = { unet: 'U-Net', text_encoder: 'text encoder', text_encoder_2: 'second text encoder' };

function dims(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A shape without the trailing 1s past its first two dimensions ([o, i, 1, 1] is a linear [o, i]). */
function core(shape: readonly number[]): string {
  const s = [...shape];
  while (s.length > 2 && s[s.length - 1] === 1) s.pop();
  return s.join(',');
}

/** The original SD module path of a U-Net weight (`input_blocks.1.1.proj_in`), if the layout has one. */
function ldmModule(key: string, layout: LdmUNetLayout): string | undefined {
  try {
    return unetKeyToLdm(key, layout).slice(0, -'.weight'.length);
  } catch {
    return undefined;
  }
}

/**
 * Model keys of a component's files (through its bind rule), and kohya's flattened names of its weights — for the
 * U-Net also the flattened original SD names (`input_blocks_4_1_proj_in`), as kohya's SDXL LoRAs name modules.
 */
function moduleIndex(w: ComponentWeights, ldm: LdmUNetLayout | undefined): { keys: Map<string, readonly number[]>; flat: Map<string, string>; toModel: (k: string) => string } {
  const toModel = w.bind.fileKeyToModelKey ?? ((k: string) => k);
  const keys = new Map<string, readonly number[]>();
  const flat = new Map<string, string>();
  for (const f of w.files) {
    for (const [k, e] of f.entries) {
      const key = toModel(k);
      keys.set(key, e.shape);
      if (!key.endsWith('.weight') || e.shape.length < 2) continue;
      flat.set(flattenModule(key.slice(0, -'.weight'.length)), key);
      const original = ldm && ldmModule(key, ldm);
      if (original) flat.set(flattenModule(original), key);
    }
  }
  return { keys, flat, toModel };
}

function scalar(t: Tensor, key: string, where: string): number {
  const v = t.size === 1 ? Number(castTensor(t, 'float32').data[0]) : NaN;
  if (!Number.isFinite(v) || v === 0) throw new Error(`${where}: "${key}" must be one finite, non-zero number (the adapter's alpha), got ${t.dtype}${dims(t.shape)}`);
  return v;
}

async function readFile(a: LoraFile, where: string): Promise<{ file: SafetensorsFile; identity: Omit<LoraIdentity, 'scale'> }> {
  if (!(await a.source.exists(a.file))) throw new Error(`${where}: no such LoRA file`);
  const bytes = await a.source.open(a.file);
  let all: Uint8Array;
  try {
    all = await bytes.read(0, bytes.size);
  } finally {
    await bytes.close?.();
  }
  const file = await SafetensorsFile.open(new ArrayBufferByteSource(all, { name: where, noCopy: true }));
  return { file, identity: { sha256: await sha256Hex(all), size: all.length } };
}

/** An adapter as images record it: the file's name without extension, the scale, the whole file's SHA-256. */
export interface AppliedLora {
  readonly name: string;
  readonly scale: number;
  readonly sha256: string;
}

/** What {@link loadLora} found: the terms per component and the adapters in the order given. */
export interface LoadedLora {
  readonly components: Partial<Record<LoraComponent, ComponentLora>>;
  readonly applied: readonly AppliedLora[];
}

/**
 * Read `adapters` against the model's component weights: their terms and identities per component. Errors name
 * the file and key: a missing file, a key that is no LoRA key, a module the model does not have, a shape that
 * does not fit, a component the model lacks (a LoRA for another architecture).
 *
 * @example
 * const lora = await loadLora([{ source, file: 'style.safetensors', scale: 0.8 }], { unet, text_encoder }, 'my-model');
 */
export async function loadLora(
  adapters: readonly LoraFile[],
  weights: Partial<Record<LoraComponent, ComponentWeights>>,
  modelId: string,
  options: { readonly unetLdm?: LdmUNetLayout | undefined } = {},
): Promise<LoadedLora> {
  const applied: AppliedLora[] = [];
  const terms = new Map<LoraComponent, Map<string, LoraTerm[]>>();
  const identities = new Map<LoraComponent, LoraIdentity[]>();
  const indexes = new Map<LoraComponent, ReturnType<typeof moduleIndex>>();
  for (const [i, a] of adapters.entries()) {
    const where = `${a.source.id}/${a.file}`;
    const scale = a.scale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new RangeError(`lora[${i}] (${where}): "scale" must be a finite number, got ${String(scale)}`);
    const { file, identity } = await readFile(a, where);
    try {
      const modules = parseLoraKeys(file.entries.keys(), where);
      if (modules.length === 0) throw new Error(`${where}: holds no LoRA tensors`);
      const unmatched: LoraModuleKeys[] = [];
      const resolved: { m: LoraModuleKeys; key: string; shape: readonly number[] }[] = [];
      for (const m of modules) {
        const w = weights[m.component];
        if (!w) {
          throw new Error(
            `${where}: adapts the ${COMPONENT_NAMES[m.component]} ("${m.down}"), which ${modelId} does not have — a LoRA for another architecture (two text encoders: SDXL)`,
          );
        }
        let index = indexes.get(m.component);
        if (!index) indexes.set(m.component, (index = moduleIndex(w, m.component === 'unet' ? options.unetLdm : undefined)));
        const key = m.layout === 'kohya' ? index.flat.get(m.module) : [`${m.module}.weight`, index.toModel(`${m.module}.weight`)].find((k) => index.keys.has(k));
        if (key === undefined) unmatched.push(m);
        else resolved.push({ m, key, shape: index.keys.get(key)! });
      }
      if (unmatched.length > 0) {
        const names = unmatched.slice(0, 3).map((m) => `"${m.down}"`).join(', ');
        const ldm = unmatched.some((m) => /^(input_blocks|middle_block|output_blocks)_/.test(m.module)) ? "; it uses the original SD/SDXL module names (input_blocks…), whose blocks this U-Net's layout does not have" : '';
        const all = unmatched.length === modules.length ? ' — none fit: a LoRA for another architecture' : '';
        throw new Error(`${where}: ${unmatched.length} of ${modules.length} LoRA modules match no module of ${modelId}'s ${COMPONENT_NAMES[unmatched[0]!.component]}: ${names}${unmatched.length > 3 ? ', …' : ''}${ldm}${all}`);
      }
      const touched = new Set<LoraComponent>();
      for (const { m, key, shape } of resolved) {
        const down = await file.read(m.down!);
        const up = await file.read(m.up!);
        const rank = down.shape[0] ?? 0;
        const product = [up.shape[0] ?? 0, ...down.shape.slice(1)];
        const fits = down.shape.length >= 2 && up.shape.length >= 2 && up.shape[1] === rank && up.shape.slice(2).every((d) => d === 1) && core(product) === core(shape);
        if (!fits) {
          const dir = `${modelId}/${weights[m.component]!.dir}`;
          throw new Error(`${where}: "${m.up}" ${dims(up.shape)} · "${m.down}" ${dims(down.shape)} does not fit ${key} ${dims(shape)} of ${dir} (a LoRA for another architecture?)`);
        }
        const alpha = m.alpha !== undefined ? scalar(await file.read(m.alpha), m.alpha, where) : rank;
        const term: LoraTerm = { up: castTensor(up, 'float32').data, down: castTensor(down, 'float32').data, rank, scale: (alpha / rank) * scale, alphaOverRank: alpha / rank, adapter: i };
        let perKey = terms.get(m.component);
        if (!perKey) terms.set(m.component, (perKey = new Map()));
        perKey.set(key, [...(perKey.get(key) ?? []), term]);
        touched.add(m.component);
      }
      for (const c of touched) identities.set(c, [...(identities.get(c) ?? []), { ...identity, scale }]);
      applied.push({ name: (a.file.split('/').pop() ?? a.file).replace(/\.safetensors$/i, ''), scale, sha256: identity.sha256 });
    } finally {
      await file.close();
    }
  }
  const out: Partial<Record<LoraComponent, ComponentLora>> = {};
  for (const [c, t] of terms) out[c] = { adapters: identities.get(c)!, terms: t };
  return { components: out, applied };
}

/** The component's weights with adapters (merged, or as graph nodes): read in memory, so without the files' local paths. */
export function withLora(w: ComponentWeights, lora: ComponentLora | undefined, mode: LoraMode = 'merge'): ComponentWeights {
  if (!lora) return w;
  return { dir: w.dir, files: w.files, identity: w.identity, bind: w.bind, lora: mode === 'nodes' ? { ...lora, mode } : lora };
}
