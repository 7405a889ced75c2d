import { bindCheckpoint, toOnnx, type BindOptions, type Graph } from '@sdxs/graph';
import type { Session, Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { caseFile } from '../links.js';
import type { GoldenCase } from '../types.js';

/**
 * Bind `graph` to the case's model.safetensors and open one CPU session on it, to be run several times (the kink search
 * feeds a different subgradient mask per run). The caller disposes it. `runComponent` is the run-once form.
 */
export async function openCaseSession(c: GoldenCase, graph: Graph, bind?: BindOptions): Promise<Session> {
  const weights = await openSafetensorsFile(caseFile(c.dir, 'model.safetensors'));
  try {
    await bindCheckpoint(graph, [weights], bind);
  } finally {
    await weights.close();
  }
  return createNodeRuntime().createSession(toOnnx(graph), { label: c.name });
}

/** Every tensor of the case's outputs.safetensors (the reference), by name. */
export async function readCaseOutputs(c: GoldenCase): Promise<Map<string, Tensor>> {
  const f = await openSafetensorsFile(caseFile(c.dir, 'outputs.safetensors'));
  try {
    const out = new Map<string, Tensor>();
    for (const n of f.names()) out.set(n, await f.read(n));
    return out;
  } finally {
    await f.close();
  }
}
