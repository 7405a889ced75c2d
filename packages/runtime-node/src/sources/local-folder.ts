import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ByteSource, ModelSource } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { resolveInside } from './safe-path.js';

/**
 * A model folder on disk (a diffusers folder, or a Hugging Face cache snapshot, whose files are symlinks
 * into `blobs/`: they are followed).
 *
 * @example
 * const source = new LocalFolderSource('./sdxs-512-dreamshaper');
 * const config = JSON.parse(await source.readText('unet/config.json'));
 */
export class LocalFolderSource implements ModelSource {
  readonly id: string;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.id = this.root;
  }

  /** The absolute path of a file in the folder. */
  path(relative: string): string {
    return resolveInside(this.root, relative);
  }

  /** The same as `path`: the pipeline hands it to the runtime, which reads weights from the file itself. */
  localPath(relative: string): string {
    return this.path(relative);
  }

  async exists(relative: string): Promise<boolean> {
    try {
      return (await stat(this.path(relative))).isFile();
    } catch (e) {
      if (e instanceof Error && 'code' in e && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return false;
      throw e;
    }
  }

  async readText(relative: string): Promise<string> {
    const p = this.path(relative);
    try {
      return await readFile(p, 'utf8');
    } catch (e) {
      // The errno's code, not its message: the message repeats the path.
      const code = e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
      throw new Error(`${p}: cannot read (${code ?? (e instanceof Error ? e.message : String(e))})`);
    }
  }

  open(relative: string): Promise<ByteSource> {
    return FileByteSource.open(this.path(relative));
  }
}
