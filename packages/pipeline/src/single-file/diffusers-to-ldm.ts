/**
 * The reverse of ldm-to-diffusers.ts: a diffusers folder's U-Net, AutoencoderKL and text encoder(s) as the tensors
 * of one original-layout checkpoint (what `sdxs convert --to single-file` writes), again as plans over the folder's
 * files: q/k/v become one fused OpenCLIP projection by laying their byte ranges end to end, a VAE attention matrix
 * is the same bytes as LDM's 1×1 convolution; only OpenCLIP's text_projection is transposed in memory.
 */
import { clipModelKey, transformersKeyToOpenClip } from '@sdxs/clip';
import { isVaeAttentionProjection, vaeKeyToLdm } from '@sdxs/decoder';
import { findWeightFiles } from '@sdxs/graph';
import { parsePythonJson } from '@sdxs/schedulers';
import { DTYPE_BYTES, SafetensorsFile, type ByteSource, type ModelSource, type SafetensorsEntry } from '@sdxs/tensor';
import { unetKeyToLdm } from '@sdxs/unet';
import { LDM_PREFIX } from './identify.js';
import { transposeBytes, type Piece, type VirtualTensor } from './virtual-file.js';

interface Opened {
  readonly entries: [string, SafetensorsEntry, ByteSource][];
  readonly files: SafetensorsFile[];
}

async function config(source: ModelSource, path: string): Promise<Record<string, unknown>> {
  if (!(await source.exists(path))) throw new Error(`${source.id}: no ${path} (convert to a single file needs a diffusers folder)`);
  return parsePythonJson(await source.readText(path)) as Record<string, unknown>;
}

async function openDir(source: ModelSource, dir: string, into: SafetensorsFile[]): Promise<[string, SafetensorsEntry, ByteSource][]> {
  const out: [string, SafetensorsEntry, ByteSource][] = [];
  for (const path of await findWeightFiles(source, dir)) {
    const bytes = await source.open(path);
    const file = await SafetensorsFile.open(bytes);
    into.push(file);
    for (const [k, e] of file.entries) out.push([k, e, bytes]);
  }
  return out;
}

/** `name()`, its error naming the component folder. */
function inDir(source: ModelSource, dir: string, name: () => string): string {
  try {
    return name();
  } catch (e) {
    throw new Error(`${source.id}/${dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

const piece = (e: SafetensorsEntry, source: ByteSource): Piece => ({ source, offset: e.byteOffset, length: e.byteLength });

function openClipTensors(list: readonly [string, SafetensorsEntry, ByteSource][], prefix: string): VirtualTensor[] {
  const fused = new Map<string, { dtype: SafetensorsEntry['dtype']; shape: readonly number[]; parts: (Piece | undefined)[] }>();
  const out: VirtualTensor[] = [];
  for (const [k, e, source] of list) {
    const place = transformersKeyToOpenClip(clipModelKey(k));
    if (!place) continue;
    const name = prefix + place.name;
    if (place.third !== undefined) {
      const f = fused.get(name) ?? { dtype: e.dtype, shape: [e.shape[0]! * 3, ...e.shape.slice(1)], parts: [undefined, undefined, undefined] };
      f.parts[place.third] = piece(e, source);
      fused.set(name, f);
    } else if (place.transpose) {
      const [rows, cols] = e.shape as [number, number];
      const compute = async () => transposeBytes(await source.read(e.byteOffset, e.byteLength), rows, cols, DTYPE_BYTES[e.dtype]);
      out.push({ name, dtype: e.dtype, shape: [cols, rows], pieces: [{ compute, length: e.byteLength }] });
    } else {
      out.push({ name, dtype: e.dtype, shape: e.shape, pieces: [piece(e, source)] });
    }
  }
  for (const [name, f] of fused) {
    if (f.parts.some((p) => p === undefined)) throw new Error(`${name}: the text encoder lacks one of q_proj, k_proj, v_proj`);
    out.push({ name, dtype: f.dtype, shape: f.shape, pieces: f.parts as Piece[] });
  }
  return out;
}

/**
 * A diffusers folder's tensors under their LDM checkpoint names; `close` releases the folder's files. The VAE is
 * `vae/` when it is an AutoencoderKL, else `vae_large/` (SDXS folders); a `gelu` text encoder is written in
 * OpenCLIP's layout (SD 2.x), a `quick_gelu` one in transformers' (SD 1.x); a folder with `text_encoder_2` as SDXL.
 *
 * @example
 * const { tensors, close } = await diffusersToLdm(new LocalFolderSource('./sd15'));
 * const bytes = virtualSafetensors('model.safetensors', tensors);
 */
export async function diffusersToLdm(source: ModelSource): Promise<{ tensors: VirtualTensor[]; close: () => Promise<void> }> {
  const files: SafetensorsFile[] = [];
  const close = async () => void (await Promise.all(files.map((f) => f.close())));
  try {
    const unet = await config(source, 'unet/config.json');
    let vaeDir = 'vae';
    if ((await config(source, 'vae/config.json'))._class_name !== 'AutoencoderKL') {
      vaeDir = 'vae_large';
      if ((await config(source, 'vae_large/config.json'))._class_name !== 'AutoencoderKL') throw new Error(`${source.id}: no AutoencoderKL VAE (vae/ or vae_large/) to put in the checkpoint`);
    }
    const vae = await config(source, `${vaeDir}/config.json`);
    const text = await config(source, 'text_encoder/config.json');
    const sdxl = await source.exists('text_encoder_2/config.json');
    const upTypes = (unet.up_block_types as string[] | undefined) ?? [];
    const layout = { layersPerBlock: Number(unet.layers_per_block ?? 2), upBlockHasAttention: upTypes.map((t) => t.startsWith('CrossAttn')) };
    const upBlocks = ((vae.up_block_types as unknown[] | undefined) ?? []).length;
    const tensors: VirtualTensor[] = [];
    for (const [k, e, s] of await openDir(source, 'unet', files)) tensors.push({ name: LDM_PREFIX.unet + inDir(source, 'unet', () => unetKeyToLdm(k, layout)), dtype: e.dtype, shape: e.shape, pieces: [piece(e, s)] });
    for (const [k, e, s] of await openDir(source, vaeDir, files)) {
      const shape = isVaeAttentionProjection(k) && e.shape.length === 2 ? [...e.shape, 1, 1] : e.shape;
      tensors.push({ name: LDM_PREFIX.vae + inDir(source, vaeDir, () => vaeKeyToLdm(k, upBlocks)), dtype: e.dtype, shape, pieces: [piece(e, s)] });
    }
    const te = await openDir(source, 'text_encoder', files);
    if (sdxl) {
      tensors.push(...te.filter(([k]) => !k.endsWith('position_ids')).map(([k, e, s]) => ({ name: LDM_PREFIX.sdxlClip + clipModelKey(k), dtype: e.dtype, shape: e.shape, pieces: [piece(e, s)] })));
      tensors.push(...openClipTensors(await openDir(source, 'text_encoder_2', files), LDM_PREFIX.sdxlOpenClip));
    } else if (text.hidden_act === 'gelu') {
      tensors.push(...openClipTensors(te, LDM_PREFIX.openClip));
    } else {
      tensors.push(...te.filter(([k]) => !k.endsWith('position_ids')).map(([k, e, s]) => ({ name: LDM_PREFIX.clip + clipModelKey(k), dtype: e.dtype, shape: e.shape, pieces: [piece(e, s)] })));
    }
    return { tensors, close };
  } catch (e) {
    await close();
    throw e;
  }
}
