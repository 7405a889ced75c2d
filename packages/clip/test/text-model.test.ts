import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { bindCheckpoint, Graph, toOnnx } from '@sdxs/graph';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { clipTextModel, parseCLIPTextConfig, clipBindOptions } from '../src/text/index.js';
import { caseFile } from '../../../tools/golden/links.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

async function runCase(name: string) {
  const dir = GOLDEN + name;
  const config = parseCLIPTextConfig(JSON.parse(readFileSync(caseFile(dir, 'config.json'), 'utf8')), `${name}/config.json`);
  const inputs = await openSafetensorsFile(caseFile(dir, 'inputs.safetensors'));
  const ids = await inputs.read('input_ids');
  const g = new Graph();
  const out = clipTextModel(g, g.input('input_ids', 'int64', ['batch', 77]), config);
  g.output(out.lastHiddenState, 'last_hidden_state');
  out.hiddenStates.forEach((h, i) => g.output(h, `hidden_states.${i}`));
  if (out.textEmbeds) g.output(out.textEmbeds, 'text_embeds');
  else g.output(out.pooledOutput, 'pooler_output');
  const weights = await openSafetensorsFile(caseFile(dir, 'model.safetensors'));
  await bindCheckpoint(g, [weights], clipBindOptions(weights.entries.keys()));
  const session = await createNodeRuntime().createSession(toOnnx(g));
  const got = await session.run({ input_ids: ids });
  const ref = await openSafetensorsFile(caseFile(dir, 'outputs.safetensors'));
  const errors: Record<string, number> = {};
  for (const n of ref.names()) {
    const e = (await ref.read(n)).toArray();
    const a = got[n]!.toArray();
    expect(a.length).toBe(e.length);
    const scale = Math.max(...e.map(Math.abs));
    errors[n] = Math.max(...a.map((v, i) => Math.abs(v - e[i]!))) / scale;
  }
  return errors;
}

describe('CLIP text encoders against transformers', () => {
  it('CLIPTextModel (quick_gelu): every hidden state, last state and pooled output', async () => {
    const errors = await runCase('text-clip-l');
    expect(Object.keys(errors).sort()).toEqual(['hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'hidden_states.3', 'last_hidden_state', 'pooler_output']);
    for (const [k, e] of Object.entries(errors)) expect(e, k).toBeLessThan(1e-4);
  });
  it('CLIPTextModelWithProjection (gelu, pad "!"): text_embeds and hidden states', async () => {
    const errors = await runCase('text-open-clip-proj');
    expect(Object.keys(errors)).toContain('text_embeds');
    for (const [k, e] of Object.entries(errors)) expect(e, k).toBeLessThan(1e-4);
  });
  it('names the field of a bad config', () => {
    expect(() => parseCLIPTextConfig({ hidden_act: 'relu' }, 'te/config.json')).toThrow(/te\/config\.json: field "hidden_act" is "relu"/);
    expect(() => parseCLIPTextConfig({ hidden_size: 30, num_attention_heads: 4 }, 'c.json')).toThrow(/field "num_attention_heads" \(4\) must divide hidden_size \(30\)/);
    expect(() => parseCLIPTextConfig({ num_hidden_layers: '12' }, 'c.json')).toThrow(/field "num_hidden_layers" must be an integer/);
  });
});
