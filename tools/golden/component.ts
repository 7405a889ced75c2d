import { readFile } from 'node:fs/promises';
import { bindCheckpoint, toOnnx, type BindOptions, type Graph } from '@sdxs/graph';
import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { caseFile } from './links.js';
import type { GoldenCase } from './types.js';

/** A component case's parsed config.json. */
export async function readCaseConfig(c: GoldenCase): Promise<unknown> {
  const file = caseFile(c.dir, 'config.json');
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Every tensor of a case's inputs.safetensors. */
export async function readCaseInputs(c: GoldenCase): Promise<Map<string, Tensor>> {
  const f = await openSafetensorsFile(caseFile(c.dir, 'inputs.safetensors'));
  try {
    const out = new Map<string, Tensor>();
    for (const n of f.names()) out.set(n, await f.read(n));
    return out;
  } finally {
    await f.close();
  }
}

/**
 * Bind a built graph to the case's model.safetensors through the real loader, run it once on the CPU and
 * return its outputs by name.
 */
export async function runComponent(
  c: GoldenCase,
  graph: Graph,
  feeds: Record<string, Tensor>,
  bindOptions?: (keys: Iterable<string>) => BindOptions,
): Promise<Map<string, Tensor>> {
  const weights = await openSafetensorsFile(caseFile(c.dir, 'model.safetensors'));
  try {
    await bindCheckpoint(graph, [weights], bindOptions?.(weights.entries.keys()));
  } finally {
    await weights.close();
  }
  const session = await createNodeRuntime().createSession(toOnnx(graph), { label: c.name });
  try {
    return new Map(Object.entries(await session.run(feeds)));
  } finally {
    await session.dispose();
  }
}
