import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** This package's version, read from its package.json (found upward from this file: src/ or dist/). */
export function cliVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === '@sdxs/cli' && 'version' in pkg && typeof pkg.version === 'string') {
        return (cached = pkg.version);
      }
    } catch {
      // not here; look one folder up
    }
  }
  return (cached = 'unknown');
}
