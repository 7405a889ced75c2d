/** Where a CLI run reads and writes: the process's streams, or test doubles. */

/** A text stream; `isTTY` and `columns` say whether progress can be drawn in place. */
export interface OutStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): boolean;
}

export interface CliIO {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Environment for defaults (HF_* and SDXS_CACHE). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Base of relative paths. */
  readonly cwd: string;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
}

/** The running process's streams and environment. */
export function processIO(signal?: AbortSignal): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), ...(signal ? { signal } : {}) };
}
