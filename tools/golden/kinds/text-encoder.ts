import { clipBindOptions, clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';
import { Graph } from '@sdxs/graph';
import { readCaseConfig, readCaseInputs, runComponent } from '../component.js';
import type { GoldenCase, KindResult } from '../types.js';

/** `text-encoder`: CLIPTextModel(WithProjection)(input_ids, output_hidden_states=True). */
export async function runTextEncoder(c: GoldenCase): Promise<KindResult> {
  const config = parseCLIPTextConfig(await readCaseConfig(c), `${c.name}/config.json`);
  const inputs = await readCaseInputs(c);
  const ids = inputs.get('input_ids');
  if (!ids) throw new Error(`${c.name}/inputs.safetensors: no input_ids`);
  const g = new Graph({ name: c.name });
  const out = clipTextModel(g, g.input('input_ids', 'int64', ['batch', ids.shape[1] ?? 77]), config);
  g.output(out.lastHiddenState, 'last_hidden_state');
  out.hiddenStates.forEach((h, i) => g.output(h, `hidden_states.${i}`));
  g.output(out.pooledOutput, 'pooler_output');
  if (out.textEmbeds) g.output(out.textEmbeds, 'text_embeds');
  const outputs = await runComponent(c, g, { input_ids: ids }, clipBindOptions);
  // CLIPTextModelWithProjection returns text_embeds instead of pooler_output.
  if (out.textEmbeds) outputs.delete('pooler_output');
  return { outputs, tolerance: { relative: 1e-4 } };
}
