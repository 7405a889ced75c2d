// The training command: progress, JSON log, periodic checkpoints, a diffusers folder at the end, exact resume.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AutoencoderTiny } from '@sdxs/decoder';
import { bindCheckpoint } from '@sdxs/graph';
import { Generator, type Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile, openSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { bindRandom, checkpointName, parseTrainArgs, progressLine, runTrainCommand, type TrainIO } from '../src/index.js';
import { TEACHER, teacherWeights } from './_decoder.js';
import { runtime, sameBits } from './_helpers.js';

const root = mkdtempSync(join(tmpdir(), 'sdxs-train-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A teacher folder as diffusers writes it: config.json and the weights, encoder included. */
async function teacherFolder(): Promise<string> {
  const dir = join(root, 'teacher');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ _class_name: 'AutoencoderTiny', ...TEACHER }));
  const { graph } = new AutoencoderTiny(TEACHER).encoderGraph({ height: 32, width: 32 });
  bindRandom(graph, new Generator(5));
  const weights = new Map<string, Tensor>(teacherWeights());
  for (const n of graph.parameterNames) {
    const d = graph.initializers.get(n)!.data;
    if (d && 'dtype' in d) weights.set(n, d);
  }
  await writeSafetensorsFile(join(dir, 'diffusion_pytorch_model.safetensors'), weights);
  return dir;
}

function io(): TrainIO & { lines: string[]; errors: string[]; progressLines: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  const progressLines: string[] = [];
  return {
    lines,
    errors,
    progressLines,
    runtime: () => runtime,
    log: (l) => lines.push(l),
    error: (l) => errors.push(l),
    progress: (l) => progressLines.push(l),
  };
}

const common = (teacher: string) => ['decoder', '--teacher', teacher, '--student-width', '8', '--student-blocks', '1,1,1,1', '--batch', '2', '--latent-size', '4', '--checkpoint-every', '3', '--lr', '3e-3'];

describe('runTrainCommand', () => {
  it('trains, logs, checkpoints, and resumes bit for bit', async () => {
    const teacher = await teacherFolder();
    const outA = join(root, 'a');
    const a = io();
    expect(await runTrainCommand([...common(teacher), '--out', outA, '--steps', '6'], a)).toBe(0);
    expect(a.errors).toEqual([]);
    expect(a.progressLines).toHaveLength(6);
    expect(a.progressLines[5]).toMatch(/^step 6\/6 {2}loss [\d.e+-]+ {2}grad [\d.e+-]+ {2}[\d.]+ steps\/s {2}ETA 0s$/);
    const log = readFileSync(join(outA, 'train_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.map((l) => l['event'] ?? l['step'])).toEqual(['start', 1, 2, 3, 'checkpoint', 4, 5, 6, 'checkpoint', 'done']);
    expect(typeof log[1]!['loss']).toBe('number');

    // Three steps, stop, resume to six: the same final weights.
    const outB = join(root, 'b');
    expect(await runTrainCommand([...common(teacher), '--out', outB, '--steps', '3'], io())).toBe(0);
    const b = io();
    expect(await runTrainCommand([...common(teacher), '--out', outB, '--steps', '6', '--resume'], b)).toBe(0);
    expect(b.lines[0]).toMatch(/resuming from .*checkpoint-000003 \(step 3\)/);
    const wa = await loadSafetensorsFile(join(outA, checkpointName(6), 'vae', 'diffusion_pytorch_model.safetensors'));
    const wb = await loadSafetensorsFile(join(outB, checkpointName(6), 'vae', 'diffusion_pytorch_model.safetensors'));
    expect([...wb.tensors.keys()].sort()).toEqual([...wa.tensors.keys()].sort());
    for (const [k, t] of wa.tensors) expect(sameBits(wb.tensors.get(k)!.data as Float32Array, t.data as Float32Array), k).toBe(true);

    // The folder is a whole AutoencoderTiny (student decoder, teacher encoder): both halves bind.
    const vaeDir = join(outA, checkpointName(6), 'vae');
    const vae = AutoencoderTiny.fromConfig(JSON.parse(readFileSync(join(vaeDir, 'config.json'), 'utf8')));
    expect(vae.config.decoder_block_out_channels).toEqual([8, 8, 8, 8]);
    const file = await openSafetensorsFile(join(vaeDir, 'diffusion_pytorch_model.safetensors'));
    const dec = vae.decoderGraph({ height: 4, width: 4 });
    const enc = vae.encoderGraph({ height: 32, width: 32 });
    await bindCheckpoint(dec.graph, [file], { ignore: dec.ignore });
    await bindCheckpoint(enc.graph, [file], { ignore: enc.ignore });
    await file.close();
  });

  it('stops on the signal after a checkpoint, with exit code 130', async () => {
    const teacher = await teacherFolder();
    const out = join(root, 'stopped');
    const stop = new AbortController();
    stop.abort();
    const s = { ...io(), signal: stop.signal };
    expect(await runTrainCommand([...common(teacher), '--out', out, '--steps', '50'], s)).toBe(130);
    expect(s.lines.at(-1)).toMatch(/stopped at step 1; saved .*checkpoint-000001; continue with --resume/);
  });

  it('reports usage errors with exit code 2', async () => {
    const e = io();
    expect(await runTrainCommand(['--out', 'x'], e)).toBe(2);
    expect(e.errors[0]).toMatch(/--teacher is required/);
    expect(() => parseTrainArgs(['--teacher', 't', '--out', 'o', '--steps', '0'])).toThrow(/--steps needs an integer ≥ 1/);
    expect(() => parseTrainArgs(['--teacher', 't', '--out', 'o', '--frobnicate', '1'])).toThrow(/unknown option --frobnicate/);
    expect(() => parseTrainArgs(['--teacher', 't', '--out', 'o', '--loss', 'l2'])).toThrow(/--loss is one of l1-down8, mse/);
    expect(parseTrainArgs(['--teacher=t', '--out', 'o', '--resume', '--clip', '1']).resume).toBe(true);
    const h = io();
    expect(await runTrainCommand(['--help'], h)).toBe(0);
    expect(h.lines[0]).toMatch(/^usage: sdxs train/);
  });

  it('formats progress with an ETA', () => {
    expect(progressLine({ step: 120, steps: 1000, loss: 0.0123, gradNorm: 0.5, skipped: false, rate: 3.2 })).toBe('step 120/1000  loss 0.01230  grad 0.500  3.20 steps/s  ETA 4m35s');
  });
});
