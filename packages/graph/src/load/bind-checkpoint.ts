import { castTensor, isFloatDType, type DType, type Tensor } from '@sdxs/tensor';
import { formatDims } from '../dim.js';
import type { Graph } from '../graph.js';

/** What `bindCheckpoint` needs of a weights file; `SafetensorsFile` from @sdxs/tensor is one. */
export interface TensorStore {
  /** File name for messages. */
  readonly name: string;
  readonly entries: ReadonlyMap<string, { readonly dtype: DType; readonly shape: readonly number[] }>;
  read(name: string): Promise<Tensor>;
}

/** Missing, unexpected or mis-shaped tensors: the first few of each, by name. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly mismatched: readonly string[];

  constructor(files: string, missing: string[], unexpected: string[], mismatched: string[]) {
    const list = (label: string, xs: string[]) =>
      xs.length ? `${xs.length} ${label}: ${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', …' : ''}` : '';
    const parts = [list('missing', missing), list('unexpected', unexpected), list('with the wrong shape', mismatched)].filter(Boolean);
    super(`${files}: checkpoint does not match the model — ${parts.join('; ')}`);
    this.missing = missing;
    this.unexpected = unexpected;
    this.mismatched = mismatched;
  }
}

export interface BindOptions {
  /** Checkpoint keys the model does not use and may ignore (buffers such as `text_model.embeddings.position_ids`). */
  ignore?: readonly RegExp[];
  /**
   * Map a file's key to the model's key, for checkpoints saved under another module root (transformers 5
   * saves CLIPTextModel without its `text_model.` prefix). Identity by default.
   */
  fileKeyToModelKey?: (key: string) => string;
}

/** A tensor a model wants: its checkpoint key, dtype and shape. */
export interface WantedTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Where a wanted tensor is: the store (index into `stores`) and its key in that file. */
export interface MatchedTensor {
  readonly store: number;
  readonly key: string;
}

/**
 * Find each of `wanted` in `stores` (one file, or the shards of a sharded checkpoint) — the one matching rule of the
 * project: lookup by name (after `fileKeyToModelKey`), the same shape, any float dtype for a float parameter, and no
 * file tensor left over unless `ignore`d. Anything else is one CheckpointError naming the tensors. Used by
 * bindCheckpoint (into graph initializers) and by the pipeline's weight blobs (into packed graphs).
 *
 * @example
 * const at = matchCheckpoint([{ name: 'conv_in.weight', dtype: 'float32', shape: [320, 4, 3, 3] }], [file]);
 */
export function matchCheckpoint(wanted: readonly WantedTensor[], stores: readonly TensorStore[], options: BindOptions = {}): MatchedTensor[] {
  const files = stores.map((s) => s.name).join(', ') || '(no files)';
  const toModel = options.fileKeyToModelKey ?? ((k: string) => k);
  const where = new Map<string, MatchedTensor>();
  stores.forEach((s, store) => {
    for (const key of s.entries.keys()) where.set(toModel(key), { store, key });
  });
  const names = new Set(wanted.map((p) => p.name));
  const missing: string[] = [];
  const mismatched: string[] = [];
  const found: MatchedTensor[] = [];
  for (const p of wanted) {
    const at = where.get(p.name);
    const entry = at && stores[at.store]!.entries.get(at.key);
    if (!at || !entry) {
      missing.push(p.name);
      continue;
    }
    if (entry.shape.join() !== p.shape.join() || (entry.dtype !== p.dtype && !(isFloatDType(entry.dtype) && isFloatDType(p.dtype)))) {
      mismatched.push(`${p.name} (${entry.dtype}${formatDims(entry.shape)} in the file, model needs ${p.dtype}${formatDims(p.shape)})`);
    }
    found.push(at);
  }
  const ignore = options.ignore ?? [];
  const unexpected = [...where.keys()].filter((k) => !names.has(k) && !ignore.some((r) => r.test(k)));
  if (missing.length || unexpected.length || mismatched.length) throw new CheckpointError(files, missing, unexpected, mismatched);
  return found;
}

/** A stored tensor in the parameter's dtype (f16/bf16 checkpoints feed f32 graphs and the other way round). */
export function toParameterDType(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : castTensor(t, castTarget(dtype));
}

/**
 * Bind every declared parameter of `graph` to the tensor of the same name in `stores` (one file, or the
 * shards of a sharded checkpoint). Names are checkpoint keys, so this is a lookup. Weights stored as
 * f16/bf16 are converted to the parameter's dtype. Nothing is bound unless everything matches:
 * missing, unexpected or mis-shaped tensors raise one CheckpointError listing them.
 *
 * @example
 * await bindCheckpoint(graph, [await openSafetensorsFile('unet/diffusion_pytorch_model.safetensors')]);
 */
export async function bindCheckpoint(graph: Graph, stores: readonly TensorStore[], options: BindOptions = {}): Promise<void> {
  const params = [...graph.initializers.values()].filter((i) => i.data === undefined);
  const found = matchCheckpoint(params, stores, options);
  for (const [i, p] of params.entries()) {
    const { store, key } = found[i]!;
    graph.bind(p.name, toParameterDType(await stores[store]!.read(key), p.dtype));
  }
}

function castTarget(d: DType): 'float32' | 'float16' | 'bfloat16' {
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') return d;
  throw new TypeError(`cannot convert weights to ${d}`);
}
