/**
 * What one generate call carries besides its numbers: its abort signal and its own progress callback, next to
 * the one given at load. Pipelines check the signal before and after every graph run (text encoder, each
 * denoising step, the fused one-step graph, decode), so an aborted call never returns images and never starts
 * another run, and hand it to the run itself: in-process onnxruntime-node runs a session synchronously and offers no
 * way to stop it from JavaScript, so that run finishes and its outputs are dropped; the isolated Node runtime
 * (sessions in a worker process) kills the process and rejects at once.
 */
import type { Session, Tensor } from '@sdxs/tensor';
import type { ProgressCallback, ProgressEvent } from './progress.js';

/** Throw the signal's reason (an AbortError DOMException for `controller.abort()`) when it has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof Error ? reason : new DOMException(reason === undefined ? 'generate: aborted' : String(reason), 'AbortError');
}

/** One callback that tells each of `callbacks` (undefined ones skipped), or undefined when none is set. */
export function progressTo(...callbacks: ReadonlyArray<ProgressCallback | undefined>): ProgressCallback | undefined {
  const set = callbacks.filter((c): c is ProgressCallback => c !== undefined);
  if (set.length === 0) return undefined;
  if (set.length === 1) return set[0];
  return (event: ProgressEvent) => {
    for (const c of set) c(event);
  };
}

/** `session.run` between two abort checks: nothing starts after an abort, and nothing computed after one is returned. */
export async function runUnlessAborted(session: Session, feeds: Readonly<Record<string, Tensor>>, outputs: readonly string[], signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
  throwIfAborted(signal);
  // A runtime that can stop a run in flight (openNodeRuntime({ isolate: true })) rejects as soon as the signal aborts.
  const out = await session.run(feeds, outputs, signal ? { signal } : undefined);
  throwIfAborted(signal);
  return out;
}
