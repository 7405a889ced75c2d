/**
 * What a single `.safetensors` file is, from its keys alone: an original Stable Diffusion checkpoint (SD 1.x, 2.x
 * or SDXL, told apart by their text encoders' prefixes, as diffusers' `infer_diffusers_model_type` does), or
 * something else, refused with one message that names the file and what was found.
 */

/** Prefixes of the LDM checkpoint's parts. */
export const LDM_PREFIX = {
  unet: 'model.diffusion_model.',
  vae: 'first_stage_model.',
  /** SD 1.x: transformers' CLIPTextModel under a prefix. */
  clip: 'cond_stage_model.transformer.',
  /** SD 2.x: OpenCLIP's text tower. */
  openClip: 'cond_stage_model.model.',
  /** SDXL: CLIP-L (transformers layout) and OpenCLIP bigG with its projection. */
  sdxlClip: 'conditioner.embedders.0.transformer.',
  sdxlOpenClip: 'conditioner.embedders.1.model.',
} as const;

/** SD 1.x (CLIP-L), SD 2.x (OpenCLIP-H), SDXL (CLIP-L + OpenCLIP-bigG, text_time conditioning). */
export type CheckpointFamily = 'sd1' | 'sd2' | 'sdxl';

/** A text encoder inside the checkpoint. */
export interface LdmTextEncoder {
  readonly prefix: string;
  readonly layout: 'transformers' | 'open-clip';
}

export interface IdentifiedCheckpoint {
  readonly family: CheckpointFamily;
  /** `text_encoder`, then `text_encoder_2` for SDXL. */
  readonly textEncoders: readonly LdmTextEncoder[];
}

/** A file that is not a checkpoint sdxs can read; the message says what it is instead. */
export class SingleFileError extends Error {
  override readonly name = 'SingleFileError';
}

/** The first segments of the keys, with counts: what a file holds, for error messages. */
function summary(keys: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const k of keys) {
    const head = k.split('.').slice(0, 2).join('.');
    counts.set(head, (counts.get(head) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4);
  return top.map(([k, n]) => `${k}.… (${n})`).join(', ') || 'no tensors';
}

/**
 * Identify an LDM-layout checkpoint by its keys; throws a {@link SingleFileError} naming `file` otherwise.
 *
 * @example
 * identifyCheckpoint(file.names(), 'dreamshaper.safetensors'); // { family: 'sd1', textEncoders: [{ prefix: 'cond_stage_model.transformer.', layout: 'transformers' }] }
 */
export function identifyCheckpoint(keys: readonly string[], file: string): IdentifiedCheckpoint {
  const has = (prefix: string) => keys.some((k) => k.startsWith(prefix));
  const lora = keys.find((k) => /(^lora_(unet|te\d?)_)|\.lora_(up|down|A|B)\.|\.lora\.(up|down)\./.test(k));
  if (lora !== undefined) throw new SingleFileError(`${file}: a LoRA file, not a checkpoint (key ${JSON.stringify(lora)}); apply it with --lora on a model`);
  if (!has(LDM_PREFIX.unet)) {
    const diffusers = keys.some((k) => /^(down_blocks|encoder\.down_blocks|text_model)\./.test(k));
    const what = diffusers ? 'diffusers-named weights of one component, not a whole checkpoint (point at its diffusers folder instead)' : `no U-Net keys (${LDM_PREFIX.unet}…)`;
    throw new SingleFileError(`${file}: not a Stable Diffusion checkpoint: ${what}; it holds ${summary(keys)}`);
  }
  if (!has(LDM_PREFIX.vae)) {
    throw new SingleFileError(`${file}: the checkpoint has no VAE (no ${LDM_PREFIX.vae}… keys); it holds ${summary(keys)}. A U-Net-only file needs its model's diffusers folder`);
  }
  if (has(LDM_PREFIX.sdxlOpenClip)) {
    return { family: 'sdxl', textEncoders: [{ prefix: LDM_PREFIX.sdxlClip, layout: 'transformers' }, { prefix: LDM_PREFIX.sdxlOpenClip, layout: 'open-clip' }] };
  }
  if (has(LDM_PREFIX.clip)) return { family: 'sd1', textEncoders: [{ prefix: LDM_PREFIX.clip, layout: 'transformers' }] };
  if (has(LDM_PREFIX.openClip)) return { family: 'sd2', textEncoders: [{ prefix: LDM_PREFIX.openClip, layout: 'open-clip' }] };
  throw new SingleFileError(`${file}: the checkpoint has no text encoder (no cond_stage_model.… or conditioner.embedders.… keys); it holds ${summary(keys)}`);
}
