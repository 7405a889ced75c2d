// An adapter trained by @sdxs/distill (addLoRA on the micro one-step model's U-Net and text encoder, a few AdamW
// steps, saved by saveCheckpoint) loads in the inference pipeline and gives the image of the folder holding the
// weights mergeLoRA merged — the same bits, since both merges are the same float64 sums rounded once.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bindCheckpoint, Graph, type Value } from '@sdxs/graph';
import { clipBindOptions, clipTextModel, parseCLIPTextConfig } from '@sdxs/clip';
import { StableDiffusionPipeline, type LoraAdapter } from '@sdxs/pipeline';
import { LocalFolderSource } from '@sdxs/runtime-node';
import { castTensor, Generator, Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile, openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { buildUNetGraph, parseUNetConfig } from '@sdxs/unet';
import { adamw, addLoRA, CHECKPOINT_FILES, mergeLoRA, mseLoss, saveCheckpoint, Trainer } from '../src/index.js';
import { normal, runtime } from './_helpers.js';

const MODEL = fileURLToPath(new URL('../../model-micro/models/sdxs-micro-1step', import.meta.url));
const LOWERING = { attention: 'decomposed', groupNorm: 'instance-norm' } as const;
const PROMPT = 'a green triangle on a yellow background';
/** The micro text encoder's context length (max_position_embeddings). */
const LENGTH = 24;
const tmp = mkdtempSync(join(tmpdir(), 'sdxs-distill-lora-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const json = (path: string): unknown => JSON.parse(readFileSync(join(MODEL, path), 'utf8'));

/** The component's weights as float32, by file key (the micro model's files are float16). */
async function weights(file: string): Promise<Map<string, Tensor>> {
  const { tensors } = await loadSafetensorsFile(join(MODEL, file));
  return new Map([...tensors].map(([k, t]) => [k, castTensor(t, 'float32')]));
}

/** Bind `graph`'s parameters from the model's file (float16 → float32), closing it after. */
async function bindFrom(graph: Graph, file: string, clip = false): Promise<void> {
  const f = await openSafetensorsFile(join(MODEL, file));
  try {
    await bindCheckpoint(graph, [f], clip ? clipBindOptions(f.entries.keys()) : {});
  } finally {
    await f.close();
  }
}

/**
 * addLoRA (rank 2, alpha 4: scale 2) on `graph`, trained three AdamW steps towards a random target of `out`;
 * saved with saveCheckpoint as `<dir>/<component>/` (merged weights + pytorch_lora_weights.safetensors).
 */
async function train(component: string, graph: Graph, out: Value, targets: RegExp, feeds: Record<string, Tensor>, frozen: Map<string, Tensor>, dir: string) {
  const lora = addLoRA(graph, { rank: 2, alpha: 4, targets, generator: new Generator(11) });
  const target = graph.input('target', 'float32', [...out.shape] as number[]);
  const trainer = await Trainer.create({ runtime, graph, loss: mseLoss(out, target), trainable: lora.params, optimizer: adamw({ lr: 0.02, weightDecay: 0 }) });
  try {
    const batch = { ...feeds, target: normal(out.shape as number[], 99) };
    const first = await trainer.step(batch);
    await trainer.step(batch);
    const last = await trainer.step(batch);
    expect(last.loss).toBeLessThan(first.loss);
    const adapters = trainer.params();
    // B started at zero: after training it is not, so the adapter does something.
    expect([...adapters].some(([k, t]) => k.endsWith('lora_B.weight') && t.data.some((v) => v !== 0))).toBe(true);
    await saveCheckpoint(dir, { component, config: {}, weights: mergeLoRA(frozen, adapters, lora), adapters, adapterScale: lora.scale, trainer: trainer.state() });
    return { adapters, lora };
  } finally {
    await trainer.dispose();
  }
}

describe('a LoRA trained by @sdxs/distill, at inference', () => {
  it('gives the image of its mergeLoRA-merged weights, from its own checkpoint files and from one diffusers-layout file', async () => {
    // U-Net: the attention projections (addLoRA's default targets).
    const unetFrozen = await weights('unet/diffusion_pytorch_model.safetensors');
    const unetConfig = parseUNetConfig(json('unet/config.json'), 'unet/config.json');
    const { graph: ug } = buildUNetGraph(unetConfig, { lowering: LOWERING, batch: 1, timestep: 'scalar', sequenceLength: LENGTH });
    await bindFrom(ug, 'unet/diffusion_pytorch_model.safetensors');
    const unetFeeds = { sample: normal([1, 4, 8, 8], 1), timestep: new Tensor('float32', [], Float32Array.of(999)), encoder_hidden_states: normal([1, LENGTH, 64], 2) };
    const unetDir = join(tmp, 'unet-run');
    const u = await train('unet', ug, ug.outputs[0]!, /(^|\.)(to_q|to_k|to_v|to_out\.0)$/, unetFeeds, unetFrozen, unetDir);

    // Text encoder: q and v projections.
    const teFrozen = await weights('text_encoder/model.safetensors');
    const tg = new Graph({ lowering: LOWERING });
    const ids = tg.input('input_ids', 'int64', [1, LENGTH]);
    const te = clipTextModel(tg, ids, parseCLIPTextConfig(json('text_encoder/config.json'), 'text_encoder/config.json'));
    await bindFrom(tg, 'text_encoder/model.safetensors', true);
    // BOS, five words' ids, EOS and padding (the micro tokenizer's vocabulary has 661 entries).
    const idData = new BigInt64Array(LENGTH).map((_, i) => BigInt(i === 0 ? 659 : i < 6 ? 100 + i * 7 : 660));
    const teDir = join(tmp, 'te-run');
    const t = await train('text_encoder', tg, te.lastHiddenState, /(q_proj|v_proj)$/, { input_ids: new Tensor('int64', [1, LENGTH], idData) }, teFrozen, teDir);

    // The merged model: the embedded folder with the checkpoints' (merged) weight files in place of its own.
    const merged = join(tmp, 'merged');
    cpSync(MODEL, merged, { recursive: true });
    cpSync(join(unetDir, 'unet', CHECKPOINT_FILES.weights), join(merged, 'unet/diffusion_pytorch_model.safetensors'));
    cpSync(join(teDir, 'text_encoder', CHECKPOINT_FILES.weights), join(merged, 'text_encoder/model.safetensors'));

    // One file in diffusers' layout with each module's alpha, as diffusers' save_lora_weights + alpha would write.
    const combined = new Map<string, Tensor>();
    for (const [prefix, run] of [['unet', u], ['text_encoder', t]] as const) {
      for (const [k, v] of run.adapters) combined.set(`${prefix}.${k}`, v);
      for (const m of run.lora.modules) combined.set(`${prefix}.${m}.alpha`, new Tensor('float32', [], Float32Array.of(4)));
    }
    await writeSafetensorsFile(join(tmp, 'combined.safetensors'), combined, { format: 'pt' });

    const render = async (folder: string, lora?: LoraAdapter[]) => {
      const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(folder), runtime, lora ? { lora } : {});
      try {
        return (await pipe.generate({ prompt: PROMPT, seed: 5, float: true })).float!;
      } finally {
        await pipe.dispose();
      }
    };
    const maxDiff = (a: Tensor<'float32'>, b: Tensor<'float32'>) => {
      let m = 0;
      for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
      return m;
    };
    const plain = await render(MODEL);
    const reference = await render(merged);
    // The checkpoints' adapter files carry each module's alpha (4 at rank 2): at scale 1 they apply as trained.
    const fromCheckpoints = await render(MODEL, [
      { source: new LocalFolderSource(join(unetDir, 'unet')), file: CHECKPOINT_FILES.adapters },
      { source: new LocalFolderSource(join(teDir, 'text_encoder')), file: CHECKPOINT_FILES.adapters },
    ]);
    const fromCombined = await render(MODEL, [{ source: new LocalFolderSource(tmp), file: 'combined.safetensors' }]);
    expect(maxDiff(reference, plain)).toBeGreaterThan(1e-3);
    expect(maxDiff(fromCheckpoints, reference)).toBe(0);
    expect(maxDiff(fromCombined, reference)).toBe(0);
  });
});
