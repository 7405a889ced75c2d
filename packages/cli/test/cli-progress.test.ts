import { describe, expect, it } from 'vitest';
import { HubError, ProviderUnavailableError } from '@sdxs/runtime-node';
import { a1111Parameters, MAX_METADATA_PROMPT, samplerName, sdxsParameters, type ImageParameters } from '@sdxs/image';
import { outputPaths } from '../src/commands/generate.js';
import { errorLine, exitCodeOf, UsageError } from '../src/errors.js';
import { Reporter } from '../src/progress.js';
import { Capture } from './cli-helpers.js';

describe('Reporter', () => {
  const events = (r: Reporter): void => {
    r.pipeline({ stage: 'build', graph: 'one-step', key: 'k', cached: false });
    r.pipeline({ stage: 'build', graph: 'one-step', key: 'k', cached: false, ms: 1500 });
    r.pipeline({ stage: 'session', graph: 'one-step', key: 'k' });
    r.pipeline({ stage: 'session', graph: 'one-step', key: 'k', ms: 20 });
    for (let s = 1; s <= 25; s++) r.pipeline({ stage: 'step', step: s, steps: 25, timestep: 1000 - 40 * s, ms: 100 });
    r.done();
  };

  it('writes plain lines when stderr is not a terminal: starts of slow phases, ends, about ten step lines', () => {
    const out = new Capture(false);
    events(new Reporter(out));
    const lines = out.text.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['building the one-step graph…', 'built the one-step graph in 1.5 s', 'creating the one-step session…', 'one-step session ready in 20 ms']);
    expect(lines.slice(4)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 25].map((s) => `step ${s}/25 (t=${1000 - 40 * s}) 100 ms`));
    expect(out.text).not.toMatch(/\r|\x1b/);
  });

  it('redraws one line in place on a terminal and ends it before warnings and at the end', () => {
    const out = new Capture(true);
    const r = new Reporter(out);
    r.pipeline({ stage: 'build', graph: 'one-step', key: 'k', cached: false });
    r.warn('webgpu unavailable');
    r.pipeline({ stage: 'step', step: 1, steps: 3, timestep: 999, ms: 5 });
    r.pipeline({ stage: 'step', step: 2, steps: 3, timestep: 500, ms: 5 });
    r.done();
    expect(out.text).toBe('\rbuilding the one-step graph…\x1b[K\nwarning: webgpu unavailable\n\rstep 1/3 (t=999) 5 ms\x1b[K\rstep 2/3 (t=500) 5 ms\x1b[K\n');
  });

  it('--quiet prints warnings only; plain download progress is one line per finished file', () => {
    const quiet = new Capture(false);
    const q = new Reporter(quiet, { quiet: true });
    events(q);
    q.warn('careful');
    expect(quiet.text).toBe('warning: careful\n');

    const out = new Capture(false);
    const r = new Reporter(out);
    const base = { fileTotal: 1000, total: 3000, filesTotal: 2 };
    r.download({ ...base, file: 'unet/a.safetensors', fileBytes: 500, bytes: 500, filesDone: 0 });
    r.download({ ...base, file: 'unet/a.safetensors', fileBytes: 1000, bytes: 1000, filesDone: 1 });
    r.download({ ...base, file: 'vae/b.safetensors', fileTotal: 2000, fileBytes: 2000, bytes: 3000, filesDone: 2 });
    expect(out.text).toBe('downloaded unet/a.safetensors (1.0 kB), 1/2 files, 1.0 kB/3.0 kB\ndownloaded vae/b.safetensors (2.0 kB), 2/2 files, 3.0 kB/3.0 kB\n');
  });
});

describe('generation parameters', () => {
  const p: ImageParameters = {
    prompt: 'a cat',
    seed: 18446744073709551615n,
    steps: 1,
    guidanceScale: 0,
    width: 512,
    height: 512,
    batchSize: 1,
    batchIndex: 1,
    model: 'IDKiro/sdxs-512-dreamshaper',
    scheduler: 'EulerDiscreteScheduler',
    executionProvider: 'webgpu',
    dtype: 'float16',
    version: '0.1.0',
  };

  it('A1111 infotext: quoting of values with , : or newlines, Python float style, batch fields only for batches', () => {
    expect(a1111Parameters(p)).toBe('a cat\nSteps: 1, Sampler: Euler, CFG scale: 0.0, Seed: 18446744073709551615, Size: 512x512, Model: IDKiro/sdxs-512-dreamshaper, Version: sdxs 0.1.0');
    expect(a1111Parameters({ ...p, model: 'my:model, v2', negativePrompt: 'blurry', guidanceScale: 7.5, batchSize: 4, batchIndex: 2 })).toBe(
      'a cat\nNegative prompt: blurry\nSteps: 1, Sampler: Euler, CFG scale: 7.5, Seed: 18446744073709551615, Size: 512x512, Model: "my:model, v2", Batch size: 4, Batch pos: 1, Version: sdxs 0.1.0',
    );
    expect(samplerName('EulerAncestralDiscreteScheduler')).toBe('Euler a');
    expect(samplerName('DPMSolverMultistepScheduler')).toBe('DPM++ 2M');
    expect(samplerName('SomethingNew')).toBe('SomethingNew');
  });

  it('the sdxs record is ASCII JSON with the exact seed, and long prompts are cut', () => {
    const json = sdxsParameters({ ...p, prompt: 'chat 猫 🐱' });
    expect(json).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(json)).toMatchObject({ prompt: 'chat 猫 🐱', seed: '18446744073709551615', execution_provider: 'webgpu', dtype: 'float16' });
    const long = 'x'.repeat(MAX_METADATA_PROMPT + 5);
    expect(JSON.parse(sdxsParameters({ ...p, prompt: long }))).toMatchObject({ prompt: long.slice(0, MAX_METADATA_PROMPT), prompt_truncated_from: long.length });
  });

  it('batch file names', () => {
    expect(outputPaths('/o/cat.png', 1)).toEqual(['/o/cat.png']);
    expect(outputPaths('/o/cat.png', 3)).toEqual(['/o/cat-1.png', '/o/cat-2.png', '/o/cat-3.png']);
    expect(outputPaths('/o/cat', 2)).toEqual(['/o/cat-1.png', '/o/cat-2.png']);
  });
});

describe('error lines', () => {
  it('fold newlines, cut very long messages, and add the hint of each error kind', () => {
    expect(errorLine(new Error('first\n  second'), 'info')).toBe('sdxs info: first — second');
    expect(errorLine(new Error('y'.repeat(2000)), '').length).toBeLessThan(700);
    expect(errorLine(new HubError('gated', 'IDKiro/x is gated'), 'generate')).toBe("sdxs generate: IDKiro/x is gated (accept the model's terms on its Hugging Face page, then set HF_TOKEN)");
    expect(errorLine(new ProviderUnavailableError('cuda', 'no libcudart'), 'generate')).toMatch(/\(run on the CPU with --ep cpu\)$/);
    expect(exitCodeOf(new UsageError('x'))).toBe(2);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
});
