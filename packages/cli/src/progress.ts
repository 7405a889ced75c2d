/**
 * Progress on stderr for the slow parts (download, graph build, session creation, sampling): on a terminal
 * one line redrawn in place; in a pipe or log plain lines, one per event worth knowing about. stdout stays
 * free for results.
 */
import type { ProgressEvent } from '@sdxs/pipeline';
import { createProgressBar, formatBytes, type DownloadProgress, type ProgressBar } from '@sdxs/runtime-node';
import type { OutStream } from './io.js';

export interface ReporterOptions {
  /** No progress at all (warnings are still printed). */
  readonly quiet?: boolean;
  /** Also report quick phases (component loads, cache hits). */
  readonly verbose?: boolean;
}

/** `1234.5` ms → `'1.2 s'`; under a second in ms. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Renders download and pipeline progress for one CLI run.
 *
 * @example
 * const progress = new Reporter(process.stderr);
 * await resolveModel(id, { onProgress: progress.download });
 * StableDiffusionPipeline.load(source, runtime, { onProgress: progress.pipeline });
 */
export class Reporter {
  readonly #stream: OutStream;
  readonly #quiet: boolean;
  readonly #verbose: boolean;
  readonly #tty: boolean;
  #bar: ProgressBar | undefined;
  /** Text drawn in place (TTY) and not yet ended by a newline. */
  #open = false;
  #lastFile = '';
  #filesReported = 0;

  constructor(stream: OutStream, options: ReporterOptions = {}) {
    this.#stream = stream;
    this.#quiet = options.quiet ?? false;
    this.#verbose = options.verbose ?? false;
    this.#tty = stream.isTTY === true;
  }

  /** A finished line (ends whatever was drawn in place). */
  line(text: string): void {
    if (this.#quiet) return;
    this.#endBar();
    this.#stream.write(this.#open ? `\r${text}\x1b[K\n` : `${text}\n`);
    this.#open = false;
  }

  /** A warning: printed even with --quiet. */
  warn(text: string): void {
    this.#endBar();
    if (this.#open) this.#stream.write('\n');
    this.#open = false;
    this.#stream.write(`warning: ${text}\n`);
  }

  /** Something in progress: drawn in place on a terminal, a plain line elsewhere. */
  status(text: string): void {
    if (this.#quiet) return;
    this.#endBar();
    if (this.#tty) {
      this.#stream.write(`\r${text}\x1b[K`);
      this.#open = true;
    } else this.#stream.write(`${text}\n`);
  }

  /** Something in progress worth showing only on a terminal, where the next output replaces it. */
  transient(text: string): void {
    if (this.#tty) this.status(text);
  }

  /** Hub download progress (a {@link DownloadProgress} callback). */
  readonly download = (p: DownloadProgress): void => {
    if (this.#quiet) return;
    if (this.#tty) {
      if (this.#open) {
        this.#stream.write('\n');
        this.#open = false;
      }
      this.#bar ??= createProgressBar({ stream: this.#stream });
      this.#bar.update(p);
      return;
    }
    // Plain output: one line per finished file, not per chunk.
    if (p.filesDone > this.#filesReported || (p.fileBytes === p.fileTotal && p.file !== this.#lastFile)) {
      this.#filesReported = p.filesDone;
      this.#lastFile = p.file;
      this.#stream.write(`downloaded ${p.file} (${formatBytes(p.fileTotal)}), ${p.filesDone}/${p.filesTotal} files, ${formatBytes(p.bytes)}/${formatBytes(p.total)}\n`);
    }
  };

  /** Pipeline progress (a @sdxs/pipeline ProgressCallback). */
  readonly pipeline = (e: ProgressEvent): void => {
    switch (e.stage) {
      case 'load':
        if (this.#verbose && e.ms !== undefined) this.line(`loaded ${e.component} (${formatMs(e.ms)})`);
        return;
      case 'build':
        if (e.ms === undefined) this.status(`building the ${e.graph} graph…`);
        else if (!e.cached) this.line(`built the ${e.graph} graph in ${formatMs(e.ms)}`);
        else if (this.#verbose) this.line(`${e.graph} graph from the cache (${formatMs(e.ms)})`);
        return;
      case 'session':
        if (e.ms === undefined) this.status(`creating the ${e.graph} session…`);
        else this.line(`${e.graph} session ready in ${formatMs(e.ms)}`);
        return;
      case 'encode':
        if (e.ms !== undefined && this.#verbose) this.line(`encoded ${e.prompts} prompt(s) in ${formatMs(e.ms)}${e.cached ? ` (${e.cached} cached)` : ''}`);
        return;
      case 'step': {
        const text = `step ${e.step}/${e.steps} (t=${Math.round(e.timestep)}) ${formatMs(e.ms)}`;
        // A terminal shows every step in place; a log gets about ten lines however many steps there are.
        if (e.step === e.steps) this.line(e.steps === 1 ? `denoised in ${formatMs(e.ms)}` : text);
        else if (this.#tty || e.step % Math.ceil(e.steps / 10) === 0) this.status(text);
        return;
      }
      case 'decode':
        if (this.#verbose) this.line(`decoded in ${formatMs(e.ms)}`);
        return;
    }
  };

  /** End an in-place line or bar, if any (call before printing elsewhere, and at exit). */
  done(): void {
    this.#endBar();
    if (this.#open) this.#stream.write('\n');
    this.#open = false;
  }

  #endBar(): void {
    if (!this.#bar) return;
    this.#bar.done();
    this.#bar = undefined;
  }
}
