// LoRA at inference on the embedded one-step micro model: PEFT and kohya files of the same weights give the image of
// a folder whose weights this test merged itself (linear, 1×1 and 3×3 conv, U-Net and text encoder); several adapters
// add up; scale 0 is no adapter; graph and prompt caches never serve another adapter set; errors name file and key.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRuntime, LocalFolderSource, StableDiffusionPipeline as NodePipeline } from '@sdxs/runtime-node';
import { castTensor, Generator, Tensor, type ModelSource } from '@sdxs/tensor';
import { loadSafetensorsFile, openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import {
  ControlNetPipeline,
  flattenModule,
  MemoryGraphCache,
  mergeLoraTerms,
  parseLoraKeys,
  PromptEmbeddingCache,
  StableDiffusionPipeline,
  type LoadOptions,
  type LoraAdapter,
  type ProgressEvent,
} from '../src/index.js';
import { goldenModel, goldenSource, maxAbsDiff } from './_helpers.js';
import { sdxlFolder } from './_sdxl.js';

const MODEL = fileURLToPath(new URL('../../model-micro/models/sdxs-micro-1step', import.meta.url));
const runtime = createNodeRuntime({ intraOpThreads: 2 });
const PROMPT = 'a red circle on a blue background';

type Component = 'unet' | 'text_encoder' | 'text_encoder_2';
/** One adapted module: down [r, in, …], up [out, r, 1, 1 …], alpha. */
interface Module {
  readonly component: Component;
  readonly module: string;
  readonly down: Tensor<'float32'>;
  readonly up: Tensor<'float32'>;
  readonly alpha: number;
}

// Linear layers of both networks, a 1×1 conv (proj_in) and a 3×3 conv (a resnet's conv1).
const TARGETS: readonly { component: Component; module: string; out: number; inner: number[] }[] = [
  { component: 'unet', module: 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q', out: 48, inner: [48] },
  { component: 'unet', module: 'up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v', out: 80, inner: [64] },
  { component: 'unet', module: 'down_blocks.1.attentions.0.proj_in', out: 80, inner: [80, 1, 1] },
  { component: 'unet', module: 'down_blocks.0.resnets.0.conv1', out: 48, inner: [48, 3, 3] },
  { component: 'text_encoder', module: 'text_model.encoder.layers.0.self_attn.q_proj', out: 64, inner: [64] },
  { component: 'text_encoder', module: 'text_model.encoder.layers.0.mlp.fc1', out: 256, inner: [64] },
];

function normal(shape: number[], seed: number, std: number): Tensor<'float32'> {
  const t = new Generator(seed).randn(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! * std;
  return t;
}

/** Deterministic non-zero adapters of rank 4 on `targets` (alpha 8: scale 2 before the user's). */
function adapters(seed: number, targets = TARGETS, rank = 4): Module[] {
  return targets.map((t, i) => {
    const trailing = t.inner.slice(1).map(() => 1);
    return {
      component: t.component,
      module: t.module,
      down: normal([rank, ...t.inner], seed * 100 + 2 * i, 0.15),
      up: normal([t.out, rank, ...trailing], seed * 100 + 2 * i + 1, 0.15),
      alpha: 2 * rank,
    };
  });
}

function peftKeys(ms: readonly Module[], suffixes: readonly [string, string] = ['lora_A.weight', 'lora_B.weight']): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const m of ms) {
    out.set(`${m.component}.${m.module}.${suffixes[0]}`, m.down);
    out.set(`${m.component}.${m.module}.${suffixes[1]}`, m.up);
    out.set(`${m.component}.${m.module}.alpha`, new Tensor('float32', [], Float32Array.of(m.alpha)));
  }
  return out;
}

// The original SD (LDM) names of TARGETS' U-Net modules in this model's layout (layers_per_block 1, no mid block;
// up_blocks.1 is output_blocks 2–3), written out by hand from diffusers' convert_ldm_unet_checkpoint numbering.
const LDM_NAMES: Readonly<Record<string, string>> = {
  'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q': 'input_blocks.1.1.transformer_blocks.0.attn1.to_q',
  'up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v': 'output_blocks.2.1.transformer_blocks.0.attn2.to_v',
  'down_blocks.1.attentions.0.proj_in': 'input_blocks.3.1.proj_in',
  'down_blocks.0.resnets.0.conv1': 'input_blocks.1.0.in_layers.2',
};

/** kohya's layout; `ldm`: U-Net modules under their original SD names, text encoder as `lora_te1_` (SDXL LoRAs). */
function kohyaKeys(ms: readonly Module[], ldm = false): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const m of ms) {
    const module = ldm && m.component === 'unet' ? LDM_NAMES[m.module]! : m.module;
    const te = m.component === 'text_encoder_2' ? 'te2' : ldm ? 'te1' : 'te';
    const name = `lora_${m.component === 'unet' ? 'unet' : te}_${flattenModule(module)}`;
    // kohya stores float16 more often than not: the loader takes any float.
    out.set(`${name}.lora_down.weight`, castTensor(m.down, 'float16'));
    out.set(`${name}.lora_up.weight`, castTensor(m.up, 'float16'));
    out.set(`${name}.alpha`, new Tensor('float16', [], castTensor(new Tensor('float32', [], Float32Array.of(m.alpha)), 'float16').data));
  }
  return out;
}

/** The same adapters as kohya's float16 file holds them (so the PEFT and kohya files carry equal numbers). */
function asHalf(ms: readonly Module[]): Module[] {
  return ms.map((m) => ({ ...m, down: castTensor(castTensor(m.down, 'float16'), 'float32'), up: castTensor(castTensor(m.up, 'float16'), 'float32') }));
}

/**
 * The reference: a copy of the model folder whose U-Net and text encoder files hold W + Σ scale·alpha/r·up·down,
 * computed here element by element in float64 (plain loops over the un-flattened shapes), stored as float32.
 */
async function mergedFolder(name: string, sets: readonly { modules: readonly Module[]; scale: number }[], model = MODEL): Promise<string> {
  const dir = join(tmp, name);
  // Symlinked weights (the golden SDXL folder's) become files of their own, so writing them leaves the originals be.
  cpSync(model, dir, { recursive: true, dereference: true });
  const files = [['unet', 'unet/diffusion_pytorch_model.safetensors'], ['text_encoder', 'text_encoder/model.safetensors'], ['text_encoder_2', 'text_encoder_2/model.safetensors']] as const;
  for (const [component, file] of files.filter(([c]) => sets.some((set) => set.modules.some((m) => m.component === c)))) {
    const { tensors } = await loadSafetensorsFile(join(dir, file));
    const out = new Map<string, Tensor>();
    for (const [k, t] of tensors) out.set(k, castTensor(t, 'float32'));
    const acc = new Map<string, Float64Array>();
    for (const { modules, scale } of sets) {
      for (const m of modules.filter((x) => x.component === component)) {
        const key = `${m.module}.weight`;
        const w = out.get(key)!;
        const a = acc.get(key) ?? Float64Array.from(w.data as Float32Array);
        acc.set(key, a);
        const r = m.down.shape[0]!;
        const cols = m.down.size / r;
        const s = (m.alpha / r) * scale;
        for (let o = 0; o < w.shape[0]!; o++) {
          for (let c = 0; c < cols; c++) {
            let dot = 0;
            for (let k = 0; k < r; k++) dot += m.up.data[o * r + k]! * m.down.data[k * cols + c]!;
            a[o * cols + c] = a[o * cols + c]! + s * dot;
          }
        }
      }
    }
    for (const [k, a] of acc) out.set(k, new Tensor('float32', out.get(k)!.shape, Float32Array.from(a)));
    await writeSafetensorsFile(join(dir, file), out, { format: 'pt' });
  }
  return dir;
}

async function writeLora(name: string, tensors: Map<string, Tensor>): Promise<LoraAdapter & { file: string }> {
  await writeSafetensorsFile(join(tmp, name), tensors, { format: 'pt' });
  return { source: new LocalFolderSource(tmp), file: name };
}

async function load(folder: string, options: LoadOptions = {}): Promise<StableDiffusionPipeline> {
  return StableDiffusionPipeline.load(new LocalFolderSource(folder), runtime, options);
}

/** The float image of one seeded call (disposes the pipeline). */
async function image(pipe: StableDiffusionPipeline, seed = 3): Promise<Tensor<'float32'>> {
  try {
    const { float } = await pipe.generate({ prompt: PROMPT, seed, float: true });
    return float!;
  } finally {
    await pipe.dispose();
  }
}

let tmp: string;
let base: Tensor<'float32'>;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sdxs-lora-'));
  base = await image(await load(MODEL));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('LoRA at inference', () => {
  it('merges linear, 1×1 and 3×3 conv adapters as W + scale·up·down (float64 sums, rounded once)', () => {
    // Rank 6: one block of four k and two single ones in mergeLoraTerms; here plain loops over the 4-d shapes.
    const R = 6;
    const w = normal([6, 5, 3, 3], 1, 1);
    const down = normal([R, 5, 3, 3], 2, 1);
    const up = normal([6, R, 1, 1], 3, 1);
    const merged = mergeLoraTerms(castTensor(w, 'float16'), [{ up: up.data, down: down.data, rank: R, scale: 0.5 }]);
    const w16 = castTensor(castTensor(w, 'float16'), 'float32').data;
    let worst = 0;
    for (let o = 0; o < 6; o++) {
      for (let i = 0; i < 5; i++) {
        for (let y = 0; y < 3; y++) {
          for (let x = 0; x < 3; x++) {
            const at = ((o * 5 + i) * 3 + y) * 3 + x;
            let delta = 0;
            for (let k = 0; k < R; k++) delta += up.data[o * R + k]! * down.data[((k * 5 + i) * 3 + y) * 3 + x]!;
            worst = Math.max(worst, Math.abs(merged.data[at]! - Math.fround(w16[at]! + 0.5 * delta)));
          }
        }
      }
    }
    expect(merged.shape).toEqual([6, 5, 3, 3]);
    expect(worst).toBe(0);
    expect(maxAbsDiff(merged, castTensor(castTensor(w, 'float16'), 'float32'))).toBeGreaterThan(0.1);
  });

  it('reads the diffusers/PEFT, old diffusers and kohya key layouts', () => {
    const keys = parseLoraKeys(
      [
        'unet.down_blocks.0.attentions.0.proj_in.lora_A.weight',
        'unet.down_blocks.0.attentions.0.proj_in.lora_B.weight',
        'unet.down_blocks.0.attentions.0.proj_in.alpha',
        'mid_block.attentions.0.proj_out.lora.down.weight',
        'mid_block.attentions.0.proj_out.lora.up.weight',
        'unet.up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight',
        'unet.up_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight',
        'text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.down.weight',
        'text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.up.weight',
        'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight',
        'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight',
        'lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight',
        'lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight',
        'lora_unet_down_blocks_0_resnets_0_conv1.alpha',
      ],
      'x.safetensors',
    );
    expect(keys.map((k) => [k.component, k.layout, k.module, k.alpha !== undefined])).toEqual([
      ['unet', 'peft', 'down_blocks.0.attentions.0.proj_in', true],
      ['unet', 'peft', 'mid_block.attentions.0.proj_out', false],
      ['unet', 'peft', 'up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0', false],
      ['text_encoder', 'peft', 'text_model.encoder.layers.0.self_attn.q_proj', false],
      ['text_encoder', 'kohya', 'text_model_encoder_layers_0_mlp_fc1', false],
      ['unet', 'kohya', 'down_blocks_0_resnets_0_conv1', true],
    ]);
  });

  it('gives, from PEFT and kohya files of the same weights (kohya with diffusers or original SD module names), the image of the folder merged here', async () => {
    const modules = asHalf(adapters(1));
    const peft = await writeLora('peft.safetensors', peftKeys(modules));
    const oldDiffusers = await writeLora('old.safetensors', peftKeys(modules, ['lora.down.weight', 'lora.up.weight']));
    const kohya = await writeLora('kohya.safetensors', kohyaKeys(modules));
    const kohyaLdm = await writeLora('kohya-ldm.safetensors', kohyaKeys(modules, true));
    const reference = await image(await load(await mergedFolder('merged-1', [{ modules, scale: 0.8 }])));
    const fromPeft = await image(await load(MODEL, { lora: [{ ...peft, scale: 0.8 }] }));
    const fromOld = await image(await load(MODEL, { lora: [{ ...oldDiffusers, scale: 0.8 }] }));
    const fromKohya = await image(await load(MODEL, { lora: [{ ...kohya, scale: 0.8 }] }));
    const fromKohyaLdm = await image(await load(MODEL, { lora: [{ ...kohyaLdm, scale: 0.8 }] }));
    // The adapters change the picture…
    expect(maxAbsDiff(fromPeft, base)).toBeGreaterThan(0.05);
    // …and the merged weights are the same float64 sums rounded once as the reference's, so the same graph gets
    // the same bits: the images are identical, not merely close.
    expect(maxAbsDiff(fromPeft, reference)).toBe(0);
    expect(maxAbsDiff(fromOld, reference)).toBe(0);
    expect(maxAbsDiff(fromKohya, reference)).toBe(0);
    expect(maxAbsDiff(fromKohyaLdm, reference)).toBe(0);
  });

  it('adapts an SDXL folder: U-Net (original SD names too) and both text encoders (lora_te1_/lora_te2_, text_encoder_2.)', async () => {
    const folder = await sdxlFolder();
    try {
      const shapes = async (file: string) => {
        const f = await openSafetensorsFile(join(folder.path, file));
        try {
          return new Map([...f.entries].map(([k, e]) => [k, e.shape] as const));
        } finally {
          await f.close();
        }
      };
      const unet = await shapes('unet/diffusion_pytorch_model.safetensors');
      const te1 = await shapes('text_encoder/model.safetensors');
      const te2 = await shapes('text_encoder_2/model.safetensors');
      // unet-sdxl: layers_per_block 1, CrossAttn down block 1 with two transformer layers, a mid block, CrossAttn up block 0.
      const ldm: Record<string, string> = {
        'down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k': 'input_blocks.3.1.transformer_blocks.1.attn2.to_k',
        'mid_block.attentions.0.proj_in': 'middle_block.1.proj_in',
        'up_blocks.0.attentions.1.transformer_blocks.0.ff.net.2': 'output_blocks.1.1.transformer_blocks.0.ff.net.2',
      };
      const targets = [
        ...Object.keys(ldm).map((module) => ({ component: 'unet' as const, module, shape: unet.get(`${module}.weight`)! })),
        { component: 'text_encoder' as const, module: 'text_model.encoder.layers.0.self_attn.q_proj', shape: te1.get('text_model.encoder.layers.0.self_attn.q_proj.weight')! },
        { component: 'text_encoder_2' as const, module: 'text_model.encoder.layers.1.mlp.fc1', shape: te2.get('text_model.encoder.layers.1.mlp.fc1.weight')! },
      ];
      const modules = asHalf(adapters(21, targets.map((t) => ({ component: t.component, module: t.module, out: t.shape[0]!, inner: t.shape.slice(1) }))));
      const peft = await writeLora('xl-peft.safetensors', peftKeys(modules));
      const kohyaTensors = kohyaKeys(modules);
      // kohya's SDXL files: U-Net modules under the original names, the first encoder as te1.
      const kohya = new Map([...kohyaTensors].map(([k, v]) => [k.replace(/^lora_te_/, 'lora_te1_').replace(/^lora_unet_([^.]+)/, (_, m: string) => `lora_unet_${flattenModule(ldm[Object.keys(ldm).find((d) => flattenModule(d) === m)!]!)}`), v]));
      expect([...kohya.keys()].filter((k) => k.includes('input_blocks_3_1') || k.includes('middle_block_1') || k.includes('output_blocks_1_1')).length).toBe(9);
      const fk = await writeLora('xl-kohya.safetensors', kohya);
      const xlImage = async (model: string | ModelSource, options: LoadOptions = {}) => {
        const pipe = await StableDiffusionPipeline.load(typeof model === 'string' ? new LocalFolderSource(model) : model, runtime, options);
        try {
          return (await pipe.generate({ prompt: PROMPT, seed: 4, steps: 1, guidanceScale: 0, float: true })).float!;
        } finally {
          await pipe.dispose();
        }
      };
      const plain = await xlImage(folder.source);
      const reference = await xlImage(await mergedFolder('merged-xl', [{ modules, scale: 0.9 }], folder.path));
      const fromPeft = await xlImage(folder.source, { lora: [{ ...peft, scale: 0.9 }] });
      const fromKohya = await xlImage(folder.source, { lora: [{ ...fk, scale: 0.9 }] });
      expect(maxAbsDiff(fromPeft, plain)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(fromPeft, reference)).toBe(0);
      expect(maxAbsDiff(fromKohya, reference)).toBe(0);
      // Each encoder's adapter alone changes the image: both reach their own encoder.
      for (const c of ['text_encoder', 'text_encoder_2'] as const) {
        const only = await writeLora(`xl-${c}.safetensors`, peftKeys(modules.filter((m) => m.component === c)));
        expect(maxAbsDiff(await xlImage(folder.source, { lora: [only] }), plain)).toBeGreaterThan(1e-4);
      }
    } finally {
      folder.cleanup();
    }
  });

  it('applies several adapters at once as their sum, and scale 0 as no adapter', async () => {
    const a = adapters(2);
    const b = adapters(3, TARGETS.filter((t) => t.component === 'unet').slice(0, 3), 2);
    const fa = await writeLora('a.safetensors', peftKeys(a));
    const fb = await writeLora('b.safetensors', kohyaKeys(b));
    const bHalf = asHalf(b);
    const reference = await image(await load(await mergedFolder('merged-2', [{ modules: a, scale: 0.7 }, { modules: bHalf, scale: -1.3 }])));
    const both = await image(await load(MODEL, { lora: [{ ...fa, scale: 0.7 }, { ...fb, scale: -1.3 }] }));
    expect(maxAbsDiff(both, base)).toBeGreaterThan(0.05);
    expect(maxAbsDiff(both, reference)).toBe(0);
    const zero = await image(await load(MODEL, { lora: [{ ...fa, scale: 0 }] }));
    expect(maxAbsDiff(zero, base)).toBe(0);
  });

  it('as graph nodes: the merged image, scales switched without a rebuild (0 is the base model), metadata follows', async () => {
    const a = adapters(11);
    const b = adapters(12, TARGETS.filter((t) => t.component === 'unet').slice(0, 3), 2);
    const fa = await writeLora('na.safetensors', peftKeys(a));
    const fb = await writeLora('nb.safetensors', peftKeys(b));
    const merged = await image(await load(await mergedFolder('merged-n', [{ modules: a, scale: 0.7 }, { modules: b, scale: -1.3 }])));
    const halfA = await image(await load(await mergedFolder('merged-n2', [{ modules: a, scale: 0.35 }])));
    const pipe = await load(MODEL, { lora: [{ ...fa, scale: 0.7 }, { ...fb, scale: -1.3 }], loraMode: 'nodes' });
    try {
      const run = async () => (await pipe.generate({ prompt: PROMPT, seed: 3, float: true })).float!;
      const first = await run();
      const built = pipe.graphStats;
      expect(maxAbsDiff(first, base)).toBeGreaterThan(0.05);
      // W + Σ s·up·down formed in float32 by the graph instead of float64 here: rounding apart, the merged image.
      expect(maxAbsDiff(first, merged)).toBeLessThan(2e-5);
      pipe.setLoraScales([0, 0]);
      expect(maxAbsDiff(await run(), base)).toBeLessThan(2e-5);
      pipe.setLoraScales([0.35, 0]);
      const half = await run();
      expect(maxAbsDiff(half, halfA)).toBeLessThan(2e-5);
      expect(maxAbsDiff(half, first)).toBeGreaterThan(0.05);
      const { images } = await pipe.generate({ prompt: PROMPT, seed: 3 });
      expect(images[0]!.parameters.loras?.map((l) => [l.name, l.scale])).toEqual([
        ['na', 0.35],
        ['nb', 0],
      ]);
      pipe.setLoraScales([0.7, -1.3]);
      expect(maxAbsDiff(await run(), first)).toBe(0);
      // Neither graphs nor sessions were made again for any of the switches.
      expect(pipe.graphStats).toEqual(built);
      expect(() => pipe.setLoraScales([1])).toThrow(/give 2 scales/);
      expect(() => pipe.setLoraScales([1, Number.NaN])).toThrow(/scale 1 must be a finite number/);
    } finally {
      await pipe.dispose();
    }
    const mergedPipe = await load(MODEL, { lora: [fa] });
    try {
      expect(() => mergedPipe.setLoraScales([0.5])).toThrow(/loraMode: 'nodes'/);
    } finally {
      await mergedPipe.dispose();
    }
    // @ts-expect-error: a mode that does not exist
    await expect(load(MODEL, { lora: [fa], loraMode: 'fused' })).rejects.toThrow(/"loraMode" must be 'merge' or 'nodes', got "fused"/);
  });

  it('names the adapters in the image metadata as A1111 does (Lora hashes) and exactly in the sdxs record', async () => {
    const f = await writeLora('my style.safetensors', peftKeys(adapters(8)));
    const sha = createHash('sha256').update(readFileSync(join(tmp, 'my style.safetensors'))).digest('hex');
    const pipe = await load(MODEL, { lora: [{ ...f, scale: 0.75 }, { ...f, scale: -0.25 }] });
    try {
      const [img] = (await pipe.generate({ prompt: PROMPT, seed: 1 })).images;
      expect(img!.infotext).toMatch(new RegExp(`, Lora hashes: "my style: ${sha.slice(0, 12)}, my style: ${sha.slice(0, 12)}", `));
      expect(img!.record.loras).toEqual([
        { name: 'my style', scale: 0.75, sha256: sha },
        { name: 'my style', scale: -0.25, sha256: sha },
      ]);
      expect(img!.infotext.split('\n')[0]).toBe(PROMPT);
    } finally {
      await pipe.dispose();
    }
  });

  it('keys graphs and cached prompt embeddings by the adapters, so no cache serves another adapter set', async () => {
    const te = await writeLora('te.safetensors', peftKeys(adapters(4, TARGETS.filter((t) => t.component === 'text_encoder'))));
    const unet = await writeLora('unet.safetensors', peftKeys(adapters(5, TARGETS.filter((t) => t.component === 'unet'))));
    const cache = new MemoryGraphCache();
    const promptCache = new PromptEmbeddingCache();
    const run = async (lora: LoraAdapter[]) => {
      const keys: string[] = [];
      const onProgress = (e: ProgressEvent) => {
        if (e.stage === 'build' && e.ms !== undefined) keys.push(e.key);
      };
      const pipe = await load(MODEL, { cache, promptCache, lora, onProgress });
      const embeds = await pipe.encodePrompt(PROMPT);
      return { keys, embeds, float: await image(pipe) };
    };
    const plain = await run([]);
    const withTe = await run([{ ...te, scale: 1 }]);
    const withUnet = await run([{ ...unet, scale: 1 }]);
    const halfUnet = await run([{ ...unet, scale: 0.5 }]);
    const plainAgain = await run([]);
    const key = (r: typeof plain, kind: string) => r.keys.find((k) => k.startsWith(kind))!;
    // The text encoder's adapters change its key and its embeddings; the U-Net's change only the image graph's key
    // (its pipeline takes the plain text encoder's embeddings from the shared prompt cache, rightly).
    expect(key(withTe, 'text-encoder')).not.toBe(key(plain, 'text-encoder'));
    expect(maxAbsDiff(withTe.embeds, plain.embeds)).toBeGreaterThan(1e-3);
    expect(key(withUnet, 'text-encoder')).toBeUndefined();
    expect(maxAbsDiff(withUnet.embeds, plain.embeds)).toBe(0);
    expect(key(withTe, 'one-step')).toBe(key(plain, 'one-step'));
    expect(new Set([plain, withUnet, halfUnet].map((r) => key(r, 'one-step'))).size).toBe(3);
    expect(maxAbsDiff(halfUnet.float, withUnet.float)).toBeGreaterThan(1e-3);
    // After all that sharing, the plain model is still the plain model.
    expect(key(plainAgain, 'one-step')).toBe(key(plain, 'one-step'));
    expect(maxAbsDiff(plainAgain.embeds, plain.embeds)).toBe(0);
    expect(maxAbsDiff(plainAgain.float, base)).toBe(0);
  });

  it('applies to the ControlNet pipeline and through fromPretrained with a path', async () => {
    const modules = asHalf(adapters(6));
    const peft = await writeLora('cn.safetensors', peftKeys(modules));
    const reference = await mergedFolder('merged-3', [{ modules, scale: 1 }]);
    const sketch = { width: 64, height: 64, data: new Uint8Array(64 * 64).map((_, i) => ((i % 64) - 32) ** 2 + (Math.floor(i / 64) - 32) ** 2 < 200 ? 255 : 0), channels: 1 as const };
    const control = async (folder: string, lora?: LoraAdapter[]) => {
      const pipe = await ControlNetPipeline.load(new LocalFolderSource(folder), undefined, runtime, lora ? { lora } : {});
      try {
        return (await pipe.generate({ prompt: PROMPT, seed: 2, image: sketch, controlMode: 'sketch', float: true })).float!;
      } finally {
        await pipe.dispose();
      }
    };
    const plain = await control(MODEL);
    const adapted = await control(MODEL, [peft]);
    expect(maxAbsDiff(adapted, plain)).toBeGreaterThan(0.05);
    expect(maxAbsDiff(adapted, await control(reference))).toBe(0);

    const pipe = await NodePipeline.fromPretrained(MODEL, { device: 'cpu', cache: false, lora: [{ path: join(tmp, 'cn.safetensors') }] });
    expect(maxAbsDiff(await image(pipe), await image(await load(reference)))).toBe(0);
  });

  it('keeps the components without adapters file-backed (the golden float32 folder)', async () => {
    const model = goldenModel();
    try {
      const unetFile = await openSafetensorsFile(join(model.path, 'unet/diffusion_pytorch_model.safetensors'));
      const key = [...unetFile.entries.keys()].find((k) => k.endsWith('attn2.to_q.weight'))!;
      const [out, inner] = unetFile.entries.get(key)!.shape as [number, number];
      await unetFile.close();
      const module: Module = { component: 'unet', module: key.slice(0, -'.weight'.length), down: normal([2, inner], 1, 0.3), up: normal([out, 2], 2, 0.3), alpha: 2 };
      const f = await writeLora('golden.safetensors', peftKeys([module]));
      const run = async (lora?: LoraAdapter[]) => {
        // onnxruntime-node reads external data from files (Runtime.capabilities.externalDataFiles).
        const pipe = await StableDiffusionPipeline.load(goldenSource(model), runtime, lora ? { lora } : {});
        try {
          const { float } = await pipe.generate({ prompt: 'a photo of a cat', seed: 0, float: true });
          return { float: float!, stats: pipe.graphStats };
        } finally {
          await pipe.dispose();
        }
      };
      const plain = await run();
      const adapted = await run([f]);
      const off = await run([{ ...f, scale: 0 }]);
      expect([plain.stats.sessions, plain.stats.fromFiles]).toEqual([2, 2]);
      // The text encoder still reads its file; the one-step graph (U-Net + decoder) takes its weights from memory.
      expect([adapted.stats.sessions, adapted.stats.fromFiles]).toEqual([2, 1]);
      expect(maxAbsDiff(adapted.float, plain.float)).toBeGreaterThan(1e-3);
      // Merged at scale 0 in memory, the weights are the file's: the same pixels as read from the file.
      expect(maxAbsDiff(off.float, plain.float)).toBe(0);
    } finally {
      model.cleanup();
    }
  });

  describe('errors name the file and what is wrong', () => {
    const one = (over: Partial<Module> = {}): Module => ({ ...adapters(7, TARGETS.slice(0, 1))[0]!, ...over });
    const fails = async (tensors: Map<string, Tensor>, pattern: RegExp, name = 'bad.safetensors') => {
      const f = await writeLora(name, tensors);
      await expect(load(MODEL, { lora: [f] })).rejects.toThrow(pattern);
    };

    it('a missing file', async () => {
      await expect(load(MODEL, { lora: [{ source: new LocalFolderSource(tmp), file: 'nope.safetensors' }] })).rejects.toThrow(/sdxs-lora-[^/]+\/nope\.safetensors: no such LoRA file/);
    });

    it('a key that matches no module, named', async () => {
      const tensors = peftKeys([...adapters(7, TARGETS.slice(0, 2)), one({ module: 'down_blocks.0.attentions.0.transformer_blocks.0.attn9.to_q' })]);
      await fails(tensors, /unmatched\.safetensors: 1 of 3 LoRA modules match no module of .*'s U-Net: "unet\.down_blocks\.0\.attentions\.0\.transformer_blocks\.0\.attn9\.to_q\.lora_A\.weight"$/, 'unmatched.safetensors');
    });

    it('a shape that does not fit, with the key and both shapes', async () => {
      const m = one({ down: normal([4, 49], 1, 0.1) });
      await fails(peftKeys([m]), /"unet\.down_blocks\.0\.attentions\.0\.transformer_blocks\.0\.attn1\.to_q\.lora_B\.weight" \[48, 4\] · "unet\.[^"]+\.lora_A\.weight" \[4, 49\] does not fit down_blocks\.0\.attentions\.0\.transformer_blocks\.0\.attn1\.to_q\.weight \[48, 48\] of .*\/unet/);
    });

    it('a LoRA for another architecture', async () => {
      // SDXL's: a second text encoder, and U-Net modules under the original (input_blocks) names.
      const sdxl = new Map<string, Tensor>([
        ['lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight', normal([4, 1280], 1, 0.1)],
        ['lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight', normal([1280, 4], 2, 0.1)],
      ]);
      await fails(sdxl, /adapts the second text encoder \("lora_te2_text_model_encoder_layers_0_self_attn_q_proj\.lora_down\.weight"\), which .* does not have — a LoRA for another architecture/);
      const ldm = new Map<string, Tensor>([
        ['lora_unet_input_blocks_4_1_proj_in.lora_down.weight', normal([4, 640], 1, 0.1)],
        ['lora_unet_input_blocks_4_1_proj_in.lora_up.weight', normal([640, 4], 2, 0.1)],
      ]);
      await fails(ldm, /1 of 1 LoRA modules match no module .*"lora_unet_input_blocks_4_1_proj_in\.lora_down\.weight"; it uses the original SD\/SDXL module names .* none fit: a LoRA for another architecture/);
    });

    it('adapters that are not a plain LoRA, a lone matrix, a bad scale', async () => {
      await fails(new Map([['lora_unet_down_blocks_0_resnets_0_conv1.hada_w1_a', normal([4, 4], 1, 1)]]), /key "lora_unet_down_blocks_0_resnets_0_conv1\.hada_w1_a" is not a plain LoRA/);
      const m = one();
      await fails(new Map([[`unet.${m.module}.lora_A.weight`, m.down]]), /"unet\.[^"]+\.lora_A\.weight" has no up \(lora_B \/ lora_up\) matrix/);
      const f = await writeLora('ok.safetensors', peftKeys([m]));
      await expect(load(MODEL, { lora: [{ ...f, scale: Number.NaN }] })).rejects.toThrow(/lora\[0\] \(.*ok\.safetensors\): "scale" must be a finite number, got NaN/);
    });
  });
});
