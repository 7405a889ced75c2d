import type { WorkerProgress } from '@sdxs/runtime-web';

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;
}

/** A one-line description of a progress event, or undefined when the phase ended (nothing to show). */
export function describeProgress(e: WorkerProgress): string | undefined {
  switch (e.stage) {
    case 'download':
      if (e.done) return e.cached ? `${e.file}: from the cache` : `${e.file}: downloaded (${mb(e.loaded)})`;
      return e.total ? `Downloading ${e.file}: ${Math.floor((100 * e.loaded) / e.total)}% of ${mb(e.total)}` : `Downloading ${e.file}: ${mb(e.loaded)}`;
    case 'load':
      return e.ms === undefined ? `Reading ${e.component}…` : undefined;
    case 'build':
      return e.ms === undefined ? `Building the ${e.graph} graph…` : undefined;
    case 'session':
      return e.ms === undefined ? `Loading weights and creating the ${e.graph} session…` : undefined;
    case 'encode':
      return e.ms === undefined ? 'Encoding the prompt…' : undefined;
    case 'step':
      return `Step ${e.step}/${e.steps} (${e.ms.toFixed(0)} ms)`;
    case 'decode':
      return undefined;
  }
}
