// onnxruntime-node's WebGPU EP, run for real on a GPU-less machine: Chromium's SwiftShader Vulkan driver gives Dawn
// a software adapter (docs/DESIGN.md, "Where things run"). Each test spawns a child process with that environment
// (webgpu-child.ts) and compares what it computed with the CPU EP in this process.
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv, Graph, MatMul, MsMultiHeadAttention, Reshape, Transpose, attention, gelu, groupNorm, toOnnx, type GraphOptions, type Target, type Value } from '@sdxs/graph';
import { Tensor } from '@sdxs/tensor';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { nodePlacements, noVulkanDriverEnv, providerOf, requireSwiftShader, runChild, swiftShaderEnv, type ChildEvent, type ChildFeed, type ChildResult } from './webgpu-harness.js';
import { CONTRIB_CASES, values } from './webgpu-contrib-cases.js';

const WEBGPU = 'WebGpuExecutionProvider';

/**
 * Conv → groupNorm+SiLU → tokens → q/k/v MatMuls → attention → MatMul → GELU: the U-Net's ingredients, small.
 * `size`² positions become the attention's sequence length.
 */
function compositeGraph(target: Target, size: number, lowering: GraphOptions['lowering'] = {}): Graph {
  const g = new Graph({ target, lowering });
  const c = (name: string, shape: number[], scale: number) => g.constant(new Tensor('float32', shape, Float32Array.from(values(shape.reduce((a, b) => a * b, 1), name, scale))), name);
  const x = g.input('x', 'float32', [1, 4, size, size]);
  let h: Value = Conv(x, c('conv.w', [16, 4, 3, 3], 0.3), c('conv.b', [16], 0.1), { pads: [1, 1, 1, 1] });
  h = groupNorm(h, 4, c('norm.w', [16], 1), c('norm.b', [16], 0.1), 1e-5, { silu: true });
  const tokens = Transpose(Reshape(h, [1, 16, size * size]), [0, 2, 1]); // [1, positions, 16 channels]
  const [q, k, v] = ['q', 'k', 'v'].map((n) => MatMul(tokens, c(`to_${n}`, [16, 16], 0.25))) as [Value, Value, Value];
  g.output(gelu(MatMul(attention(q, k, v, { heads: 2 }), c('to_out', [16, 16], 0.25))), 'y');
  return g;
}

const feedX = (size: number): ChildFeed => ({ dtype: 'float32', shape: [1, 4, size, size], data: values(4 * size * size, 'x', 2) });
const X4 = feedX(4);
const X8 = feedX(8);

async function cpuRun(model: Uint8Array, feeds: Record<string, ChildFeed>): Promise<number[]> {
  const session = await createNodeRuntime().createSession(model);
  const inputs: Record<string, Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) inputs[name] = new Tensor('float32', f.shape, Float32Array.from(f.data));
  const { y } = await session.run(inputs);
  await session.dispose();
  return y!.toArray();
}

function caseEvent(result: ChildResult, name: string): Extract<ChildEvent, { kind: 'case' }> {
  const e = result.events.find((ev): ev is Extract<ChildEvent, { kind: 'case' }> => ev.kind === 'case' && ev.name === name);
  if (!e) throw new Error(`the child reported nothing for ${name} (exit ${result.code}); stderr tail:\n${result.stderr.slice(-2000)}`);
  return e;
}

function outputOf(result: ChildResult, name: string): number[] {
  const e = caseEvent(result, name);
  if ('error' in e) throw new Error(`${name} failed on webgpu: ${e.error}`);
  return e.outputs.y!.data;
}

/** Largest |a − b|, relative to the reference's scale (at least 1). */
function maxRelError(actual: readonly number[], expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / scale);
  return worst;
}

function expectRuntime(result: ChildResult, name: string): void {
  const rt = result.events.find((e) => e.kind === 'runtime');
  expect(rt, `no runtime event; stderr tail:\n${result.stderr.slice(-2000)}`).toBeDefined();
  expect(rt).toMatchObject({ name, warnings: [] });
}

/** One MultiHeadAttention node, q/k/v [1, seq, 16] with 2 heads. */
function mhaModel(seq: number): Uint8Array {
  const g = new Graph({ target: 'webgpu' });
  const [q, k, v] = ['q', 'k', 'v'].map((n) => g.input(n, 'float32', [1, seq, 16])) as [Value, Value, Value];
  g.output(MsMultiHeadAttention(q, k, v, undefined, { heads: 2 }), 'y');
  return toOnnx(g);
}
const mhaFeeds = (seq: number): Record<string, ChildFeed> =>
  Object.fromEntries(['q', 'k', 'v'].map((n) => [n, { dtype: 'float32', shape: [1, seq, 16], data: values(seq * 16, n, 1) } satisfies ChildFeed]));

describe('webgpu execution provider (SwiftShader)', () => {
  beforeAll(() => requireSwiftShader());

  // 16 positions: MultiHeadAttention (the webgpu lowering) is exact there; see the known issue below for 64.
  const composite = toOnnx(compositeGraph('webgpu', 4));
  const compositeDecomposed = toOnnx(compositeGraph('webgpu', 8, { attention: 'decomposed' }));
  const contribCases = CONTRIB_CASES.map((c) => ({ name: c.name, model: c.model(), feeds: c.feeds }));
  let nhwc: Promise<ChildResult> | undefined;
  // One child for the NHWC tests (starting Dawn and compiling shaders is the slow part), at verbose log level so
  // the node placements can be read.
  const nhwcRun = () =>
    (nhwc ??= runChild(
      { provider: 'webgpu', layout: 'NHWC', logSeverityLevel: 0 },
      [
        { name: 'composite', model: composite, feeds: { x: X4 } },
        { name: 'composite-decomposed-64', model: compositeDecomposed, feeds: { x: X8 } },
        { name: 'mha-16', model: mhaModel(16), feeds: mhaFeeds(16) },
        { name: 'mha-64', model: mhaModel(64), feeds: mhaFeeds(64) },
        ...contribCases,
      ],
      swiftShaderEnv(),
    ));

  it('runs Conv, MatMul, attention (MultiHeadAttention), groupNorm and GELU on WebGPU, matching the CPU (NHWC)', async () => {
    const result = await nhwcRun();
    expectRuntime(result, 'onnxruntime-node/webgpu');
    const placements = nodePlacements(result.logs.get('composite') ?? '');
    for (const op of ['MultiHeadAttention', 'MatMul', 'InstanceNormalization', 'Gelu']) expect(providerOf(placements, op), op).toBe(WEBGPU);
    // With the NHWC layout onnxruntime rewrites Conv to its internal NHWC kernel, still on WebGPU.
    expect(providerOf(placements, 'Conv') ?? providerOf(placements, 'NhwcConv')).toBe(WEBGPU);
    const expected = await cpuRun(composite, { x: X4 });
    expect(maxRelError(outputOf(result, 'composite'), expected)).toBeLessThan(1e-4);
    // The CPU lowering (decomposed attention, no contrib ops) computes the same function.
    expect(maxRelError(expected, await cpuRun(toOnnx(compositeGraph('cpu', 4)), { x: X4 }))).toBeLessThan(1e-4);
  }, 300_000);

  it('runs the decomposed attention over 64 positions on WebGPU, matching the CPU', async () => {
    const result = await nhwcRun();
    const placements = nodePlacements(result.logs.get('composite-decomposed-64') ?? '');
    for (const op of ['Softmax', 'MatMul', 'InstanceNormalization']) expect(providerOf(placements, op), op).toBe(WEBGPU);
    expect(maxRelError(outputOf(result, 'composite-decomposed-64'), await cpuRun(compositeDecomposed, { x: X8 }))).toBeLessThan(1e-4);
  }, 300_000);

  it('known issue: MultiHeadAttention on SwiftShader is wrong from 32 query positions on (docs/webgpu-ep.md)', async () => {
    // onnxruntime 1.30's WebGPU flash-attention shader gives wrong results on SwiftShader's adapter for a query
    // length of 32 or more (exact at 16). If this starts failing, onnxruntime fixed it: drop this test, run the
    // composite above at 8×8 with the default lowering, and update docs/webgpu-ep.md.
    const result = await nhwcRun();
    expect(maxRelError(outputOf(result, 'mha-16'), await cpuRun(mhaModel(16), mhaFeeds(16)))).toBeLessThan(1e-5);
    expect(maxRelError(outputOf(result, 'mha-64'), await cpuRun(mhaModel(64), mhaFeeds(64)))).toBeGreaterThan(1e-3);
  }, 300_000);

  it('gives the same results with the NCHW layout', async () => {
    const result = await runChild(
      { provider: 'webgpu', layout: 'NCHW' },
      [
        { name: 'composite', model: composite, feeds: { x: X4 } },
        { name: 'composite-decomposed-64', model: compositeDecomposed, feeds: { x: X8 } },
      ],
      swiftShaderEnv(),
    );
    expectRuntime(result, 'onnxruntime-node/webgpu');
    expect(maxRelError(outputOf(result, 'composite'), await cpuRun(composite, { x: X4 }))).toBeLessThan(1e-4);
    expect(maxRelError(outputOf(result, 'composite-decomposed-64'), await cpuRun(compositeDecomposed, { x: X8 }))).toBeLessThan(1e-4);
  }, 300_000);

  it('runs the contrib ops listed in docs/webgpu-ep.md on WebGPU, and has no GroupNorm/SkipGroupNorm kernel', async () => {
    const result = await nhwcRun();
    for (const c of CONTRIB_CASES) {
      const event = caseEvent(result, c.name);
      const placements = nodePlacements(result.logs.get(c.name) ?? '');
      if (!c.onWebGpu) {
        // Neither WebGPU nor the CPU EP has a kernel: session creation fails (there is no CPU fallback to take).
        expect('error' in event ? event.error : 'ran', c.name).toMatch(new RegExp(`Provider type for ${c.opType} node`));
        expect(result.logs.get(c.name), c.name).toMatch(new RegExp(`webgpu kernel not found in registries for Op type: ${c.opType}`));
        continue;
      }
      expect(providerOf(placements, c.opType), c.name).toBe(WEBGPU);
      const expected = c.reference === 'cpu' ? await cpuRun(c.model(), c.feeds) : c.reference(c.feeds);
      expect(maxRelError(outputOf(result, c.name), expected), c.name).toBeLessThan(1e-4);
    }
  }, 300_000);

  it('falls back to the CPU, with a warning saying how to get WebGPU, when Vulkan has no driver', async () => {
    const result = await runChild({ provider: 'webgpu' }, [{ name: 'composite', model: composite, feeds: { x: X4 } }], noVulkanDriverEnv());
    const rt = result.events.find((e) => e.kind === 'runtime');
    expect(rt).toMatchObject({ name: 'onnxruntime-node/cpu', provider: 'cpu' });
    const warnings = rt?.kind === 'runtime' ? rt.warnings : [];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/webgpu is unavailable, running on cpu instead/);
    expect(warnings[0]).toMatch(/apt-get install -y chromium/);
    // The fallback runtime still computes the graph (its WebGPU lowering runs on the CPU EP too).
    expect(maxRelError(outputOf(result, 'composite'), await cpuRun(composite, { x: X4 }))).toBeLessThan(1e-6);
  }, 120_000);

  it('refuses to fall back when asked not to', async () => {
    const result = await runChild({ provider: 'webgpu', fallback: false }, [], noVulkanDriverEnv());
    const open = result.events.find((e) => e.kind === 'open-error');
    expect(open).toBeDefined();
    expect(open?.kind === 'open-error' ? open.message : '').toMatch(/the webgpu execution provider is unavailable: .*adapter/);
  }, 120_000);
});
