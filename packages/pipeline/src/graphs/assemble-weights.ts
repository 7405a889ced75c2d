/**
 * Filling a packed graph's weight blobs from the model's checkpoint files — the same matching as bindCheckpoint
 * (@sdxs/graph's matchCheckpoint and toParameterDType), but writing into the blob at the manifest's offsets instead
 * of into graph initializers.
 */
import { matchCheckpoint, tensorBytes, toParameterDType } from '@sdxs/graph';
import type { SafetensorsEntry } from '@sdxs/tensor';
import type { ComponentWeights } from '../model/weights.js';
import { mergeLoraTerms } from '../lora/merge.js';
import { loraNodeTensor, parseLoraNodeKey } from '../lora/nodes.js';
import type { PackedBlob, PackedManifest, PackedTensor } from './packed-graph.js';

/** A wanted tensor found in the component's files: file index, the key in that file, and its entry. */
export interface LocatedTensor {
  readonly file: number;
  readonly fileKey: string;
  readonly entry: SafetensorsEntry;
}

/**
 * Find each of `tensors` (model keys) in the component's files by @sdxs/graph's matching rule (matchCheckpoint:
 * every tensor present with its shape and a float dtype for a float parameter, no file tensor left over unless the
 * component ignores it); anything else is one CheckpointError naming the tensors.
 */
export function locateTensors(tensors: readonly Pick<PackedTensor, 'key' | 'dtype' | 'shape'>[], weights: ComponentWeights): LocatedTensor[] {
  const found = matchCheckpoint(
    tensors.map((t) => ({ name: t.key, dtype: t.dtype, shape: t.shape })),
    weights.files,
    weights.bind,
  );
  return found.map(({ store, key }) => ({ file: store, fileKey: key, entry: weights.files[store]!.entries.get(key)! }));
}

async function fillBlob(blob: PackedBlob, weights: ComponentWeights): Promise<Uint8Array> {
  const nodes = weights.lora?.mode === 'nodes';
  // LoRA factors of a graph with adapter nodes come from the adapters, everything else from the model's files.
  const factors = nodes ? blob.tensors.map((t) => parseLoraNodeKey(t.key)) : [];
  const stored = blob.tensors.filter((_, i) => factors[i] === undefined);
  const located = new Map(locateTensors(stored, weights).map((l, i) => [stored[i]!.key, l]));
  const bytes = new Uint8Array(blob.size);
  for (const [i, t] of blob.tensors.entries()) {
    const factor = factors[i];
    let tensor;
    if (factor) tensor = loraNodeTensor(weights.lora?.terms.get(factor.weight), factor, blob.location);
    else {
      const { file, fileKey } = located.get(t.key)!;
      tensor = await weights.files[file]!.read(fileKey);
      // Merged LoRA adapters: W + Σ scale·up·down in float32, then to the parameter's dtype like any stored tensor.
      const terms = nodes ? undefined : weights.lora?.terms.get(t.key);
      if (terms) tensor = mergeLoraTerms(tensor, terms);
    }
    bytes.set(tensorBytes(toParameterDType(tensor, t.dtype)), t.offset);
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
