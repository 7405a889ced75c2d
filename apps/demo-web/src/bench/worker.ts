// The bench worker: the same benchOneStep as Node's side of the benchmark, on onnxruntime-web's WASM backend.
import { createWebRuntime } from '@sdxs/runtime-web';
// The bench entry by path: the root tsconfig maps `@sdxs/<package>` only, not subpaths like @sdxs/runtime-web/bench.
import { benchOneStep } from '../../../../packages/runtime-web/src/bench.js';
import type { BenchInput, BenchReply } from './protocol.js';

const post = (reply: BenchReply): void => self.postMessage(reply);

self.addEventListener('message', (event: MessageEvent<BenchInput>) => {
  const input = event.data;
  void (async () => {
    try {
      const runtime = await createWebRuntime({ backend: 'wasm', wasmPaths: new URL('/ort/', self.location.href).href, ...(input.threads ? { numThreads: input.threads } : {}) });
      const result = await benchOneStep(runtime, input.networks, input.options, (line) => post({ type: 'log', line }));
      post({ type: 'done', result, threads: runtime.threads });
    } catch (e) {
      post({ type: 'error', message: e instanceof Error ? `${e.message}${e.cause ? ` (${String(e.cause)})` : ''}` : String(e) });
    }
  })();
});
