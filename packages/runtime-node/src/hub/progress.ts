/** Where a download stands, reported after every chunk (and when a file starts or completes). */
export interface DownloadProgress {
  /** The repo path this event is about. */
  file: string;
  /** Bytes of `file` on disk so far (a resumed file starts at its partial size). */
  fileBytes: number;
  fileTotal: number;
  /** All files of this call together. */
  bytes: number;
  total: number;
  /** Files finished (downloaded and committed to the cache) and files to fetch in all. */
  filesDone: number;
  filesTotal: number;
}

export type DownloadProgressCallback = (progress: DownloadProgress) => void;

/** Sums per-file byte counts into overall progress for one download call. */
export class ProgressTracker {
  readonly #files = new Map<string, { bytes: number; total: number }>();
  readonly #onProgress: DownloadProgressCallback | undefined;
  #filesDone = 0;

  constructor(files: ReadonlyArray<{ path: string; size: number }>, onProgress: DownloadProgressCallback | undefined) {
    for (const f of files) this.#files.set(f.path, { bytes: 0, total: f.size });
    this.#onProgress = onProgress;
  }

  /** Sets a file's byte count (it may go down: a resume answered with the whole file restarts at 0). */
  update(file: string, bytes: number): void {
    const entry = this.#files.get(file);
    if (!entry) return;
    entry.bytes = bytes;
    this.#emit(file);
  }

  finish(file: string): void {
    const entry = this.#files.get(file);
    if (!entry) return;
    entry.bytes = entry.total;
    this.#filesDone++;
    this.#emit(file);
  }

  #emit(file: string): void {
    if (!this.#onProgress) return;
    const entry = this.#files.get(file);
    if (!entry) return;
    let bytes = 0;
    let total = 0;
    for (const f of this.#files.values()) {
      bytes += f.bytes;
      total += f.total;
    }
    this.#onProgress({ file, fileBytes: entry.bytes, fileTotal: entry.total, bytes, total, filesDone: this.#filesDone, filesTotal: this.#files.size });
  }
}

/** What the renderer writes to: `process.stderr` by default. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export interface ProgressBarOptions {
  stream?: ProgressStream;
  /** Redraw at most this often (default 100 ms); the last state is always drawn by `done()`. */
  intervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** A one-line terminal progress bar; `update` is a {@link DownloadProgressCallback}. */
export interface ProgressBar {
  update: DownloadProgressCallback;
  /** Draws the final state and ends the line (if anything was drawn). */
  done(): void;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** `1234567` → `'1.2 MB'` (decimal units, as the hub's web pages show sizes). */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * The bar line for a progress state, fitted to `columns`: the bar shrinks first, then the file name loses its start.
 *
 * @example
 * renderProgressLine(progress, 80); // '[#########.....................]  30% 1.2 GB/3.9 GB 2/12 files unet/diffusion_…'
 */
export function renderProgressLine(p: DownloadProgress, columns: number): string {
  const fraction = p.total > 0 ? Math.min(1, p.bytes / p.total) : 1;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const counts = `${formatBytes(p.bytes)}/${formatBytes(p.total)} ${p.filesDone}/${p.filesTotal} files`;
  const room = columns - 1; // the last column would wrap on some terminals
  const width = Math.max(10, Math.min(30, room - 2 - percent.length - counts.length - p.file.length - 3));
  const filled = Math.round(fraction * width);
  const head = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent} ${counts}`;
  const left = room - head.length - 1;
  if (left < 2) return head.slice(0, Math.max(0, room));
  const file = p.file.length <= left ? p.file : `…${p.file.slice(p.file.length - left + 1)}`;
  return `${head} ${file}`;
}

/**
 * A throttled one-line progress bar for terminals, redrawn in place with `\r`. When the stream is not a TTY
 * (a pipe, a log file, CI) it prints nothing at all.
 *
 * @example
 * const bar = createProgressBar();
 * try { await resolveModel('IDKiro/sdxs-512-dreamshaper', { onProgress: bar.update }); } finally { bar.done(); }
 */
export function createProgressBar(options: ProgressBarOptions = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 100;
  const now = options.now ?? Date.now;
  let last: DownloadProgress | undefined;
  let drawnAt = -Infinity;
  let drawn = false;
  let pending = false;
  const draw = (p: DownloadProgress): void => {
    drawn = true;
    pending = false;
    drawnAt = now();
    // \x1b[K clears what a longer previous line left behind.
    stream.write(`\r${renderProgressLine(p, stream.columns ?? 80)}\x1b[K`);
  };
  return {
    update(p) {
      if (!stream.isTTY) return;
      last = p;
      pending = true;
      if (now() - drawnAt >= interval) draw(p);
    },
    done() {
      if (!stream.isTTY) return;
      if (last && pending) draw(last);
      if (drawn) stream.write('\n');
      last = undefined;
      drawn = false;
      drawnAt = -Infinity;
    },
  };
}
