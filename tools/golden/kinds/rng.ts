import { Generator } from '@sdxs/tensor';
import type { KindResult, GoldenCase } from '../types.js';

interface RngEntry {
  seed: number;
  shape: number[];
  /** 1 or 2: first or second consecutive draw from one generator. */
  draw?: number;
}

function isEntry(v: unknown): v is RngEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.seed === 'number' && Array.isArray(e.shape) && e.shape.every((d) => Number.isInteger(d));
}

/** `rng`: torch.randn(shape, generator=torch.Generator().manual_seed(seed)), compared bit for bit. */
export async function runRng(c: GoldenCase): Promise<KindResult> {
  const outputs = new Map();
  for (const [name, entry] of Object.entries(c.spec)) {
    if (name === 'kind') continue;
    if (!isEntry(entry)) throw new Error(`${c.name}/case.json: entry ${name} needs "seed" and "shape"`);
    const g = new Generator(entry.seed);
    let t = g.randn(entry.shape);
    for (let d = 1; d < (entry.draw ?? 1); d++) t = g.randn(entry.shape);
    outputs.set(name, t);
  }
  return { outputs, tolerance: { exact: true } };
}
