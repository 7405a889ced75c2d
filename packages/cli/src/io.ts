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

/**
 * The folder the user typed the command in. `pnpm sdxs …` (the monorepo's script) runs in the repository
 * root, and package managers record the user's folder in INIT_CWD; only that script's runs use it.
 */
export function userCwd(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.npm_lifecycle_event === 'sdxs' && env.INIT_CWD ? env.INIT_CWD : process.cwd();
}

/** The running process's streams and environment. */
export function processIO(signal?: AbortSignal): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), ...(signal ? { signal } : {}) };
}

/** Resolves when `signal` aborts (Ctrl-C, SIGTERM): how the long-running commands (serve, worker) wait to stop. */
export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
