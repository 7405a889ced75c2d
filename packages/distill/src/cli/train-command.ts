import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoencoderTiny, type AutoencoderTinyConfig } from '@sdxs/decoder';
import { bindCheckpoint } from '@sdxs/graph';
import { Generator, type Runtime, type Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { checkpointName, latestCheckpoint, loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { adamw } from '../optim/adamw.js';
import { sgd } from '../optim/sgd.js';
import { bindRandom } from '../params/init.js';
import { makeTrainable } from '../params/trainable.js';
import { decoderDistillGraph } from '../recipes/decoder.js';
import { Trainer, type Batch } from '../trainer.js';
import { parseTrainArgs, TRAIN_USAGE, UsageError, type TrainArgs } from './args.js';
import { progressLine } from './progress.js';

/** What `runTrainCommand` needs from its host (the `sdxs` CLI, a test). */
export interface TrainIO {
  /** The runtime to train on; `threads` is `--threads` when given. */
  runtime(options: { threads?: number }): Runtime | Promise<Runtime>;
  /** Ordinary output lines (stdout). */
  log(line: string): void;
  /** Errors and usage (stderr). */
  error(line: string): void;
  /** Progress lines; a terminal may redraw them in place (default: `log`). */
  progress?(line: string): void;
  /** Milliseconds, for rates and the log (default performance.now). */
  now?(): number;
  /** Stop early (Ctrl-C): the current step finishes, a checkpoint is saved, the command returns 130. */
  signal?: AbortSignal;
}

const WEIGHT_FILES = ['diffusion_pytorch_model.safetensors', 'model.safetensors'];

/**
 * `sdxs train [decoder]`: distil a tiny decoder (AutoencoderTiny) from a frozen teacher decoder on synthetic
 * latents drawn from the seeded torch-compatible generator — stage one of the SDXS recipe, L1 between 8× pooled
 * images by default. Teacher and student share one training graph and one ONNX Runtime session for the run.
 *
 * Writes under `--out`: `checkpoint-NNNNNN/` every `--checkpoint-every` steps and at the end (each one a diffusers
 * `vae/` folder — the student with the teacher's encoder, so `AutoencoderTiny.from_pretrained(<ckpt>/vae)` works —
 * plus `training_state.safetensors`), and `train_log.jsonl`, one JSON object per line: `{"event":"start",…}`, then
 * per step `{"step","loss","grad_norm","skipped","lr","loss_scale","steps_per_s","elapsed_s"}`, `{"event":"checkpoint",…}`
 * and `{"event":"done",…}`. A progress line (step, loss, steps/s, ETA) goes to `io.progress` every `--log-every`
 * steps. `--resume` continues from the newest checkpoint exactly as if the run had not stopped (same weights,
 * optimizer state, loss scale and latent stream). Options: see `TRAIN_USAGE`.
 *
 * Returns the exit code: 0 done, 2 usage error, 1 failure, 130 stopped by `io.signal` (after a checkpoint).
 *
 * @example
 * const code = await runTrainCommand(['--teacher', 'sdxs/vae', '--out', 'runs/tiny', '--student-width', '32', '--steps', '2000'], {
 *   runtime: ({ threads }) => createNodeRuntime({ intraOpThreads: threads }),
 *   log: (l) => console.log(l), error: (l) => console.error(l),
 * });
 */
export async function runTrainCommand(argv: readonly string[], io: TrainIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.log(TRAIN_USAGE);
    return 0;
  }
  try {
    return await train(parseTrainArgs(argv), io);
  } catch (e) {
    io.error(`sdxs train: ${e instanceof Error ? e.message : String(e)}`);
    if (!(e instanceof UsageError)) return 1;
    io.error(TRAIN_USAGE);
    return 2;
  }
}

function studentConfig(teacher: AutoencoderTinyConfig, a: TrainArgs): AutoencoderTinyConfig {
  const width = a.studentWidth ?? teacher.decoder_block_out_channels[0]!;
  const blocks = a.studentBlocks ?? teacher.num_decoder_blocks;
  if (blocks.length !== teacher.decoder_block_out_channels.length) {
    throw new UsageError(`--student-blocks needs ${teacher.decoder_block_out_channels.length} entries (the teacher's stages), got ${blocks.length}`);
  }
  const channels = blocks.map(() => width);
  // The student keeps the teacher's encoder (and its weights), so the saved folder is a whole AutoencoderTiny.
  return AutoencoderTiny.fromConfig({ ...teacher, decoder_block_out_channels: channels, block_out_channels: channels, num_decoder_blocks: blocks }).config;
}

async function train(a: TrainArgs, io: TrainIO): Promise<number> {
  const now = io.now ?? (() => performance.now());
  const progress = io.progress ?? io.log;
  const teacherConfig = AutoencoderTiny.fromConfig(JSON.parse(await readFile(join(a.teacher, 'config.json'), 'utf8')), join(a.teacher, 'config.json')).config;
  const student = studentConfig(teacherConfig, a);
  const weightFile = WEIGHT_FILES.map((f) => join(a.teacher, f)).find((p) => existsSync(p));
  if (!weightFile) throw new Error(`${a.teacher}: no ${WEIGHT_FILES.join(' or ')}`);
  const teacherFile = await openSafetensorsFile(weightFile);
  const encoder = new Map<string, Tensor>();
  let trainer: Trainer;
  const gen = new Generator(a.seed);
  try {
    for (const n of teacherFile.names()) if (n.startsWith('encoder.')) encoder.set(n, await teacherFile.read(n));
    const d = await decoderDistillGraph({ teacher: teacherConfig, teacherWeights: [teacherFile], student, batch: a.batch, latentSize: a.latentSize, loss: a.loss });
    if (a.init === 'teacher') await bindCheckpoint(d.graph, [teacherFile], { ignore: [/^encoder\./] });
    else bindRandom(d.graph, gen, { gain: Math.SQRT2 });
    const optimizer = a.optimizer === 'adamw' ? adamw({ lr: a.lr, weightDecay: a.weightDecay ?? 1e-2 }) : sgd({ lr: a.lr, momentum: a.momentum, weightDecay: a.weightDecay ?? 0 });
    trainer = await Trainer.create({
      runtime: await io.runtime(a.threads !== undefined ? { threads: a.threads } : {}),
      graph: d.graph,
      loss: d.loss,
      trainable: makeTrainable(d.graph, /^decoder\./),
      optimizer,
      update: a.update,
      accumulationSteps: a.accumulate,
      ...(a.clip !== undefined ? { clipGradNorm: a.clip } : {}),
      ...(a.ema !== undefined ? { ema: { decay: a.ema } } : {}),
    });
  } finally {
    await teacherFile.close();
  }
  try {
    await mkdir(a.out, { recursive: true });
    const logFile = a.jsonLog ?? join(a.out, 'train_log.jsonl');
    const writeLog = (o: Record<string, unknown>) => appendFile(logFile, JSON.stringify(o) + '\n');
    const meta = { student, teacher: a.teacher, seed: a.seed, batch: a.batch, latent_size: a.latentSize, loss: a.loss, optimizer: a.optimizer, lr: a.lr, accumulate: a.accumulate };
    if (a.resume) {
      const dir = await latestCheckpoint(a.out);
      if (!dir) io.log(`no checkpoint in ${a.out}: starting from step 0`);
      else {
        const ckpt = await loadCheckpoint(dir);
        if (JSON.stringify(ckpt.meta['student']) !== JSON.stringify(student)) throw new Error(`${dir} was trained with another student config; resume with the same --student-width/--student-blocks`);
        trainer.load(ckpt.trainer);
        if (!ckpt.rng) throw new Error(`${dir} has no RNG state`);
        gen.setState(ckpt.rng);
        io.log(`resuming from ${dir} (step ${trainer.stepCount})`);
        await writeLog({ event: 'resume', from: dir, step: trainer.stepCount });
      }
    }
    await writeLog({ event: 'start', step: trainer.stepCount, steps: a.steps, update: a.update, ...meta });
    const save = async (): Promise<string> => {
      const dir = join(a.out, checkpointName(trainer.stepCount));
      const weights = new Map<string, Tensor>([...encoder, ...trainer.params()]);
      await saveCheckpoint(dir, { component: 'vae', config: { _class_name: 'AutoencoderTiny', ...student }, weights, trainer: trainer.state(), rng: gen.getState(), meta });
      await writeLog({ event: 'checkpoint', step: trainer.stepCount, path: dir });
      return dir;
    };
    const shape = [a.batch, student.latent_channels, a.latentSize, a.latentSize];
    const first = trainer.stepCount;
    const t0 = now();
    let last = '';
    while (trainer.stepCount < a.steps) {
      const micro: Batch[] = Array.from({ length: a.accumulate }, () => ({ latents: gen.randn(shape) }));
      const r = await trainer.step(a.accumulate === 1 ? micro[0]! : micro);
      const elapsed = (now() - t0) / 1000;
      const rate = (r.step - first) / elapsed;
      await writeLog({ step: r.step, loss: r.loss, grad_norm: r.gradNorm, skipped: r.skipped, lr: trainer.optimizer.lrAt(r.step), loss_scale: r.lossScale, steps_per_s: rate, elapsed_s: elapsed });
      if (r.step % a.logEvery === 0 || r.step === a.steps) progress(progressLine({ step: r.step, steps: a.steps, loss: r.loss, gradNorm: r.gradNorm, skipped: r.skipped, rate }));
      const stopping = io.signal?.aborted === true;
      if ((a.checkpointEvery > 0 && r.step % a.checkpointEvery === 0) || r.step === a.steps || stopping) last = await save();
      if (stopping) {
        io.log(`stopped at step ${r.step}; saved ${last}; continue with --resume`);
        await writeLog({ event: 'stopped', step: r.step, checkpoint: last });
        return 130;
      }
    }
    if (!last) last = join(a.out, checkpointName(trainer.stepCount));
    await writeLog({ event: 'done', step: trainer.stepCount, checkpoint: last });
    io.log(`done: ${trainer.stepCount} steps; weights in ${join(last, 'vae')}`);
    return 0;
  } finally {
    await trainer.dispose();
  }
}
