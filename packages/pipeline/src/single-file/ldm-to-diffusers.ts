/**
 * An LDM checkpoint's tensors under diffusers' names, per component folder, as diffusers' `from_single_file`
 * converts them (loaders/single_file_utils.py) — but as plans over the file's bytes, not copies: the names come
 * from each family's package (@sdxs/unet, @sdxs/decoder, @sdxs/clip), the bytes stay where they are.
 */
import { clipModelKey, openClipKeyToTransformers } from '@sdxs/clip';
import { isVaeAttentionProjection, vaeKeyFromLdm } from '@sdxs/decoder';
import { DTYPE_BYTES, type ByteSource, type SafetensorsEntry } from '@sdxs/tensor';
import { unetKeyFromLdm } from '@sdxs/unet';
import { LDM_PREFIX, SingleFileError, type IdentifiedCheckpoint, type LdmTextEncoder } from './identify.js';
import { transposeBytes, type VirtualTensor } from './virtual-file.js';

/** The diffusers components of a checkpoint: folder name → tensors. */
export type ComponentTensors = Readonly<Record<string, readonly VirtualTensor[]>>;

function whole(e: SafetensorsEntry, source: ByteSource, name: string, shape: readonly number[] = e.shape): VirtualTensor {
  return { name, dtype: e.dtype, shape, pieces: [{ source, offset: e.byteOffset, length: e.byteLength }] };
}

/** Strip `prefix` from the keys that have it. */
function under(entries: ReadonlyMap<string, SafetensorsEntry>, prefix: string): [string, SafetensorsEntry][] {
  return [...entries].filter(([k]) => k.startsWith(prefix)).map(([k, e]) => [k.slice(prefix.length), e]);
}

/**
 * `layers_per_block` from the LDM numbering: the first downsampler sits at `input_blocks.{lpb + 1}`; a U-Net with
 * one level has none, and then every input block after conv_in is a layer.
 *
 * @example
 * ldmLayersPerBlock(['input_blocks.3.0.op.weight', 'input_blocks.1.0.in_layers.0.weight']); // 2
 */
export function ldmLayersPerBlock(keys: readonly string[]): number {
  let first = Infinity;
  let last = 0;
  for (const k of keys) {
    const m = /^input_blocks\.(\d+)\.(\d+)\.(op\.)?/.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    last = Math.max(last, n);
    if (m[3] !== undefined) first = Math.min(first, n);
  }
  return Number.isFinite(first) ? first - 1 : last;
}

function unetTensors(entries: ReadonlyMap<string, SafetensorsEntry>, source: ByteSource, file: string): VirtualTensor[] {
  const list = under(entries, LDM_PREFIX.unet);
  const lpb = ldmLayersPerBlock(list.map(([k]) => k));
  return list.map(([k, e]) => {
    const name = unetKeyFromLdm(k, lpb);
    if (name === undefined) throw new SingleFileError(`${file}: ${LDM_PREFIX.unet}${k} is not part of the Stable Diffusion U-Net layout sdxs reads (inpainting, upscaler and other variants are not supported)`);
    return whole(e, source, name);
  });
}

function vaeTensors(entries: ReadonlyMap<string, SafetensorsEntry>, source: ByteSource, file: string): VirtualTensor[] {
  const list = under(entries, LDM_PREFIX.vae);
  const upBlocks = new Set(list.map(([k]) => /^decoder\.up\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  return list.map(([k, e]) => {
    const name = vaeKeyFromLdm(k, upBlocks);
    if (name === undefined) throw new SingleFileError(`${file}: ${LDM_PREFIX.vae}${k} is not part of the AutoencoderKL layout`);
    // LDM's attention projections are 1×1 convolutions: the same bytes as the matrix.
    return whole(e, source, name, isVaeAttentionProjection(name) ? e.shape.slice(0, 2) : e.shape);
  });
}

function transformersClip(entries: ReadonlyMap<string, SafetensorsEntry>, source: ByteSource, prefix: string): VirtualTensor[] {
  return under(entries, prefix)
    .map(([k, e]) => [clipModelKey(k), e] as const)
    .filter(([k]) => !k.endsWith('embeddings.position_ids'))
    .map(([k, e]) => whole(e, source, k));
}

function openClip(entries: ReadonlyMap<string, SafetensorsEntry>, source: ByteSource, te: LdmTextEncoder, withProjection: boolean): VirtualTensor[] {
  const list = under(entries, te.prefix);
  const layers = new Set(list.map(([k]) => /^transformer\.resblocks\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  const out: VirtualTensor[] = [];
  for (const [k, e] of list) {
    // SD 2.x's 24-layer OpenCLIP-H runs its penultimate layer: diffusers' text encoder has 23 and no projection.
    if (!withProjection && (k === 'text_projection' || (layers === 24 && k.startsWith('transformer.resblocks.23.')))) continue;
    for (const place of openClipKeyToTransformers(k) ?? []) {
      if (place.third !== undefined) {
        const length = e.byteLength / 3;
        out.push({ name: place.name, dtype: e.dtype, shape: [e.shape[0]! / 3, ...e.shape.slice(1)], pieces: [{ source, offset: e.byteOffset + place.third * length, length }] });
      } else if (place.transpose) {
        const [rows, cols] = e.shape as [number, number];
        const compute = async () => transposeBytes(await source.read(e.byteOffset, e.byteLength), rows, cols, DTYPE_BYTES[e.dtype]);
        out.push({ name: place.name, dtype: e.dtype, shape: [cols, rows], pieces: [{ compute, length: e.byteLength }] });
      } else {
        out.push(whole(e, source, place.name));
      }
    }
  }
  return out;
}

/**
 * The checkpoint's tensors per diffusers folder: `unet`, `vae`, `text_encoder` (and `text_encoder_2` for SDXL).
 * `source` is the file's bytes (entries' offsets point into it).
 *
 * @example
 * const parts = ldmToDiffusers(file.entries, bytes, identifyCheckpoint(file.names(), file.name), file.name);
 * parts.unet.find((t) => t.name === 'conv_in.weight');
 */
export function ldmToDiffusers(entries: ReadonlyMap<string, SafetensorsEntry>, source: ByteSource, id: IdentifiedCheckpoint, file: string): ComponentTensors {
  const text = id.textEncoders.map((te, i) => (te.layout === 'transformers' ? transformersClip(entries, source, te.prefix) : openClip(entries, source, te, i > 0)));
  return {
    unet: unetTensors(entries, source, file),
    vae: vaeTensors(entries, source, file),
    text_encoder: text[0]!,
    ...(text[1] ? { text_encoder_2: text[1] } : {}),
  };
}
