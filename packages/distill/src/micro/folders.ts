import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from '@sdxs/tensor';
import { writeSafetensorsFile } from '@sdxs/tensor/node';

/**
 * Write a component folder (config.json + one safetensors file) atomically: into a temporary sibling, then renamed
 * over `dir`, so a reader never sees half a folder.
 */
export async function writeComponentFolder(dir: string, config: unknown, weights: ReadonlyMap<string, Tensor>, file: string, extra: Record<string, string> = {}): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await writeSafetensorsFile(join(tmp, file), Object.fromEntries([...weights].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  for (const [name, text] of Object.entries(extra)) await writeFile(join(tmp, name), text);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}
