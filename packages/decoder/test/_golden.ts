// Shared by the golden tests: open a case's files (links followed) and measure errors as the runner does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bindCheckpoint, toOnnx, type Graph } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { caseFile } from '../../../tools/golden/links.js';

export const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

export function caseConfig(name: string): unknown {
  return JSON.parse(readFileSync(caseFile(`${GOLDEN}${name}`, 'config.json'), 'utf8'));
}

/** A case's case.json. */
export function caseSpec(name: string): Record<string, unknown> {
  const spec: unknown = JSON.parse(readFileSync(`${GOLDEN}${name}/case.json`, 'utf8'));
  if (typeof spec !== 'object' || spec === null) throw new Error(`${name}/case.json: not an object`);
  return { ...spec };
}

/** Every tensor of one of a case's safetensors files. */
export async function caseTensors(name: string, file: 'inputs.safetensors' | 'outputs.safetensors'): Promise<Map<string, Tensor>> {
  const f = await openSafetensorsFile(caseFile(`${GOLDEN}${name}`, file));
  try {
    return await f.readAll();
  } finally {
    await f.close();
  }
}

/** Bind `graph` to the case's model.safetensors with the real loader, run it once on the CPU. */
export async function runWithCaseWeights(name: string, graph: Graph, ignore: readonly RegExp[], feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const weights = await openSafetensorsFile(caseFile(`${GOLDEN}${name}`, 'model.safetensors'));
  try {
    await bindCheckpoint(graph, [weights], { ignore });
  } finally {
    await weights.close();
  }
  const session = await createNodeRuntime().createSession(toOnnx(graph), { label: name });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** Max absolute error divided by the reference's largest magnitude (the golden tolerance's measure). */
export function relativeError(actual: Tensor | undefined, expected: Tensor | undefined): number {
  if (!actual || !expected) throw new Error('missing tensor');
  if (actual.shape.join() !== expected.shape.join()) throw new Error(`shape [${actual.shape}] vs reference [${expected.shape}]`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.size; i++) {
    const e = Number(expected.data[i]);
    const d = Math.abs(Number(actual.data[i]) - e);
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, d);
    scale = Math.max(scale, Math.abs(e));
  }
  return maxAbs / (scale || 1);
}
