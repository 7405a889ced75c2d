/**
 * The Node results the browser's images must match: the same pipeline code on onnxruntime-node's CPU EP, for
 * the same prompt, seed and (for the sketch) the same control pixels.
 */
import { ControlNetPipeline, StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import type { RawImage } from '@sdxs/tensor';

export interface ReferenceRequest {
  readonly prompt: string;
  readonly seed: number;
  readonly size: number;
}

export interface NodeReference {
  text(r: ReferenceRequest): Promise<RawImage>;
  sketch(r: ReferenceRequest & { readonly pad: { width: number; height: number; data: Uint8ClampedArray }; readonly scale: number }): Promise<RawImage>;
  dispose(): Promise<void>;
}

function first(images: readonly RawImage[]): RawImage {
  const image = images[0];
  if (!image) throw new Error('the Node pipeline returned no image');
  return image;
}

/** Node pipelines on the folders the page is served. */
export async function nodeReference(model: string, controlnet: string): Promise<NodeReference> {
  const runtime = createNodeRuntime({ intraOpThreads: 2 });
  const pipe = await ControlNetPipeline.load(new LocalFolderSource(model), new LocalFolderSource(controlnet), runtime);
  const t2i: StableDiffusionPipeline = pipe.base;
  return {
    text: async (r) => first((await t2i.generate({ prompt: r.prompt, seed: r.seed, width: r.size, height: r.size })).images),
    sketch: async (r) =>
      first((await pipe.generate({ prompt: r.prompt, seed: r.seed, width: r.size, height: r.size, image: r.pad, controlMode: 'sketch', controlScale: r.scale })).images),
    dispose: () => pipe.dispose(),
  };
}

/** A text-only model run with its own steps and guidance (the embedded multi-step teacher). */
export interface NodeTextReference {
  text(r: ReferenceRequest & { readonly steps: number; readonly guidanceScale: number; readonly negativePrompt?: string }): Promise<RawImage>;
  dispose(): Promise<void>;
}

/** The Node pipeline on a text-to-image folder the page is served. */
export async function nodeTextReference(model: string): Promise<NodeTextReference> {
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(model), createNodeRuntime({ intraOpThreads: 2 }));
  return {
    text: async (r) =>
      first((await pipe.generate({ prompt: r.prompt, seed: r.seed, width: r.size, height: r.size, steps: r.steps, guidanceScale: r.guidanceScale, ...(r.negativePrompt ? { negativePrompt: r.negativePrompt } : {}) })).images),
    dispose: () => pipe.dispose(),
  };
}

/** Largest difference of any RGB channel, in levels of 255 (alpha must be 255 in both). */
export function maxChannelDiff(a: { width: number; height: number; data: ArrayLike<number> }, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (i % 4 === 3 ? d !== 0 : d > worst) {
      if (i % 4 === 3) throw new Error(`alpha differs at pixel ${i >> 2}`);
      worst = d;
    }
  }
  return worst;
}

/** Fraction of pixels whose RGB differ by more than `threshold` levels. */
export function changedFraction(a: ArrayLike<number>, b: ArrayLike<number>, threshold = 8): number {
  let changed = 0;
  for (let p = 0; p < a.length; p += 4) {
    if (Math.abs(a[p]! - b[p]!) > threshold || Math.abs(a[p + 1]! - b[p + 1]!) > threshold || Math.abs(a[p + 2]! - b[p + 2]!) > threshold) changed++;
  }
  return changed / (a.length / 4);
}
