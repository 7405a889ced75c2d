import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The hub settings huggingface_hub reads from the environment, resolved the same way. */
export interface HubEnv {
  /** `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub` (`HF_HOME` defaults to `$XDG_CACHE_HOME/huggingface`, then `~/.cache/huggingface`). */
  cacheDir: string;
  /** `HF_ENDPOINT` without a trailing slash, default `https://huggingface.co`. */
  endpoint: string;
  /** `HF_TOKEN` (or the legacy `HUGGING_FACE_HUB_TOKEN`), else the token file `huggingface-cli login` wrote. */
  token: string | undefined;
  /** `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) set to 1/ON/YES/TRUE: no request at all. */
  offline: boolean;
  /** Seconds of silence before a request is given up: `HF_HUB_DOWNLOAD_TIMEOUT`, default 30 s (as milliseconds). */
  timeoutMs: number;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_TIMEOUT_MS = 30_000;

type Env = Readonly<Record<string, string | undefined>>;

/** huggingface_hub's `_is_true`. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.toUpperCase());
}

/** Python's `os.path.expanduser` then `os.path.expandvars` ($NAME and ${NAME}; unknown names stay as written). */
function expandPath(path: string, env: Env, home: string): string {
  const user = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
  return user.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a: string | undefined, b: string | undefined) => env[a ?? b ?? ''] ?? whole);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Reads the hub settings from `env` (default `process.env`), so that sdxs and Python tools share one cache,
 * one endpoint and one login.
 *
 * @example
 * const { cacheDir, offline } = hubEnv(); // e.g. '/home/me/.cache/huggingface/hub', false
 */
export function hubEnv(env: Env = process.env, home: string = homedir()): HubEnv {
  const hfHome = expandPath(nonEmpty(env.HF_HOME) ?? join(nonEmpty(env.XDG_CACHE_HOME) ?? join(home, '.cache'), 'huggingface'), env, home);
  const cacheDir = expandPath(nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? join(hfHome, 'hub'), env, home);
  const endpoint = (nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const seconds = Number(env.HF_HUB_DOWNLOAD_TIMEOUT);
  return {
    cacheDir,
    endpoint,
    token: nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN) ?? readTokenFile(expandPath(nonEmpty(env.HF_TOKEN_PATH) ?? join(hfHome, 'token'), env, home)),
    offline: isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE),
    timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_TIMEOUT_MS,
  };
}

function readTokenFile(path: string): string | undefined {
  try {
    return nonEmpty(readFileSync(path, 'utf8').trim());
  } catch {
    // No login (or an unreadable file): anonymous access, as huggingface_hub does.
    return undefined;
  }
}
