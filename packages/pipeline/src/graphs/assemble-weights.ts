/**
 * Filling a packed graph's weight blobs from the model's checkpoint files — bindCheckpoint's rules (lookup by
 * name, f16/bf16 converted to the parameter's dtype, nothing bound unless everything matches), but writing
 * into the blob at the manifest's offsets instead of into graph initializers.
 */
import { CheckpointError, tensorBytes } from '@sdxs/graph';
import { castTensor, isFloatDType, type DType, type SafetensorsEntry } from '@sdxs/tensor';
import type { ComponentWeights } from '../model/weights.js';
import { mergeLoraTerms } from '../lora/merge.js';
import type { PackedBlob, PackedManifest, PackedTensor } from './packed-graph.js';

function dims(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function castTarget(d: DType): 'float32' | 'float16' | 'bfloat16' {
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') return d;
  throw new TypeError(`cannot convert weights to ${d}`);
}

/** A wanted tensor found in the component's files: file index, the key in that file, and its entry. */
export interface LocatedTensor {
  readonly file: number;
  readonly fileKey: string;
  readonly entry: SafetensorsEntry;
}

/**
 * Find each of `tensors` (model keys) in the component's files, as bindCheckpoint checks them: every tensor
 * present with its shape and a dtype the graph can take (any float for a float parameter), and no file tensor
 * left over unless the component ignores it. Anything else is one CheckpointError naming the tensors.
 */
export function locateTensors(tensors: readonly Pick<PackedTensor, 'key' | 'dtype' | 'shape'>[], weights: ComponentWeights): LocatedTensor[] {
  const toModel = weights.bind.fileKeyToModelKey ?? ((k: string) => k);
  const where = new Map<string, LocatedTensor>();
  weights.files.forEach((f, file) => {
    for (const [fileKey, entry] of f.entries) where.set(toModel(fileKey), { file, fileKey, entry });
  });
  const wanted = new Set(tensors.map((t) => t.key));
  const missing: string[] = [];
  const mismatched: string[] = [];
  const found: LocatedTensor[] = [];
  for (const t of tensors) {
    const at = where.get(t.key);
    if (!at) {
      missing.push(t.key);
      continue;
    }
    const entry = at.entry;
    if (entry.shape.join() !== t.shape.join() || (entry.dtype !== t.dtype && !(isFloatDType(entry.dtype) && isFloatDType(t.dtype)))) {
      mismatched.push(`${t.key} (${entry.dtype}${dims(entry.shape)} in the file, model needs ${t.dtype}${dims(t.shape)})`);
    }
    found.push(at);
  }
  const ignore = weights.bind.ignore ?? [];
  const unexpected = [...where.keys()].filter((k) => !wanted.has(k) && !ignore.some((r) => r.test(k)));
  if (missing.length || unexpected.length || mismatched.length) {
    throw new CheckpointError(weights.files.map((s) => s.name).join(', '), missing, unexpected, mismatched);
  }
  return found;
}

async function fillBlob(blob: PackedBlob, weights: ComponentWeights): Promise<Uint8Array> {
  const located = locateTensors(blob.tensors, weights);
  const bytes = new Uint8Array(blob.size);
  for (const [i, t] of blob.tensors.entries()) {
    const { file, fileKey } = located[i]!;
    const stored = await weights.files[file]!.read(fileKey);
    // LoRA adapters: W + Σ scale·up·down in float32, then to the parameter's dtype like any stored tensor.
    const terms = weights.lora?.terms.get(t.key);
    const tensor = terms ? mergeLoraTerms(stored, terms) : stored;
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
    if (blob.file) throw new Error(`${blob.location}: the graph reads this weight file from disk; give its path (sessionExternalData), not bytes`);
    out.push({ path: blob.location, data: await fillBlob(blob, weights) });
  }
  return out;
}
