/**
 * The checkpoint file under a virtual folder's weight files: opened when the first of them is opened and closed
 * when the last is closed, so a pipeline's dispose (which closes its weight files) leaves no file handle behind.
 */
import type { ByteSource } from '@sdxs/tensor';

/**
 * A {@link ByteSource} opened on demand and shared by reference count.
 *
 * @example
 * const shared = new SharedByteSource('model.safetensors', size, () => FileByteSource.open('model.safetensors'));
 * shared.acquire(); await shared.read(0, 8); await shared.release(); // the file is closed again
 */
export class SharedByteSource implements ByteSource {
  readonly #open: () => Promise<ByteSource>;
  #current: Promise<ByteSource> | undefined;
  #users = 0;

  constructor(
    readonly name: string,
    readonly size: number,
    open: () => Promise<ByteSource>,
  ) {
    this.#open = open;
  }

  /** One more reader holds the file open. */
  acquire(): void {
    this.#users++;
  }

  /** A reader is done; the last one closes the file (a later read opens it again). */
  async release(): Promise<void> {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users > 0 || this.#current === undefined) return;
    const current = this.#current;
    this.#current = undefined;
    await (await current).close?.();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.#current ??= this.#open();
    return (await this.#current).read(offset, length);
  }
}
