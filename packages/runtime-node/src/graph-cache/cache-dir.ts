import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where built graphs are cached: `$SDXS_CACHE/graphs` when `SDXS_CACHE` is set (the root of every sdxs cache),
 * else `$XDG_CACHE_HOME/sdxs/graphs`, else `~/.cache/sdxs/graphs`. A relative XDG_CACHE_HOME is ignored, as the
 * XDG base-directory spec says.
 *
 * @example
 * defaultGraphCacheDir({ SDXS_CACHE: '/data/sdxs' }); // '/data/sdxs/graphs'
 */
export function defaultGraphCacheDir(env: Env = process.env, home: string = homedir()): string {
  const sdxs = env.SDXS_CACHE;
  if (sdxs) return join(resolve(sdxs), 'graphs');
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.cache'), 'sdxs', 'graphs');
}
