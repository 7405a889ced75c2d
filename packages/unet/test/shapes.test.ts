// Shape handling: errors that name what is wrong, ControlNet residual shapes, scalar timesteps, odd latent sizes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { bindCheckpoint, conv2d, Graph, GraphError, Params, Resize, toOnnx, type Value } from '@sdxs/graph';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { buildUNetGraph, parseUNetConfig, unet2DCondition, unetResidualShapes, upsample2D, UNET_OUTPUT, type UNet2DConditionConfig, type UNetInputs } from '@sdxs/unet';
import { compareTensors } from '../../../tools/golden/compare.js';
import { caseFile } from '../../../tools/golden/links.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const configOf = (name: string): UNet2DConditionConfig =>
  parseUNetConfig(JSON.parse(readFileSync(caseFile(`${GOLDEN}${name}`, 'config.json'), 'utf8')), `${name}/config.json`);

/** Build the U-Net of `name` on inputs made by `make`, returning the error it throws. */
function buildError(name: string, make: (g: Graph, c: UNet2DConditionConfig) => UNetInputs): string {
  const c = configOf(name);
  const g = new Graph();
  try {
    unet2DCondition(new Params(g), c, make(g, c));
  } catch (e) {
    expect(e).toBeInstanceOf(GraphError);
    return (e as Error).message;
  }
  throw new Error('built without error');
}

const basic = (g: Graph, c: UNet2DConditionConfig, over: Partial<UNetInputs> = {}): UNetInputs => ({
  sample: g.input('sample', 'float32', [1, c.in_channels, 16, 16]),
  timestep: g.input('timestep', 'float32', [1]),
  encoderHiddenStates: g.input('encoder_hidden_states', 'float32', [1, 77, Number(c.cross_attention_dim)]),
  ...over,
});

describe('shape errors name the input and the shapes', () => {
  it('sample channels', () => {
    expect(buildError('unet-sdxs512', (g, c) => basic(g, c, { sample: g.input('x', 'float32', [1, 3, 16, 16]) }))).toMatch(/sample must be \[batch, 4, height, width\], got \[1, 3, 16, 16\]/);
  });

  it('encoder_hidden_states width (the first cross-attention names its module)', () => {
    expect(buildError('unet-sdxs512', (g, c) => basic(g, c, { encoderHiddenStates: g.input('ctx', 'float32', [1, 77, 48]) }))).toMatch(
      /down_blocks\.1\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k: input has 48 features, expected 32/,
    );
  });

  it('timestep rank', () => {
    expect(buildError('unet-sdxs512', (g, c) => basic(g, c, { timestep: g.input('t', 'float32', [1, 1]) }))).toMatch(/timestep must be \[\] or \[batch\]/);
  });

  it('SDXL added conditioning: missing, or widths that do not add up', () => {
    expect(buildError('unet-sdxl', (g, c) => basic(g, c))).toMatch(/needs text_embeds and time_ids/);
    expect(
      buildError('unet-sdxl', (g, c) => basic(g, c, { textEmbeds: g.input('te', 'float32', [1, 16]), timeIds: g.input('ids', 'float32', [1, 5]) })),
    ).toMatch(/text_embeds width 16 \+ 5 time ids × addition_time_embed_dim 8 must equal projection_class_embeddings_input_dim 64/);
    expect(buildError('unet-sdxs512', (g, c) => basic(g, c, { textEmbeds: g.input('te', 'float32', [1, 16]) }))).toMatch(/only used with addition_embed_type "text_time"/);
  });

  it('ControlNet residuals: both or neither, one per skip connection, each shaped like it', () => {
    const residuals = (g: Graph, c: UNet2DConditionConfig) => unetResidualShapes(c, 1, 16, 16).down.map((s, i) => g.input(`r${i}`, 'float32', s));
    const mid = (g: Graph, shape: readonly number[]) => g.input('mid', 'float32', shape);
    expect(buildError('unet-sdxs512', (g, c) => basic(g, c, { downBlockAdditionalResiduals: residuals(g, c) }))).toMatch(/come as a pair/);
    expect(
      buildError('unet-sdxs512', (g, c) => basic(g, c, { downBlockAdditionalResiduals: residuals(g, c).slice(1), midBlockAdditionalResidual: mid(g, [1, 128, 4, 4]) })),
    ).toMatch(/has 6 skip connections, got 5 down block residuals/);
    expect(
      buildError('unet-sdxs512', (g, c) => {
        const r: Value[] = residuals(g, c);
        r[2] = g.input('bad', 'float32', [1, 32, 16, 16]);
        return basic(g, c, { downBlockAdditionalResiduals: r, midBlockAdditionalResidual: mid(g, [1, 128, 4, 4]) });
      }),
    ).toMatch(/down block residual 2 is \[1, 32, 16, 16\], its skip connection \[1, 32, 8, 8\]/);
    expect(
      buildError('unet-sdxs512', (g, c) => basic(g, c, { downBlockAdditionalResiduals: residuals(g, c), midBlockAdditionalResidual: mid(g, [1, 128, 8, 8]) })),
    ).toMatch(/the mid block residual is \[1, 128, 8, 8\], the last down block output \[1, 128, 4, 4\]/);
  });

  it('transformers need the latent size while building', () => {
    expect(buildError('unet-sdxs512', (g, c) => basic(g, c, { sample: g.input('x', 'float32', [1, 4, 'h', 'w']) }))).toMatch(
      /Transformer2DModel: down_blocks\.1\.attentions\.0: height and width must be known/,
    );
  });
});

describe('residual shapes', () => {
  it('match the ControlNet reference’s residuals for the SDXS-512 layout', async () => {
    const file = await openSafetensorsFile(caseFile(`${GOLDEN}controlnet-sdxs512`, 'outputs.safetensors'));
    try {
      const shape = (n: string) => [...file.entries.get(n)!.shape];
      const down = file.names().filter((n) => n.startsWith('down_block_res_samples.')).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
      const [b, , h, w] = shape('down_block_res_samples.0') as [number, number, number, number];
      const shapes = unetResidualShapes(configOf('controlnet-sdxs512/unet'), b, h, w);
      expect(shapes.down).toEqual(down.map(shape));
      expect(shapes.mid).toEqual(shape('mid_block_res_sample'));
    } finally {
      await file.close();
    }
  });
});

async function readAll(path: string): Promise<Record<string, Tensor>> {
  const file = await openSafetensorsFile(path);
  try {
    return Object.fromEntries(await Promise.all(file.names().map(async (n) => [n, await file.read(n)] as const)));
  } finally {
    await file.close();
  }
}

/** Row `i` of a tensor, keeping the batch axis. */
function row(t: Tensor, i: number): Tensor {
  const n = t.size / t.shape[0]!;
  const data = t.data instanceof BigInt64Array ? Float32Array.from(t.toArray().slice(i * n, (i + 1) * n)) : (t.data as Float32Array).slice(i * n, (i + 1) * n);
  return new Tensor('float32', [1, ...t.shape.slice(1)], data);
}

describe('scalar timestep (one for the batch, as one-step SDXS runs)', () => {
  it.each(['unet-sdxs512', 'unet-sdxl'])('%s: each sample alone with its timestep as a scalar matches the reference row', async (name) => {
    const dir = `${GOLDEN}${name}`;
    const inputs = await readAll(caseFile(dir, 'inputs.safetensors'));
    const ref = await readAll(caseFile(dir, 'outputs.safetensors'));
    const c = configOf(name);
    const { graph } = buildUNetGraph(c, { batch: 1, height: 16, width: 16, timestep: 'scalar', taps: true });
    const weights = await openSafetensorsFile(caseFile(dir, 'model.safetensors'));
    try {
      await bindCheckpoint(graph, [weights]);
    } finally {
      await weights.close();
    }
    const session = await createNodeRuntime().createSession(toOnnx(graph));
    try {
      for (const i of [0, 1]) {
        const feeds: Record<string, Tensor> = {
          sample: row(inputs['sample']!, i),
          timestep: new Tensor('float32', [], Float32Array.of(inputs['timestep']!.toArray()[i]!)),
          encoder_hidden_states: row(inputs['encoder_hidden_states']!, i),
        };
        if (inputs['text_embeds']) feeds['text_embeds'] = row(inputs['text_embeds'], i);
        if (inputs['time_ids']) feeds['time_ids'] = row(inputs['time_ids'], i);
        const out = await session.run(feeds);
        for (const [name, want] of [[UNET_OUTPUT, 'sample'], ['intermediate.time_embedding', 'intermediate.time_embedding']] as const) {
          const cmp = compareTensors(want, out[name]!, row(ref[want]!, i), { relative: 1e-4 });
          expect(cmp.problem).toBeUndefined();
          expect(cmp.ok, `${want}[${i}] rel ${cmp.maxRel}`).toBe(true);
        }
      }
    } finally {
      await session.dispose();
    }
  });
});

describe('latents that are not a multiple of the total downsampling', () => {
  it('upsampling to 2·in − 1 (×2, cropped) equals nearest resizing to that size', async () => {
    const weight = new Tensor('float32', [2, 2, 3, 3], Float32Array.from({ length: 36 }, (_, i) => Math.sin(i)));
    const bias = new Tensor('float32', [2], Float32Array.of(0.1, -0.2));
    const x = new Tensor('float32', [1, 2, 3, 4], Float32Array.from({ length: 24 }, (_, i) => Math.cos(3 * i)));
    const run = async (build: (g: Graph, v: Value) => Value) => {
      const g = new Graph();
      g.output(build(g, g.input('x', 'float32', [1, 2, 3, 4])), 'y');
      g.bind('conv.weight', weight);
      g.bind('conv.bias', bias);
      const s = await createNodeRuntime().createSession(toOnnx(g));
      try {
        return (await s.run({ x }))['y']!;
      } finally {
        await s.dispose();
      }
    };
    const cropped = await run((g, v) => upsample2D(new Params(g), v, 2, [5, 7]));
    const resized = await run((g, v) =>
      conv2d(new Params(g).child('conv'), Resize(v, { sizes: [1, 2, 5, 7], mode: 'nearest', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' }), 2, 2, 3, { padding: 1 }),
    );
    expect(cropped.shape).toEqual([1, 2, 5, 7]);
    expect(Array.from(cropped.data as Float32Array)).toEqual(Array.from(resized.data as Float32Array));
  });

  it('builds and runs a 15×13 latent, with the output the size of the input', async () => {
    const c = configOf('unet-sdxs512');
    const { graph } = buildUNetGraph(c, { batch: 1, height: 15, width: 13 });
    const weights = await openSafetensorsFile(caseFile(`${GOLDEN}unet-sdxs512`, 'model.safetensors'));
    try {
      await bindCheckpoint(graph, [weights]);
    } finally {
      await weights.close();
    }
    const session = await createNodeRuntime().createSession(toOnnx(graph));
    try {
      const out = await session.run({
        sample: new Tensor('float32', [1, 4, 15, 13], new Float32Array(4 * 15 * 13).fill(0.5)),
        timestep: new Tensor('float32', [1], Float32Array.of(999)),
        encoder_hidden_states: new Tensor('float32', [1, 77, 32], new Float32Array(77 * 32).fill(0.1)),
      });
      expect(out[UNET_OUTPUT]!.shape).toEqual([1, 4, 15, 13]);
      expect(Array.from(out[UNET_OUTPUT]!.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await session.dispose();
    }
  });
});
