import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor, type ByteSource, type ModelSource } from '@sdxs/tensor';
import { FileByteSource } from '@sdxs/tensor/node';
import { caseFile } from './links.js';

/**
 * A component case folder as a model folder (config.json + model.safetensors, sub-models in subfolders), with the
 * shared data's link files followed, so the product's real loaders (`loadUNet`, `loadControlNet`) read it.
 */
export class CaseSource implements ModelSource {
  constructor(readonly id: string) {}
  async exists(path: string): Promise<boolean> {
    return existsSync(join(this.id, path)) && existsSync(caseFile(this.id, path));
  }
  async readText(path: string): Promise<string> {
    return readFile(caseFile(this.id, path), 'utf8');
  }
  async open(path: string): Promise<ByteSource> {
    return FileByteSource.open(caseFile(this.id, path));
  }
}

/** diffusers passes integer timesteps; the graphs' timestep input is float32 (exact for t < 2^24). */
export function timestepAsFloat32(t: Tensor): Tensor {
  return t.dtype === 'float32' ? t : new Tensor('float32', t.shape, Float32Array.from(t.toArray()));
}
