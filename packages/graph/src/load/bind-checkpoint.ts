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
  const files = stores.map((s) => s.name).join(', ') || '(no files)';
  const toModel = options.fileKeyToModelKey ?? ((k: string) => k);
  // model key -> [store, file key]
  const where = new Map<string, [TensorStore, string]>();
  for (const s of stores) for (const k of s.entries.keys()) where.set(toModel(k), [s, k]);
  const params = [...graph.initializers.values()].filter((i) => i.data === undefined);
  const wanted = new Set(params.map((p) => p.name));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const p of params) {
    const found = where.get(p.name);
    const entry = found?.[0].entries.get(found[1]);
    if (!entry) missing.push(p.name);
    else if (entry.shape.join() !== p.shape.join() || (entry.dtype !== p.dtype && !(isFloatDType(entry.dtype) && isFloatDType(p.dtype)))) {
      mismatched.push(`${p.name} (${entry.dtype}${formatDims(entry.shape)} in the file, model needs ${p.dtype}${formatDims(p.shape)})`);
    }
  }
  const ignore = options.ignore ?? [];
  const unexpected = [...where.keys()].filter((k) => !wanted.has(k) && !ignore.some((r) => r.test(k)));
  if (missing.length || unexpected.length || mismatched.length) throw new CheckpointError(files, missing, unexpected, mismatched);
  for (const p of params) {
    const [store, key] = where.get(p.name)!;
    const t = await store.read(key);
    graph.bind(p.name, t.dtype === p.dtype ? t : castTensor(t, castTarget(p.dtype)));
  }
}

function castTarget(d: DType): 'float32' | 'float16' | 'bfloat16' {
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') return d;
  throw new TypeError(`cannot convert weights to ${d}`);
}
