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
  readonly unet: ComponentSpec;
  readonly textEncoder: ComponentSpec;
  readonly tokenizer: ComponentSpec;
  readonly vae: ComponentSpec;
  readonly scheduler: ComponentSpec;
  /** StableDiffusionControlNetPipeline's `controlnet/` (a single ControlNetModel). */
  readonly controlnet?: ComponentSpec;
}

/** img2img and ControlNet folders hold the text-to-image components (plus `controlnet/`): one loader serves all three. */
export const SUPPORTED_PIPELINES = ['StableDiffusionPipeline', 'StableDiffusionImg2ImgPipeline', 'StableDiffusionControlNetPipeline'] as const;

/** Pipelines users will point sdxs at that it does not run yet, with the reason. */
const NOT_YET: Readonly<Record<string, string>> = {
  StableDiffusionXLPipeline: 'SDXL-shaped models (SDXS-1024) need two text encoders and text_time conditioning, which the pipeline does not assemble yet',
  StableDiffusionInpaintPipeline: 'inpainting is not supported',
  LatentConsistencyModelPipeline: 'LCM-distilled U-Nets (time_cond_proj_dim) are not supported yet',
};

/** Classes accepted per component: what StableDiffusionPipeline loads and sdxs can build. */
const ACCEPTED: Readonly<Record<'unet' | 'text_encoder' | 'tokenizer' | 'vae' | 'controlnet', readonly string[]>> = {
  unet: ['UNet2DConditionModel'],
  text_encoder: ['CLIPTextModel', 'CLIPTextModelWithProjection'],
  tokenizer: ['CLIPTokenizer', 'CLIPTokenizerFast'],
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
  const why = NOT_YET[cls];
  if (why !== undefined) throw new Error(`${file}: "_class_name" is ${cls}; not yet supported: ${why}`);
  if (!(SUPPORTED_PIPELINES as readonly string[]).includes(cls)) {
    throw new Error(`${file}: field "_class_name" is ${JSON.stringify(cls)}; supported pipelines: ${SUPPORTED_PIPELINES.join(', ')}`);
  }
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
  if (o.text_encoder_2 !== undefined && spec('text_encoder_2') !== null) {
    throw new Error(`${file}: field "text_encoder_2": a second text encoder (SDXL) is not supported yet by ${cls}`);
  }
  return {
    pipelineClass: cls,
    unet: required('unet'),
    textEncoder: required('text_encoder'),
    tokenizer: required('tokenizer'),
    vae: required('vae'),
    scheduler: required('scheduler'),
    ...(cls === 'StableDiffusionControlNetPipeline' ? { controlnet: required('controlnet') } : {}),
  };
}
