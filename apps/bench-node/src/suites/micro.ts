/**
 * `pnpm bench micro [--micro-model DIR] [--runs 50] [--sketch-frames 120]` — the shipped micro model as a user runs it:
 * a text-to-image call (`generate`, one fused step at 64×64, prompt cached after the first) timed end to end, and
 * the sketch loop — a pen pushing a new drawing as soon as the previous frame arrives, through the ControlNet
 * pipeline's realtime stream — as sustained frames/s. Default model: the embedded default (@sdxs/model-micro),
 * and the sketch model (the one-step student with its ControlNet), each run with its own steps and guidance.
 */
import { ControlNetPipeline, StableDiffusionPipeline } from '@sdxs/pipeline';
import { embeddedModels, LocalFolderSource, openNodeRuntime } from '@sdxs/runtime-node';
import { asDrawn, evaluationSketches } from '@sdxs/shapes';
import { median } from '../stats.js';
import { option } from '../suite-options.js';

export const MICRO_USAGE = 'micro options: --micro-model DIR (default: the embedded default) --runs 50 --sketch-frames 120 --steps N --guidance G';

export interface MicroBenchResult {
  model: string;
  steps: number;
  guidance: number;
  /** One image, prompt cached: generate() end to end. */
  image_ms: { median: number; best: number; p90: number };
  /** Four prompts per call. */
  batch4_ms: number;
  sketch?: { frames: number; frames_per_s: number; render_ms: { median: number; best: number }; latency_ms: { median: number } };
}

/** Each embedded model with its own steps and guidance (or `--micro-model` alone), timed in turn. */
export async function runMicro(log: (s: string) => void, args: readonly string[] = []): Promise<MicroBenchResult[]> {
  const named = option(args, '--micro-model');
  const e = embeddedModels();
  const models = named !== undefined ? [{ path: named, steps: 1, guidanceScale: 0 }] : [e.default, ...(e.sketch ? [e.sketch] : [])];
  const out: MicroBenchResult[] = [];
  for (const m of models) {
    const steps = Number(option(args, '--steps') ?? m.steps);
    const guidance = Number(option(args, '--guidance') ?? m.guidanceScale);
    out.push(await benchModel(log, m.path, steps, guidance, Number(option(args, '--runs') ?? 50), Number(option(args, '--sketch-frames') ?? 120)));
  }
  return out;
}

async function benchModel(log: (s: string) => void, model: string, steps: number, guidance: number, runs: number, frames: number): Promise<MicroBenchResult> {
  const runtime = await openNodeRuntime();
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(model), runtime);
  const prompt = 'a red circle on a blue background';
  const times: number[] = [];
  try {
    for (let i = 0; i < 3; i++) await pipe.generate({ prompt, seed: i, steps, guidanceScale: guidance });
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await pipe.generate({ prompt, seed: 100 + i, steps, guidanceScale: guidance });
      times.push(performance.now() - t0);
    }
    const four: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await pipe.generate({ prompt: [prompt, 'a green square on a white background', 'a yellow triangle on black', 'a blue disk on orange'], seed: i, steps, guidanceScale: guidance });
      four.push(performance.now() - t0);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const result: MicroBenchResult = {
      model,
      steps,
      guidance,
      image_ms: { median: median(times), best: sorted[0]!, p90: sorted[Math.floor(0.9 * (sorted.length - 1))]! },
      batch4_ms: median(four),
    };
    log(`micro ${model}: one image ${result.image_ms.median.toFixed(2)} ms median (best ${result.image_ms.best.toFixed(2)}, p90 ${result.image_ms.p90.toFixed(2)}; ${steps} step(s), guidance ${guidance}); 4 prompts ${result.batch4_ms.toFixed(2)} ms`);
    const sketch = await sketchLoop(model, runtime, frames);
    if (sketch) {
      result.sketch = sketch;
      log(`micro sketch loop: ${sketch.frames_per_s.toFixed(1)} frames/s over ${sketch.frames} frames (render ${sketch.render_ms.median.toFixed(2)} ms median, best ${sketch.render_ms.best.toFixed(2)}; push→frame ${sketch.latency_ms.median.toFixed(2)} ms)`);
    } else log(`micro: ${model} has no controlnet/; no sketch loop`);
    return result;
  } finally {
    await pipe.dispose();
  }
}

/** The pen pushes the next drawing when a frame arrives (a drawing app's pace when rendering is the bottleneck). */
async function sketchLoop(model: string, runtime: Awaited<ReturnType<typeof openNodeRuntime>>, frames: number): Promise<MicroBenchResult['sketch']> {
  const source = new LocalFolderSource(model);
  if (!(await source.exists('controlnet/config.json'))) return undefined;
  const pipe = await ControlNetPipeline.load(source, undefined, runtime);
  // Drawings as a user makes them: dark strokes on white.
  const drawings = evaluationSketches(16).map(({ sketch }) => asDrawn(sketch));
  const stream = pipe.realtime({ prompt: 'a red shape on a blue background', seed: 0, controlMode: 'sketch', controlScale: 0.8 });
  try {
    const renders: number[] = [];
    const latencies: number[] = [];
    stream.push(drawings[0]!);
    let t0 = 0;
    let n = 0;
    for await (const frame of stream.images) {
      n++;
      if (n === 3) t0 = performance.now(); // two warm-up frames
      if (n > 3) {
        renders.push(frame.renderMs);
        latencies.push(frame.latencyMs);
      }
      if (n >= frames + 3) break;
      stream.push(drawings[n % drawings.length]!);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { frames: renders.length, frames_per_s: renders.length / seconds, render_ms: { median: median(renders), best: Math.min(...renders) }, latency_ms: { median: median(latencies) } };
  } finally {
    await stream.close();
    await pipe.dispose();
  }
}
