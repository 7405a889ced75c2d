/**
 * `model_index.json` of a diffusers folder: the pipeline class and, per component folder, the library and
 * class that saved it (`"unet": ["diffusers", "UNet2DConditionModel"]`). Anything this package cannot run is
 * refused here, naming the file and field, before any weight is read.
 */

/** A component entry: `[library, class]`, or null for an optional component that was left out. */
export interface ComponentSpec {
  readonly library: string;
  readonly className: string;
}

export interface ModelIndex {
  readonly pipelineClass: string;
  /** `sd`: one CLIP text encoder (SD 1.x/2.x, SDXS-512); `sdxl`: two, with text_time added conditioning (SDXL, SDXS-1024). */
  readonly family: 'sd' | 'sdxl';
  readonly unet: ComponentSpec;
  readonly textEncoder: ComponentSpec;
  readonly tokenizer: ComponentSpec;
  /** SDXL's second text encoder (CLIPTextModelWithProjection) and its tokenizer. */
  readonly textEncoder2?: ComponentSpec;
  readonly tokenizer2?: ComponentSpec;
  /**
   * SDXL's `force_zeros_for_empty_prompt` (default true): with guidance and no negative prompt given, the negative
   * embeddings are zeros rather than the encoding of "".
   */
  readonly forceZerosForEmptyPrompt: boolean;
  readonly vae: ComponentSpec;
  readonly scheduler: ComponentSpec;
  /** StableDiffusionControlNetPipeline's `controlnet/` (a single ControlNetModel). */
  readonly controlnet?: ComponentSpec;
}

/** img2img and ControlNet folders hold the text-to-image components (plus `controlnet/`): one loader serves all three. */
export const SD_PIPELINES = ['StableDiffusionPipeline', 'StableDiffusionImg2ImgPipeline', 'StableDiffusionControlNetPipeline'] as const;
/** The SDXL family (SDXS-1024, SDXL-Turbo): the same three modes with two text encoders. */
export const SDXL_PIPELINES = ['StableDiffusionXLPipeline', 'StableDiffusionXLImg2ImgPipeline', 'StableDiffusionXLControlNetPipeline'] as const;
export const SUPPORTED_PIPELINES = [...SD_PIPELINES, ...SDXL_PIPELINES] as const;

/** Pipelines users will point sdxs at that it does not run, with what they are. */
const NOT_YET: Readonly<Record<string, string>> = {
  StableDiffusionInpaintPipeline: 'an inpainting model (a 9-channel U-Net and a mask); inpainting is not supported',
  StableDiffusionXLInpaintPipeline: 'an SDXL inpainting model (a 9-channel U-Net and a mask); inpainting is not supported',
  LatentConsistencyModelPipeline: 'an LCM-distilled model (time_cond_proj_dim); LCM U-Nets are not supported yet',
  StableDiffusion3Pipeline: 'Stable Diffusion 3 (an MMDiT transformer with three text encoders), a different architecture',
  FluxPipeline: 'FLUX (a rectified-flow transformer with T5 and CLIP encoders), a different architecture',
  PixArtAlphaPipeline: 'PixArt-α (a DiT transformer with a T5 encoder), a different architecture',
  StableCascadeCombinedPipeline: 'Stable Cascade (Würstchen stages), a different architecture',
  KandinskyV22Pipeline: 'Kandinsky 2.2 (an image-prior model with MoVQ), a different architecture',
};

/** Classes accepted per component: what StableDiffusionPipeline loads and sdxs can build. */
const ACCEPTED: Readonly<Record<'unet' | 'text_encoder' | 'tokenizer' | 'text_encoder_2' | 'tokenizer_2' | 'vae' | 'controlnet', readonly string[]>> = {
  unet: ['UNet2DConditionModel'],
  text_encoder: ['CLIPTextModel', 'CLIPTextModelWithProjection'],
  tokenizer: ['CLIPTokenizer', 'CLIPTokenizerFast'],
  // encode_prompt pools the projected output of the second encoder: only the projection class has one.
  text_encoder_2: ['CLIPTextModelWithProjection'],
  tokenizer_2: ['CLIPTokenizer', 'CLIPTokenizerFast'],
  vae: ['AutoencoderTiny', 'AutoencoderKL'],
  controlnet: ['ControlNetModel'],
};

/** Components that may be `[null, null]` or absent: the pipeline never uses them. */
const OPTIONAL = new Set(['safety_checker', 'feature_extractor', 'image_encoder']);

/**
 * Validate a parsed model_index.json; `file` names it in errors.
 *
 * @example
 * const index = parseModelIndex(JSON.parse(await source.readText('model_index.json')), 'sdxs/model_index.json');
 * index.vae.className; // 'AutoencoderTiny'
 */
export function parseModelIndex(json: unknown, file: string): ModelIndex {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file}: not a JSON object`);
  const o = json as Record<string, unknown>;
  const cls = o._class_name;
  if (typeof cls !== 'string') throw new Error(`${file}: field "_class_name" is missing or not a string`);
  const supported = `supported pipelines: ${SUPPORTED_PIPELINES.join(', ')}`;
  const what = NOT_YET[cls];
  if (what !== undefined) throw new Error(`${file}: "_class_name" is ${cls}: ${what}; ${supported}`);
  if (!(SUPPORTED_PIPELINES as readonly string[]).includes(cls)) throw new Error(`${file}: field "_class_name" is ${JSON.stringify(cls)}, which sdxs does not run; ${supported}`);
  const family = (SDXL_PIPELINES as readonly string[]).includes(cls) ? 'sdxl' : 'sd';
  const spec = (name: string): ComponentSpec | null => {
    const v = o[name];
    if (v === undefined || (Array.isArray(v) && v.length === 2 && v[0] === null && v[1] === null)) return null;
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') {
      throw new Error(`${file}: field "${name}" must be [library, class], got ${JSON.stringify(v)}`);
    }
    return { library: v[0], className: v[1] };
  };
  const required = (name: keyof typeof ACCEPTED | 'scheduler'): ComponentSpec => {
    const s = spec(name);
    if (!s) throw new Error(`${file}: field "${name}" is missing or null; ${cls} needs a ${name}`);
    const accepted = name === 'scheduler' ? undefined : ACCEPTED[name];
    if (accepted && !accepted.includes(s.className)) {
      throw new Error(`${file}: field "${name}" is class ${s.className}, which sdxs cannot load; supported: ${accepted.join(', ')}`);
    }
    return s;
  };
  for (const name of OPTIONAL) spec(name); // shape-checked only
  if (family === 'sd' && spec('text_encoder_2') !== null) {
    throw new Error(`${file}: field "text_encoder_2": ${cls} has one text encoder; a folder with two is an SDXL one (${SDXL_PIPELINES.join(', ')})`);
  }
  if (family === 'sdxl' && spec('text_encoder') === null) {
    // The refiner: text_encoder_2 only, aesthetic-score time ids (requires_aesthetics_score).
    throw new Error(`${file}: field "text_encoder" is null: a refiner-style ${cls} (text_encoder_2 only, requires_aesthetics_score) is not supported; sdxl folders need text_encoder and text_encoder_2`);
  }
  if (family === 'sdxl' && o.requires_aesthetics_score === true) {
    throw new Error(`${file}: field "requires_aesthetics_score" is true: refiner-style time ids (original size, crop, aesthetic score) are not supported; sdxs runs base-style SDXL folders (original size, crop, target size)`);
  }
  const zeros = o.force_zeros_for_empty_prompt ?? true;
  if (typeof zeros !== 'boolean') throw new Error(`${file}: field "force_zeros_for_empty_prompt" must be true or false, got ${JSON.stringify(zeros)}`);
  return {
    pipelineClass: cls,
    family,
    unet: required('unet'),
    textEncoder: required('text_encoder'),
    tokenizer: required('tokenizer'),
    ...(family === 'sdxl' ? { textEncoder2: required('text_encoder_2'), tokenizer2: required('tokenizer_2') } : {}),
    forceZerosForEmptyPrompt: zeros,
    vae: required('vae'),
    scheduler: required('scheduler'),
    ...(cls.endsWith('ControlNetPipeline') ? { controlnet: required('controlnet') } : {}),
  };
}
