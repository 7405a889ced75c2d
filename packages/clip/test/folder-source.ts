import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSource, ModelSource } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { resolveGoldenPath } from '../../../tools/golden/links.js';

/**
 * A local folder as a ModelSource, for tests. Golden files may be links stored as text (a checkout without
 * symlinks), so paths go through the golden runner's link resolution.
 */
export function folderSource(root: string): ModelSource {
  const real = (path: string): string => resolveGoldenPath(join(root, path));
  return {
    id: root,
    async exists(path: string): Promise<boolean> {
      return stat(join(root, path)).then(
        (s) => s.isFile(),
        () => false,
      );
    },
    async readText(path: string): Promise<string> {
      return readFile(real(path), 'utf8');
    },
    async open(path: string): Promise<ByteSource> {
      return FileByteSource.open(real(path));
    },
  };
}
