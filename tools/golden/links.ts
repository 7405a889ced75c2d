import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * ../shared/golden stores identical files once and links the copies with relative symlinks — but a checkout
 * made without symlink support (git core.symlinks=false) leaves each link as a small text file holding the
 * target path. Follow either kind, so the runner reads the real bytes. This is about the development data
 * only; product code follows real symlinks as the OS does (Hugging Face caches use them).
 */
export function resolveGoldenPath(path: string, depth = 0): string {
  if (depth > 8) throw new Error(`${path}: too many levels of links`);
  const st = statSync(path);
  if (!st.isFile() || st.size > 512) return path;
  const text = readFileSync(path, 'utf8').trim();
  if (!/^(\.\.?\/)[^\n\0]*$/.test(text)) return path;
  const target = resolve(dirname(path), text);
  return existsSync(target) ? resolveGoldenPath(target, depth + 1) : path;
}

/** A file of a case folder, links followed. */
export function caseFile(caseDir: string, name: string): string {
  return resolveGoldenPath(join(caseDir, name));
}
