// The loop every `sdxs distill` stage runs: steps until done or out of time, a progress line, a JSON log,
// checkpoints (periodic, at the end, on Ctrl-C), and exact resume.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Generator, Runtime } from '@sdxs/tensor';
import { checkpointName, latestCheckpoint, loadCheckpoint, type LoadedCheckpoint } from '../checkpoint.js';
import { formatDuration } from '../cli/progress.js';
import type { Batch, StepResult, Trainer } from '../trainer.js';

/** The options every stage takes (each stage adds its own). */
export interface StageRunOptions {
  /** The stage's run folder: checkpoints and train_log.jsonl. */
  out: string;
  runtime: Runtime;
  /** Optimizer steps of the run (default: the stage's). */
  steps?: number;
  batch?: number;
  /** Peak learning rate. */
  lr?: number;
  /** Stop after this many minutes (checkpoint saved; resume continues). */
  minutes?: number;
  /** Continue from the newest checkpoint under `out`. */
  resume?: boolean;
  seed?: number;
  logEvery?: number;
  checkpointEvery?: number;
}

/** The loop settings a stage's options give (`steps` and the checkpoint period resolved by the stage). */
export function loopSettings(name: string, o: StageRunOptions, steps: number, checkpointEvery: number): Pick<LoopOptions, 'name' | 'out' | 'steps' | 'minutes' | 'checkpointEvery' | 'logEvery' | 'resume'> {
  return {
    name,
    out: o.out,
    steps,
    ...(o.minutes !== undefined ? { minutes: o.minutes } : {}),
    checkpointEvery: o.checkpointEvery ?? checkpointEvery,
    logEvery: o.logEvery ?? 25,
    resume: o.resume ?? false,
  };
}

/** The options that were given (undefined ones dropped), to spread over a stage's defaults. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Where a stage reports to (the CLI, a test). */
export interface StageIO {
  log(line: string): void;
  /** Progress lines; a terminal may redraw them in place (default `log`). */
  progress?(line: string): void;
  /** Stop early: the current step finishes, a checkpoint is saved. */
  signal?: AbortSignal;
  now?(): number;
}

export interface LoopOptions {
  /** The stage's name, in lines and the log. */
  name: string;
  /** The run folder: checkpoints and `train_log.jsonl`. */
  out: string;
  /** Optimizer steps of the whole run (the learning-rate schedule is laid out over them). */
  steps: number;
  /** Stop after this many minutes of this session even if steps remain (a checkpoint is saved; `--resume` continues). */
  minutes?: number;
  /** A checkpoint every this many steps (0: only at the end). */
  checkpointEvery: number;
  logEvery: number;
  resume: boolean;
  trainer: Trainer;
  /** The stage's random stream (noise, timesteps), checkpointed with the weights. */
  generator: Generator;
  /** The batch of 0-based step `step` (data indices follow from the step, so resuming needs no data position). */
  batch(step: number): Batch | Promise<Batch>;
  /** Write a checkpoint folder (saveCheckpoint with the stage's components). */
  save(dir: string): Promise<void>;
  /** Extra checks on a checkpoint before resuming from it (same config…), and restoring what else it holds. */
  checkResume?(c: LoadedCheckpoint): void | Promise<void>;
  /**
   * After each step, before logging: a second network's update in a stage that alternates two (the online
   * diffusion model of Diff-Instruct); the numbers returned join the step's log record.
   */
  afterStep?(result: StepResult): Promise<Record<string, number> | void>;
  /** Run every `evalEvery` steps (and at the end): named metrics for the log and the progress line. */
  evaluate?(): Promise<Record<string, number>>;
  evalEvery?: number;
  meta: Record<string, unknown>;
}

export interface LoopResult {
  /** Steps done in total (resumed ones included). */
  step: number;
  /** True when every step of the run is done; false when stopped by time or signal. */
  finished: boolean;
  /** The last checkpoint written. */
  checkpoint: string;
  lastLoss: number;
  seconds: number;
}

/**
 * Run a stage's trainer: resume from the newest checkpoint under `out` when asked, step until `steps` or the time
 * budget, log each step as JSON (`{"step","loss","grad_norm","lr","steps_per_s","elapsed_s"}`) and save checkpoints.
 */
export async function runLoop(o: LoopOptions, io: StageIO): Promise<LoopResult> {
  const now = io.now ?? (() => performance.now());
  const progress = io.progress ?? io.log;
  await mkdir(o.out, { recursive: true });
  const logFile = join(o.out, 'train_log.jsonl');
  const writeLog = (x: Record<string, unknown>) => appendFile(logFile, JSON.stringify(x) + '\n');
  const { trainer } = o;
  if (o.resume) {
    const dir = await latestCheckpoint(o.out);
    if (!dir) io.log(`${o.name}: no checkpoint in ${o.out}, starting from step 0`);
    else {
      const c = await loadCheckpoint(dir);
      await o.checkResume?.(c);
      trainer.load(c.trainer);
      if (!c.rng) throw new Error(`${dir}: no random-generator state to resume from`);
      o.generator.setState(c.rng);
      io.log(`${o.name}: resuming from ${dir} (step ${trainer.stepCount})`);
      await writeLog({ event: 'resume', from: dir, step: trainer.stepCount });
    }
  }
  await writeLog({ event: 'start', stage: o.name, step: trainer.stepCount, steps: o.steps, ...o.meta });
  const t0 = now();
  const first = trainer.stepCount;
  let checkpoint = '';
  let last: StepResult | undefined;
  let lossAvg = NaN;
  const save = async () => {
    checkpoint = join(o.out, checkpointName(trainer.stepCount));
    await o.save(checkpoint);
    await writeLog({ event: 'checkpoint', step: trainer.stepCount, path: checkpoint });
  };
  const budgetMs = o.minutes !== undefined ? o.minutes * 60_000 : Infinity;
  let stopped = false;
  while (trainer.stepCount < o.steps) {
    last = await trainer.step(await o.batch(trainer.stepCount));
    const extra = (await o.afterStep?.(last)) ?? {};
    lossAvg = Number.isNaN(lossAvg) ? last.loss : 0.98 * lossAvg + 0.02 * last.loss;
    const elapsed = (now() - t0) / 1000;
    const rate = (last.step - first) / elapsed;
    const record: Record<string, unknown> = { step: last.step, loss: last.loss, grad_norm: last.gradNorm, skipped: last.skipped, lr: trainer.optimizer.lrAt(last.step), steps_per_s: rate, elapsed_s: elapsed };
    for (const [k, v] of Object.entries(last.metrics)) if (v.size === 1) record[k] = Number(v.data[0]);
    Object.assign(record, extra);
    let evalText = '';
    if (o.evaluate && o.evalEvery && (last.step % o.evalEvery === 0 || last.step === o.steps)) {
      const metrics = await o.evaluate();
      record['eval'] = metrics;
      evalText = '  ' + Object.entries(metrics).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join('  ');
    }
    await writeLog(record);
    if (last.step % o.logEvery === 0 || last.step === o.steps || evalText) {
      const eta = formatDuration(Math.min((o.steps - last.step) / rate, (budgetMs - elapsed * 1000) / 1000));
      progress(`${o.name}: step ${last.step}/${o.steps}  loss ${lossAvg.toPrecision(4)}  grad ${last.gradNorm.toPrecision(3)}  ${rate.toFixed(2)} steps/s  ETA ${eta}${evalText}`);
    }
    stopped = io.signal?.aborted === true || now() - t0 >= budgetMs;
    if ((o.checkpointEvery > 0 && last.step % o.checkpointEvery === 0) || last.step === o.steps || stopped) await save();
    if (stopped) break;
  }
  if (!checkpoint) checkpoint = (await latestCheckpoint(o.out)) ?? '';
  const finished = trainer.stepCount >= o.steps;
  const seconds = (now() - t0) / 1000;
  await writeLog({ event: finished ? 'done' : 'stopped', step: trainer.stepCount, checkpoint, seconds });
  if (!finished) io.log(`${o.name}: stopped at step ${trainer.stepCount}/${o.steps} after ${formatDuration(seconds)}; saved ${checkpoint}; continue with --resume`);
  return { step: trainer.stepCount, finished, checkpoint, lastLoss: last?.loss ?? NaN, seconds };
}
