/**
 * Filling a packed graph's weight blobs from the model's checkpoint files — bindCheckpoint's rules (lookup by
 * name, f16/bf16 converted to the parameter's dtype, nothing bound unless everything matches), but writing
 * into the blob at the manifest's offsets instead of into graph initializers.
 */
import { CheckpointError, tensorBytes, type TensorStore } from '@sdxs/graph';
import { castTensor, isFloatDType, type DType } from '@sdxs/tensor';
import type { ComponentWeights } from '../model/weights.js';
import type { PackedBlob, PackedManifest } from './packed-graph.js';

function dims(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function castTarget(d: DType): 'float32' | 'float16' | 'bfloat16' {
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') return d;
  throw new TypeError(`cannot convert weights to ${d}`);
}

async function fillBlob(blob: PackedBlob, weights: ComponentWeights): Promise<Uint8Array> {
  const stores: readonly TensorStore[] = weights.files;
  const toModel = weights.bind.fileKeyToModelKey ?? ((k: string) => k);
  const where = new Map<string, [TensorStore, string]>();
  for (const s of stores) for (const k of s.entries.keys()) where.set(toModel(k), [s, k]);
  const wanted = new Set(blob.tensors.map((t) => t.key));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const t of blob.tensors) {
    const found = where.get(t.key);
    const entry = found?.[0].entries.get(found[1]);
    if (!entry) missing.push(t.key);
    else if (entry.shape.join() !== t.shape.join() || (entry.dtype !== t.dtype && !(isFloatDType(entry.dtype) && isFloatDType(t.dtype)))) {
      mismatched.push(`${t.key} (${entry.dtype}${dims(entry.shape)} in the file, model needs ${t.dtype}${dims(t.shape)})`);
    }
  }
  const ignore = weights.bind.ignore ?? [];
  const unexpected = [...where.keys()].filter((k) => !wanted.has(k) && !ignore.some((r) => r.test(k)));
  if (missing.length || unexpected.length || mismatched.length) {
    throw new CheckpointError(stores.map((s) => s.name).join(', '), missing, unexpected, mismatched);
  }
  const bytes = new Uint8Array(blob.size);
  for (const t of blob.tensors) {
    const [store, key] = where.get(t.key)!;
    const tensor = await store.read(key);
    bytes.set(tensorBytes(tensor.dtype === t.dtype ? tensor : castTensor(tensor, castTarget(t.dtype))), t.offset);
  }
  return bytes;
}

/**
 * The external data a packed graph's session needs: each blob filled from its component's files. Weights that
 * do not match the graph raise one CheckpointError per component, naming the tensors.
 *
 * @example
 * const externalData = await assembleWeights(packed.manifest, { unet, vae });
 * const session = await runtime.createSession(packed.model, { externalData });
 */
export async function assembleWeights(
  manifest: PackedManifest,
  components: Readonly<Record<string, ComponentWeights | undefined>>,
): Promise<{ path: string; data: Uint8Array }[]> {
  const out: { path: string; data: Uint8Array }[] = [];
  for (const blob of manifest.blobs) {
    const weights = components[blob.component];
    if (!weights) throw new Error(`the graph needs weights of component "${blob.component}", which this pipeline has not loaded`);
    out.push({ path: blob.location, data: await fillBlob(blob, weights) });
  }
  return out;
}
