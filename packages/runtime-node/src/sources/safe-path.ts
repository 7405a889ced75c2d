import { isAbsolute, join, normalize } from 'node:path';

/**
 * Join a model-relative path (from a config, an index file or a caller) onto a root folder, refusing
 * anything that could name a file outside it: `..` segments, absolute, drive or UNC paths, NUL bytes.
 */
export function resolveInside(root: string, relative: string): string {
  if (
    relative === '' ||
    relative.includes('\0') ||
    relative.includes('\\') ||
    isAbsolute(relative) ||
    /^[a-zA-Z]:/.test(relative) ||
    relative.split('/').some((s) => s === '..')
  ) {
    throw new Error(`refusing model path ${JSON.stringify(relative)}: it must stay inside ${root}`);
  }
  return join(root, normalize(relative));
}
