import {
  Add,
  ArgMax,
  Cast,
  Equal,
  Gather,
  MatMul,
  int64s,
  Reshape,
  Transpose,
  Unsqueeze,
  Params,
  type BindOptions,
  type Graph,
  type Value,
} from '@sdxs/graph';
import type { CLIPTextConfig } from './config.js';
import { clipEncoderLayer, clipLayerNorm } from './encoder-layer.js';

export interface CLIPTextOutputs {
  /** Final-layer-normed states [B, S, hidden]. */
  lastHiddenState: Value;
  /** hidden_states[0] = embeddings, hidden_states[i] = output of layer i (before the final norm). */
  hiddenStates: Value[];
  /** The final-normed state at each sequence's first EOS token [B, hidden]. */
  pooledOutput: Value;
  /** pooledOutput · text_projectionᵀ [B, projection_dim] (CLIPTextModelWithProjection only). */
  textEmbeds?: Value;
}

export interface CLIPTextOptions {
  /** Add `text_projection` (CLIPTextModelWithProjection, SDXL's second encoder). Default: from config.architectures. */
  withProjection?: boolean;
}

/**
 * How to bind a CLIP text checkpoint: older files carry a `position_ids` buffer the model computes itself;
 * transformers 5 saves the tower without its `text_model.` prefix (SD folders made with 4.x have it).
 */
export function clipBindOptions(keys: Iterable<string>): BindOptions {
  const list = [...keys];
  const unprefixed = !list.some((k) => k.startsWith('text_model.')) && list.some((k) => k.startsWith('embeddings.'));
  return {
    ignore: [/^(text_model\.)?embeddings\.position_ids$/],
    ...(unprefixed ? { fileKeyToModelKey: clipModelKey } : {}),
  };
}

/**
 * A CLIP text checkpoint key with the `text_model.` prefix transformers' model uses (transformers 5 saves
 * CLIPTextModel without it; `text_projection.*` never has it).
 *
 * @example
 * clipModelKey('encoder.layers.0.mlp.fc1.weight'); // 'text_model.encoder.layers.0.mlp.fc1.weight'
 */
export function clipModelKey(key: string): string {
  return key.startsWith('text_model.') || key.startsWith('text_projection.') ? key : `text_model.${key}`;
}

/**
 * CLIPTextModel / CLIPTextModelWithProjection (transformers) on `inputIds` [B, S] (int64, S ≤
 * max_position_embeddings): embeddings, causal pre-norm transformer layers, final layer norm, pooled output
 * at the first EOS token (transformers' rule when eos_token_id ≠ 2), optional projection. Parameters get the
 * checkpoint keys (`text_model.encoder.layers.0.self_attn.q_proj.weight`).
 *
 * @example
 * const ids = g.input('input_ids', 'int64', ['batch', 77]);
 * const { lastHiddenState } = clipTextModel(g, ids, config);
 */
export function clipTextModel(g: Graph, inputIds: Value, config: CLIPTextConfig, options: CLIPTextOptions = {}): CLIPTextOutputs {
  const root = new Params(g);
  const tm = root.child('text_model');
  const seq = inputIds.shape[1];
  const d = config.hidden_size;
  if (typeof seq !== 'number') throw new Error('CLIP text model: the sequence length must be static (77 for Stable Diffusion)');
  if (seq > config.max_position_embeddings) {
    throw new Error(`CLIP text model: sequence length ${seq} exceeds max_position_embeddings ${config.max_position_embeddings}`);
  }
  const emb = tm.child('embeddings');
  const tokens = Gather(emb.child('token_embedding').param('weight', [config.vocab_size, d]), inputIds);
  const positionTable = emb.child('position_embedding').param('weight', [config.max_position_embeddings, d]);
  const positions = Gather(positionTable, [...Array(seq).keys()]);
  let h = Add(tokens, positions);
  const hiddenStates = [h];
  const layers = tm.child('encoder').child('layers');
  for (let i = 0; i < config.num_hidden_layers; i++) {
    h = clipEncoderLayer(layers.child(i), h, config);
    hiddenStates.push(h);
  }
  const last = clipLayerNorm(tm.child('final_layer_norm'), h, config);
  const pooledOutput = poolAtFirstEos(inputIds, last, config.eos_token_id, seq);
  const withProjection = options.withProjection ?? config.architectures?.includes('CLIPTextModelWithProjection') ?? false;
  const out: CLIPTextOutputs = { lastHiddenState: last, hiddenStates, pooledOutput };
  if (withProjection) {
    out.textEmbeds = MatMul(pooledOutput, Transpose(root.child('text_projection').param('weight', [config.projection_dim, d]), [1, 0]));
  }
  return out;
}

/**
 * states[b, argmax_s(ids[b, s] == eos)]: the first EOS per row (padding may repeat it), picked with a one-hot
 * MatMul so that the whole model stays in ops every backend (and autodiff) has.
 */
function poolAtFirstEos(ids: Value, states: Value, eos: number, seq: number): Value {
  const isEos = Cast(Equal(ids, eos), 'int32');
  const first = Unsqueeze(ArgMax(isEos, 1, { keepdims: false }), [1]); // [B, 1]
  const oneHot = Cast(Equal(int64s(ids.graph, [...Array(seq).keys()], 'positions'), first), states.dtype); // [B, S]
  return Reshape(MatMul(Unsqueeze(oneHot, [1]), states), [0, -1]); // [B, 1, D] -> [B, D]
}
