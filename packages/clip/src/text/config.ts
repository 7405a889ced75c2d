/**
 * transformers' CLIPTextConfig, the fields the text tower uses (names as in config.json). Parsing checks
 * each one, so a wrong or unsupported config is one error naming the field, never a silently different model.
 */
export interface CLIPTextConfig {
  architectures?: string[];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  projection_dim: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  pad_token_id: number;
  bos_token_id: number;
  eos_token_id: number;
}

const ACTS = ['quick_gelu', 'gelu'] as const;

/** Validate a parsed config.json; `file` names it in errors. */
export function parseCLIPTextConfig(json: unknown, file: string): CLIPTextConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file}: not a JSON object`);
  const c = json as Record<string, unknown>;
  const int = (name: string, fallback?: number): number => {
    const v = c[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${file}: field "${name}" must be an integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const positive = (name: string, fallback?: number): number => {
    const v = int(name, fallback);
    if (v <= 0) throw new Error(`${file}: field "${name}" must be positive, got ${v}`);
    return v;
  };
  // CLIPTextConfig's defaults, for fields older configs omit.
  const hidden = positive('hidden_size', 512);
  const heads = positive('num_attention_heads', 8);
  if (hidden % heads !== 0) throw new Error(`${file}: field "num_attention_heads" (${heads}) must divide hidden_size (${hidden})`);
  const act = c.hidden_act ?? 'quick_gelu';
  if (typeof act !== 'string' || !(ACTS as readonly string[]).includes(act)) {
    throw new Error(`${file}: field "hidden_act" is ${JSON.stringify(act)}; supported: ${ACTS.join(', ')}`);
  }
  const eps = c.layer_norm_eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new Error(`${file}: field "layer_norm_eps" must be a positive number`);
  const arch = c.architectures;
  if (arch !== undefined && (!Array.isArray(arch) || !arch.every((a) => typeof a === 'string'))) {
    throw new Error(`${file}: field "architectures" must be a list of strings`);
  }
  return {
    ...(arch ? { architectures: arch as string[] } : {}),
    vocab_size: positive('vocab_size', 49408),
    hidden_size: hidden,
    intermediate_size: positive('intermediate_size', 2048),
    projection_dim: positive('projection_dim', 512),
    num_hidden_layers: positive('num_hidden_layers', 12),
    num_attention_heads: heads,
    max_position_embeddings: positive('max_position_embeddings', 77),
    hidden_act: act as CLIPTextConfig['hidden_act'],
    layer_norm_eps: eps,
    pad_token_id: int('pad_token_id', 1),
    bos_token_id: int('bos_token_id', 49406),
    eos_token_id: int('eos_token_id', 49407),
  };
}
