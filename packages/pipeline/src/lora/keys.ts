/**
 * The key layouts LoRA files come in, read into one list of adapted modules. What diffusers'
 * `load_lora_weights` accepts for SD 1.x/2.x- and SDXL-shaped models (loaders/lora_pipeline.py and
 * lora_conversion_utils.py):
 *
 * - diffusers / PEFT: `unet.<module>.lora_A.weight` (down) and `.lora_B.weight` (up), or the older
 *   `.lora.down.weight` / `.lora.up.weight`, `.lora_linear_layer.down.weight` and the attention-processor
 *   form `<block>.processor.to_q_lora.down.weight`; `text_encoder.` (and `text_encoder_2.`) for the text
 *   encoders; an optional `<module>.alpha`. Keys with no component prefix (what @sdxs/distill writes into
 *   `unet/pytorch_lora_weights.safetensors`) belong to the U-Net, or to the text encoder when they start with
 *   `text_model.`, as diffusers reads them.
 * - kohya (sd-scripts): `lora_unet_<module path with '.' → '_'>.lora_down.weight` / `.lora_up.weight` /
 *   `.alpha`, `lora_te_…` (`lora_te1_…`, `lora_te2_…` for SDXL's two encoders). U-Net module paths may be
 *   diffusers' or the original SD ones (`input_blocks_4_1_proj_in`, as SDXL LoRAs name them): load.ts matches both.
 */

/** A model component a LoRA adapts. */
export type LoraComponent = 'unet' | 'text_encoder' | 'text_encoder_2';

/** One adapted module as the file names it. */
export interface LoraModuleKeys {
  readonly component: LoraComponent;
  /** `peft`: the module path (`down_blocks.0.attentions.0.proj_in`); `kohya`: the flattened name. */
  readonly layout: 'peft' | 'kohya';
  readonly module: string;
  /** The file keys of the down (A) and up (B) matrices and of alpha (absent: alpha = rank). */
  down?: string;
  up?: string;
  alpha?: string;
}

const KOHYA = /^lora_(unet|te|te1|te2)_(.+?)\.(lora_down\.weight|lora_up\.weight|alpha)$/;
const KOHYA_COMPONENT: Readonly<Record<string, LoraComponent>> = { unet: 'unet', te: 'text_encoder', te1: 'text_encoder', te2: 'text_encoder_2' };
/** PEFT/diffusers suffixes: which matrix each names. */
const PEFT_SUFFIXES: readonly (readonly [string, 'down' | 'up' | 'alpha'])[] = [
  ['.lora_A.weight', 'down'],
  ['.lora_B.weight', 'up'],
  ['.lora.down.weight', 'down'],
  ['.lora.up.weight', 'up'],
  ['.lora_linear_layer.down.weight', 'down'],
  ['.lora_linear_layer.up.weight', 'up'],
  ['.alpha', 'alpha'],
];
/** diffusers' old attention processors: `<attention>.processor.to_q_lora.down.weight` adapts `<attention>.to_q`. */
const PROCESSOR = /^(.*)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/;
/** Adapter kinds that are not a plain LoRA (LyCORIS LoHa/LoKr, DoRA, full diffs): refused by name. */
const UNSUPPORTED = /(\.hada_|\.lokr_|\.lora_mid\.|\.dora_scale$|\.lora_magnitude_vector|\.diff$|\.diff_b$|\.oft_|\.ia3_)/;

function component(key: string): { component: LoraComponent; rest: string } {
  for (const c of ['text_encoder_2', 'text_encoder', 'unet'] as const) {
    if (key.startsWith(`${c}.`)) return { component: c, rest: key.slice(c.length + 1) };
  }
  return { component: key.startsWith('text_model.') ? 'text_encoder' : 'unet', rest: key };
}

/**
 * Group a LoRA file's keys by adapted module. Throws, naming the key, on one that is no LoRA key (a LyCORIS or
 * DoRA adapter, a stray tensor) and on a module that lacks its up or down matrix.
 *
 * @example
 * parseLoraKeys(['lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', …], 'style.safetensors');
 */
export function parseLoraKeys(keys: Iterable<string>, file: string): LoraModuleKeys[] {
  const modules = new Map<string, LoraModuleKeys>();
  const entry = (c: LoraComponent, layout: LoraModuleKeys['layout'], module: string): LoraModuleKeys => {
    const id = `${c}\0${layout}\0${module}`;
    let m = modules.get(id);
    if (!m) modules.set(id, (m = { component: c, layout, module }));
    return m;
  };
  for (const key of keys) {
    if (UNSUPPORTED.test(key)) throw new Error(`${file}: key "${key}" is not a plain LoRA (LyCORIS LoHa/LoKr, DoRA or a full weight difference), which sdxs does not load`);
    const kohya = KOHYA.exec(key);
    if (kohya) {
      const m = entry(KOHYA_COMPONENT[kohya[1]!]!, 'kohya', kohya[2]!);
      const part = kohya[3] === 'alpha' ? 'alpha' : kohya[3] === 'lora_down.weight' ? 'down' : 'up';
      m[part] = key;
      continue;
    }
    const { component: c, rest } = component(key);
    const processor = PROCESSOR.exec(rest);
    if (processor) {
      const proj = processor[2] === 'to_out' ? 'to_out.0' : processor[2]!;
      entry(c, 'peft', `${processor[1]}.${proj}`)[processor[3] as 'down' | 'up'] = key;
      continue;
    }
    const suffix = PEFT_SUFFIXES.find(([s]) => rest.endsWith(s));
    if (!suffix) throw new Error(`${file}: key "${key}" is not a LoRA key (expected <module>.lora_A.weight / lora_B.weight, lora.down / lora.up, or kohya's lora_unet_… / lora_te_… with lora_down / lora_up / alpha)`);
    entry(c, 'peft', rest.slice(0, -suffix[0].length))[suffix[1]] = key;
  }
  const out = [...modules.values()];
  for (const m of out) {
    if (m.down === undefined || m.up === undefined) {
      const has = m.down ?? m.up ?? m.alpha!;
      throw new Error(`${file}: "${has}" has no ${m.down === undefined ? 'down (lora_A / lora_down)' : 'up (lora_B / lora_up)'} matrix beside it`);
    }
  }
  return out;
}

/** kohya's name of a module: its path with every '.' replaced by '_'. */
export function flattenModule(module: string): string {
  return module.replace(/\./g, '_');
}
