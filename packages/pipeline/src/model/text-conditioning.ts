/**
 * Which text side a folder has, checked against its U-Net before any weight is read: one CLIP encoder whose
 * hidden size is the U-Net's cross_attention_dim (SD 1.x/2.x, SDXS-512), or SDXL's two (diffusers'
 * `StableDiffusionXLPipeline`, pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py): `text_encoder`
 * (CLIPTextModel) and `text_encoder_2` (CLIPTextModelWithProjection), their penultimate hidden states concatenated
 * as the cross-attention context, the second one's projected pooled output plus six time ids as the U-Net's
 * `text_time` added condition. Every mismatch names both files.
 */
import type { CLIPTextConfig, CLIPTokenizer } from '@sdxs/clip';
import type { UNet2DConditionConfig } from '@sdxs/unet';

/** SDXL's second tokenizer and text encoder. */
export interface SecondTextEncoder {
  readonly tokenizer: CLIPTokenizer;
  readonly config: CLIPTextConfig;
}

/** The U-Net's `text_time` inputs beyond encoder_hidden_states: text_embeds [B, textEmbedsDim], time_ids [B, 6]. */
export interface AddedConditionShape {
  readonly textEmbedsDim: number;
  readonly timeIds: number;
}

/** SDXL's add_time_ids: original_size (2) + crops_coords_top_left (2) + target_size (2). */
export const SDXL_TIME_IDS = 6;

/**
 * The U-Net's cross-attention width (the first, where it is given per block).
 *
 * @example
 * crossAttentionDim(sdxlUNetConfig); // 2048 = 768 (text_encoder) + 1280 (text_encoder_2)
 */
export function crossAttentionDim(u: UNet2DConditionConfig): number {
  return typeof u.cross_attention_dim === 'number' ? u.cross_attention_dim : u.cross_attention_dim[0]!;
}

/**
 * Check the text encoder(s) against the U-Net, as the pipelines would fail at their first call otherwise: the
 * context width, and for SDXL diffusers' `_get_add_time_ids` check (addition_time_embed_dim × 6 + projection_dim =
 * projection_class_embeddings_input_dim). `where(path)` names a file of the folder.
 *
 * @example
 * checkTextConditioning(unetConfig, textConfig, { tokenizer: tokenizer2, config: text2Config }, tokenizer, (p) => `model/${p}`);
 */
export function checkTextConditioning(unet: UNet2DConditionConfig, text: CLIPTextConfig, second: SecondTextEncoder | undefined, tokenizer: CLIPTokenizer, where: (path: string) => string): void {
  const unetFile = where('unet/config.json');
  const [te1, te2] = [where('text_encoder/config.json'), where('text_encoder_2/config.json')];
  const crossDim = crossAttentionDim(unet);
  if (!second) {
    if (unet.addition_embed_type === 'text_time') {
      throw new Error(`${unetFile}: addition_embed_type "text_time" (an SDXL U-Net) needs text_encoder_2 and tokenizer_2, but ${where('model_index.json')} names one text encoder`);
    }
    if (crossDim !== text.hidden_size) throw new Error(`${unetFile}: cross_attention_dim ${crossDim} does not match the text encoder's hidden_size ${text.hidden_size} (${te1})`);
    return;
  }
  if (unet.addition_embed_type !== 'text_time') {
    throw new Error(`${unetFile}: addition_embed_type is ${JSON.stringify(unet.addition_embed_type)}, but an SDXL folder (${where('model_index.json')}) needs "text_time" conditioning`);
  }
  const [h1, h2] = [text.hidden_size, second.config.hidden_size];
  if (crossDim !== h1 + h2) {
    throw new Error(`${unetFile}: cross_attention_dim ${crossDim} is not the text encoders' hidden sizes together, ${h1} (${te1}) + ${h2} (${te2}) = ${h1 + h2}`);
  }
  const passed = unet.addition_time_embed_dim! * SDXL_TIME_IDS + second.config.projection_dim;
  const expected = unet.projection_class_embeddings_input_dim!;
  if (passed !== expected) {
    throw new Error(
      `${unetFile}: projection_class_embeddings_input_dim ${expected} does not match addition_time_embed_dim ${unet.addition_time_embed_dim} × ${SDXL_TIME_IDS} time ids + the second text encoder's projection_dim ${second.config.projection_dim} (${te2}) = ${passed}`,
    );
  }
  if (second.tokenizer.maxLength !== tokenizer.maxLength) {
    throw new Error(`${where('tokenizer_2')}: model_max_length ${second.tokenizer.maxLength} differs from ${where('tokenizer')}'s ${tokenizer.maxLength}; the two encodings are concatenated token by token`);
  }
  if (second.tokenizer.maxLength > second.config.max_position_embeddings) {
    throw new Error(`${where('tokenizer_2')}: model_max_length ${second.tokenizer.maxLength} exceeds the second text encoder's max_position_embeddings ${second.config.max_position_embeddings} (${te2})`);
  }
}

/**
 * What the U-Net's graphs take beyond encoder_hidden_states for this folder: nothing for SD, SDXL's text_embeds
 * (the second encoder's projection_dim) and time ids.
 *
 * @example
 * addedConditionShape(second); // { textEmbedsDim: 1280, timeIds: 6 } for SDXL
 */
export function addedConditionShape(second: SecondTextEncoder | undefined): AddedConditionShape | undefined {
  return second ? { textEmbedsDim: second.config.projection_dim, timeIds: SDXL_TIME_IDS } : undefined;
}
