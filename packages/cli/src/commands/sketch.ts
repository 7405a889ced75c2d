/**
 * `sdxs sketch --watch drawing.png "prompt" --model …`: live ControlNet rendering for any drawing program. The
 * file is watched; every save renders the drawing again and rewrites the output, so a viewer that reloads on
 * change shows the picture following the pen. Saves come in bursts (editors write, rename, touch); they are
 * debounced, and the pipeline's realtime stream renders only the newest drawing waiting, so latency stays about
 * one render however fast the saves come.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { RealtimeStream } from '@sdxs/pipeline';
import { COMMON_HELP, numberFlag, parseCommand, seedFlag } from '../args.js';
import { checkWritable, writeOutput } from '../atomic.js';
import { CONTROL_OPTIONS, controlHelp, controlSettings } from '../conditions.js';
import { UsageError } from '../errors.js';
import { decodeImageFile, readImageFlag } from '../images.js';
import type { CliIO } from '../io.js';
import { embeddedModels, type EmbeddedModel } from '@sdxs/runtime-node';
import { encodePng, a1111Parameters, sdxsParameters, type ImageParameters } from '@sdxs/image';
import { loadControlNetPipeline, LORA_HELP, LORA_OPTIONS, loraFlags, MODEL_FLAG_HELP, MODEL_HELP, MODEL_OPTIONS, modelFlags, type LoadedControlNetPipeline } from '../model.js';
import { formatMs, Reporter } from '../progress.js';
import { cliVersion } from '../version.js';

export const SKETCH_HELP = `Usage: sdxs sketch --watch <drawing.png> "<prompt>" [--model <dir|repo>] [options]

Render a drawing with a ControlNet, again every time the file is saved, until Ctrl-C. Each frame rewrites the
output PNG atomically (a viewer never sees half a file) and prints one line: the frame, the file and its
latency from the save. Saves faster than renders are skipped, never queued: the newest drawing is rendered next.

Options:
      --watch <file.png>   the drawing to watch (rendered once at start, then on every change)
  -o, --out <file.png>     output file (default: <drawing>-sdxs.png next to the drawing)
      --seed <n>           seed for every frame, so only what is drawn changes (default: random; printed)
      --width <px>         output width (default: the model's); the drawing is resized to it
      --height <px>        output height
${controlHelp('sketch')}

Model options:
${MODEL_FLAG_HELP}
${MODEL_HELP}
${LORA_HELP}

${COMMON_HELP}

Examples:
  sdxs sketch --watch drawing.png "a red shape on a blue background"   # the embedded one-step model, offline
                                                   # (its control scale: 1.2, from models.json)
  sdxs sketch --watch drawing.png "a castle on a hill" --model IDKiro/sdxs-512-dreamshaper \\
    --controlnet IDKiro/sdxs-512-dreamshaper-sketch --out castle.png`;

const OPTIONS = {
  ...MODEL_OPTIONS,
  ...LORA_OPTIONS,
  ...CONTROL_OPTIONS,
  model: { type: 'string', short: 'm' },
  watch: { type: 'string' },
  out: { type: 'string', short: 'o' },
  seed: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
} as const;

/** Quiet time after the last change event before the file is read: one save is often several events. */
const DEBOUNCE_MS = 40;

/**
 * Run `sdxs sketch`; returns the exit code (0 after Ctrl-C: stopping is how the command ends).
 *
 * @example
 * await runSketch(['--watch', 'pad.png', 'a cat', '--model', './sdxs-sketch'], processIO(signal));
 */
export async function runSketch(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommand('sketch', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(`${SKETCH_HELP}\n`);
    return 0;
  }
  if (values.watch === undefined) throw new UsageError('--watch <drawing.png> is required', 'sketch');
  if (positionals.length === 0) throw new UsageError('missing the prompt', 'sketch');
  if (positionals.length > 1) throw new UsageError(`one prompt per run; quote it ("${positionals.join(' ')}")`, 'sketch');
  const prompt = positionals[0]!;
  // No --model: the embedded one-step model and its sketch ControlNet (offline), at the scale it was tuned for.
  const embedded = values.model === undefined ? embeddedSketchModel() : undefined;
  const flags = modelFlags('sketch', values, values.model ?? embedded!.name);
  const control = controlSettings('sketch', values, 'sketch');
  const seed = seedFlag('sketch', values.seed) ?? BigInt(Math.floor(Math.random() * 2 ** 53));
  const width = numberFlag('sketch', 'width', values.width);
  const height = numberFlag('sketch', 'height', values.height);
  const drawing = resolve(io.cwd, values.watch);
  const out = resolve(io.cwd, values.out ?? defaultOut(values.watch));
  if (out === drawing) throw new UsageError('--out must differ from the watched drawing', 'sketch');
  await checkWritable(out, '--out', values.out ?? out);
  // The drawing must be readable at start: a typo in the path is a usage error, not an endless wait.
  const first = await readImageFlag('sketch', '--watch', values.watch, io);
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  let loaded: LoadedControlNetPipeline | undefined;
  let live: RealtimeStream | undefined;
  let watcher: FSWatcher | undefined;
  try {
    const lora = loraFlags('sketch', values.lora, io);
    loaded = await loadControlNetPipeline(flags, control.controlnet, io, progress, lora.length ? { lora } : {});
    if (io.signal?.aborted) return 0;
    try {
      live = loaded.pipe.realtime({ prompt, seed, controlMode: control.mode, controlOptions: control.options, controlScale: values['control-scale'] === undefined && embedded?.controlScale !== undefined ? embedded.controlScale : control.scale, ...(width !== undefined ? { width } : {}), ...(height !== undefined ? { height } : {}) });
    } catch (e) {
      throw e instanceof RangeError ? new UsageError(e.message.replace(/^realtime: /, ''), 'sketch') : e;
    }
    const stream = live;
    progress.line(`watching ${values.watch} (seed ${seed}); Ctrl-C to stop`);
    stream.push(first);
    watcher = watchDrawing(drawing, (image) => stream.push(image), progress);
    // Ctrl-C: stop taking frames; the render in flight finishes and is written, then the loop below ends.
    io.signal?.addEventListener('abort', () => void stream.close(), { once: true });
    await mkdir(dirname(out), { recursive: true });
    const params = { prompt, seed, model: loaded.name, scheduler: loaded.pipe.components.schedulerClass, provider: loaded.runtime.provider, dtype: flags.dtype };
    for await (const frame of stream.images) {
      await writeOutput(out, encodePng(frame.image, { text: metadata(params, frame.image) }));
      const skipped = frame.dropped ? `, ${frame.dropped} skipped` : '';
      io.stdout.write(`frame ${frame.frameId}: ${out} in ${formatMs(frame.latencyMs)} (render ${formatMs(frame.renderMs)}${skipped})\n`);
    }
    return 0;
  } finally {
    watcher?.close();
    await live?.close();
    await loaded?.pipe.dispose();
    progress.done();
  }
}

/** drawing.png → drawing-sdxs.png beside it. */
function defaultOut(drawing: string): string {
  const ext = extname(drawing);
  return `${ext ? drawing.slice(0, -ext.length) : drawing}-sdxs.png`;
}

/**
 * Call `onImage` with the drawing each time it settles after a change. The folder is watched, not the file:
 * editors that save by writing a temporary file and renaming it over the old one would end a watch on the file's
 * inode after the first save. Unchanged bytes (a touch, a second event for one save) render nothing; a file read
 * mid-write fails to decode and is skipped with a warning, since its completing write brings another event.
 */
function watchDrawing(path: string, onImage: (image: Awaited<ReturnType<typeof decodeImageFile>>) => void, progress: Reporter): FSWatcher {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let last: Buffer | undefined;
  let reading = Promise.resolve();
  const settle = async () => {
    const bytes = await readFile(path).catch(() => undefined);
    // Missing for a moment while an editor replaces it: the rename brings another event.
    if (!bytes || (last && bytes.equals(last))) return;
    try {
      const image = await decodeImageFile('sketch', '--watch', path, bytes);
      last = bytes;
      onImage(image);
    } catch (e) {
      progress.warn(`skipped a change of ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const watcher = watch(dirname(path), (_event, file) => {
    if (file !== null && file !== name) return;
    clearTimeout(timer);
    // Reads run one after another, so an older read can never push after a newer one.
    timer = setTimeout(() => (reading = reading.then(settle)), DEBOUNCE_MS);
  });
  watcher.on('close', () => clearTimeout(timer));
  watcher.on('error', (e) => progress.warn(`stopped watching ${name}: ${e.message}`));
  return watcher;
}

interface FrameParams {
  readonly prompt: string;
  readonly seed: bigint;
  readonly model: string;
  readonly scheduler: string;
  readonly provider: string;
  readonly dtype: string;
}

/** The PNG text chunks of a frame, as `sdxs generate` writes them. */
function metadata(f: FrameParams, image: { width: number; height: number }): [string, string][] {
  const p: ImageParameters = {
    prompt: f.prompt,
    seed: f.seed,
    steps: 1,
    guidanceScale: 0,
    width: image.width,
    height: image.height,
    batchSize: 1,
    batchIndex: 1,
    model: f.model,
    scheduler: f.scheduler,
    executionProvider: f.provider,
    dtype: f.dtype,
    version: cliVersion(),
  };
  return [['parameters', a1111Parameters(p)], ['sdxs', sdxsParameters(p)]];
}

/** The embedded sketch model (models.json's `sketch`), or a usage error saying to name one. */
function embeddedSketchModel(): EmbeddedModel {
  const m = embeddedModels().sketch;
  if (!m) throw new UsageError('no embedded sketch model; name one with --model (and --controlnet)', 'sketch');
  return m;
}
