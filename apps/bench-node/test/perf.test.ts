import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNetwork } from '../src/perf/networks.js';
import { summariseProfile } from '../src/perf/ort-profile.js';
import { parseLowering, parseProfileArgs } from '../src/perf/profile-args.js';

/** A trace as onnxruntime writes it: Session events for runs, Node events `<name>_kernel_time` inside them. */
function trace(): unknown[] {
  const node = (name: string, op: string, ts: number, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, ph: 'X', args: { op_name: op } });
  const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur, ph: 'X', args: {} });
  return [
    { cat: 'Session', name: 'session_initialization', ts: 0, dur: 50, ph: 'X', args: {} },
    // Warm-up run: slow, left out.
    run(100, 1000),
    node('conv_a', 'Conv', 110, 900),
    node('t', 'Transpose', 1010, 80),
    // Two timed runs.
    run(2000, 500),
    node('conv_a', 'Conv', 2010, 300),
    node('conv_b', 'Conv', 2310, 100),
    node('t', 'Transpose', 2410, 40),
    run(3000, 700),
    node('conv_a', 'Conv', 3010, 500),
    node('conv_b', 'Conv', 3510, 100),
    node('t', 'Transpose', 3610, 60),
    { cat: 'Session', name: 'SequentialExecutor::Execute', ts: 3005, dur: 690, ph: 'X', args: {} },
  ];
}

describe('perf: onnxruntime profile summary', () => {
  it('averages the last runs per op type and node, leaving the warm-up out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdxs-perf-'));
    try {
      const file = join(dir, 'p.json');
      await writeFile(file, JSON.stringify(trace()));
      const s = await summariseProfile(file, 2, 2);
      expect(s.runs).toBe(2);
      expect(s.runMs).toBeCloseTo(0.6);
      expect(s.kernelMs).toBeCloseTo(0.55);
      expect(s.byOp.map((o) => [o.op, o.nodes])).toEqual([
        ['Conv', 2],
        ['Transpose', 1],
      ]);
      expect(s.byOp[0]!.ms).toBeCloseTo(0.5);
      expect(s.byOp[0]!.share).toBeCloseTo(1000 / 1100);
      expect(s.topNodes).toEqual([
        { name: 'conv_a', op: 'Conv', ms: 0.4 },
        { name: 'conv_b', op: 'Conv', ms: 0.1 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file without runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sdxs-perf-'));
    try {
      const file = join(dir, 'p.json');
      await writeFile(file, '[]');
      await expect(summariseProfile(file, 1)).rejects.toThrow(/no model_run events/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('perf: options', () => {
  it('parses lowering overrides and session settings, and refuses unknown names', () => {
    expect(parseLowering('--a', 'attention=decomposed,groupNorm=decomposed')).toEqual({ attention: 'decomposed', groupNorm: 'decomposed' });
    expect(parseLowering('--a', 'default')).toEqual({});
    expect(() => parseLowering('--a', 'attention=flash')).toThrow(/attention: flash is not one of decomposed, contrib-mha/);
    expect(() => parseLowering('--a', 'groupnorm=decomposed')).toThrow(/groupnorm is not one of/);
    const a = parseProfileArgs(['--nets', 'step', '--threads', '1', '--config', 'session.set_denormal_as_zero=1', '--opt', 'extended']);
    expect(a).toMatchObject({ nets: ['step'], threads: 1, config: { 'session.set_denormal_as_zero': '1' }, opt: 'extended', size: 512 });
    expect(() => parseProfileArgs(['--nets', 'vae'])).toThrow(/vae is not one of unet, decoder, step/);
    expect(() => parseProfileArgs(['--size', '500'])).toThrow(/not a multiple of 32/);
  });
});

describe('perf: networks', () => {
  it('builds the measured graphs at full size with the released parameter counts', () => {
    // SDXS-512's U-Net (diffusers num_parameters) and TAESD's decoder half.
    expect(buildNetwork('unet', 512, {}).graph.parameterCount()).toBe(315_746_244);
    const decoder = buildNetwork('decoder', 512, {});
    expect(decoder.feeds.latents?.shape).toEqual([1, 4, 64, 64]);
    expect(buildNetwork('step', 512, {}).graph.parameterCount()).toBe(315_746_244 + decoder.graph.parameterCount());
  });
});
