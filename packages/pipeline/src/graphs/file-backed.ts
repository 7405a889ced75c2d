/**
 * Graphs whose parameters point into the model's own safetensors files, for runtimes that read external data
 * from disk (`Runtime.capabilities.externalDataFiles`): onnxruntime then reads or maps the weights itself and
 * they never pass through the JS heap — a full-size SDXS-512 one-step session peaks at about 1.3× its weights
 * instead of about 4× (packGraph's blobs are filled in JS, handed over and copied again by the runtime).
 *
 * The locations are the files' paths inside the model source (`unet/diffusion_pytorch_model.safetensors`) and
 * the offsets are those of the files' headers, both fixed by the weight identities in the graph key: a cached
 * graph holds no machine-specific path. Absolute paths are given to the runtime when a session is created.
 */
import { bindSafetensors, toOnnx, type Graph } from '@sdxs/graph';
import type { ComponentWeights } from '../model/weights.js';
import { assembleWeights, locateTensors } from './assemble-weights.js';
import type { ComponentPrefix, PackedBlob, PackedGraph, PackedTensor } from './packed-graph.js';

type Weights = Readonly<Record<string, ComponentWeights | undefined>>;

function componentWeights(weights: Weights, component: string): ComponentWeights {
  const w = weights[component];
  if (!w) throw new Error(`the graph needs weights of component "${component}", which this pipeline has not loaded`);
  return w;
}

/**
 * Whether a graph over `components` can read its weights from files: the runtime takes file paths and every
 * component's files are on local disk. Whether it does also depends on the dtypes (see packGraphOnFiles).
 */
export function canUseWeightFiles(runtime: { readonly capabilities?: { readonly externalDataFiles?: boolean } }, components: readonly ComponentPrefix[], weights: Weights): boolean {
  return runtime.capabilities?.externalDataFiles === true && components.every((c) => weights[c.component]?.localPaths !== undefined);
}

/**
 * Serialize `graph` with every parameter bound, by offset, to its tensor in the component's safetensors files
 * (one `file` blob per file used). Returns undefined — binding nothing, so the caller can fall back to
 * packGraph — when some stored dtype differs from the parameter's (f16 files for an f32 graph need a
 * conversion), a component has LoRA adapters to merge, or two components' files share a path. Weights that do not fit the graph at all (missing,
 * unexpected, mis-shaped) throw the CheckpointError the in-memory path would.
 *
 * @example
 * const packed = packGraphOnFiles(graph, IMAGE_COMPONENTS, { unet, vae }) ?? packGraph(graph, IMAGE_COMPONENTS);
 */
export function packGraphOnFiles(graph: Graph, components: readonly ComponentPrefix[], weights: Weights): PackedGraph | undefined {
  const ordered = [...components].sort((a, b) => b.prefix.length - a.prefix.length);
  const wanted = new Map<string, Pick<PackedTensor, 'key' | 'dtype' | 'shape'>[]>(components.map((c) => [c.component, []]));
  for (const name of graph.parameterNames) {
    const init = graph.initializers.get(name)!;
    if (init.data !== undefined) continue;
    const owner = ordered.find((c) => name.startsWith(c.prefix));
    if (!owner) throw new Error(`packGraphOnFiles: parameter ${name} belongs to no component (${components.map((c) => `"${c.prefix}"`).join(', ')})`);
    wanted.get(owner.component)!.push({ key: name.slice(owner.prefix.length), dtype: init.dtype, shape: [...init.shape] });
  }

  const owners = new Map<string, string>(); // location → component
  const blobs: PackedBlob[] = [];
  const binds: (() => void)[] = [];
  for (const { component, prefix } of components) {
    const tensors = wanted.get(component)!;
    if (tensors.length === 0) continue;
    const w = componentWeights(weights, component);
    // Merged LoRA weights exist only in memory (and onnxruntime-node cannot mix memory blobs with files).
    if (w.lora) return undefined;
    const located = locateTensors(tensors, w);
    if (located.some((at, i) => at.entry.dtype !== tensors[i]!.dtype)) return undefined;
    const perFile = w.files.map((): PackedTensor[] => []);
    located.forEach((at, i) => perFile[at.file]!.push({ ...tensors[i]!, offset: at.entry.byteOffset }));
    const toModel = w.bind.fileKeyToModelKey ?? ((k: string) => k);
    const keys = new Set(tensors.map((t) => t.key));
    for (const [i, file] of w.files.entries()) {
      const fileTensors = perFile[i]!;
      if (fileTensors.length === 0) continue;
      const location = w.identity[i]!.path;
      if ((owners.get(location) ?? component) !== component) return undefined;
      owners.set(location, component);
      blobs.push({ component, location, size: file.size, tensors: fileTensors, file: true });
      // Bound only once every component has qualified, so a fallback finds the graph untouched.
      const rename = (k: string) => (keys.has(toModel(k)) ? prefix + toModel(k) : undefined);
      binds.push(() => {
        bindSafetensors(graph, file.entries.values(), location, { rename });
      });
    }
  }
  for (const bind of binds) bind();
  const manifest = { blobs, inputs: graph.inputs.map((v) => v.name), outputs: graph.outputs.map((v) => v.name) };
  return { manifest, model: toOnnx(graph) };
}

/**
 * The `externalData` session option for a packed graph: the absolute path of each `file` blob, the filled
 * bytes of each other blob (assembleWeights).
 *
 * @example
 * const session = await runtime.createSession(packed.model, { externalData: await sessionExternalData(packed.manifest, weights) });
 */
export async function sessionExternalData(manifest: PackedGraph['manifest'], weights: Weights): Promise<{ path: string; data: string | Uint8Array }[]> {
  const files = manifest.blobs.filter((b) => b.file);
  if (files.length === 0) return assembleWeights(manifest, weights);
  if (files.length !== manifest.blobs.length) {
    // packGraphOnFiles never mixes them; onnxruntime-node could not load such a model anyway.
    throw new Error('a packed graph mixes weight files with in-memory blobs');
  }
  return files.map((b) => {
    const w = componentWeights(weights, b.component);
    const i = w.identity.findIndex((f) => f.path === b.location);
    const path = w.localPaths?.[i];
    if (i < 0 || path === undefined) throw new Error(`the graph reads ${b.location} of component "${b.component}", which this pipeline has not opened from local disk`);
    return { path: b.location, data: path };
  });
}
