/** The bench page: runs the benchmark in a worker when the driver calls `sdxsBench(input)`. */
// The bench entry by path: the root tsconfig maps `@sdxs/<package>` only, not subpaths like @sdxs/runtime-web/bench.
import type { BenchResult } from '../../../../packages/runtime-web/src/bench.js';
import type { BenchInput, BenchReply } from './protocol.js';

declare global {
  interface Window {
    sdxsBench?: (input: BenchInput) => Promise<{ result: BenchResult; threads: number }>;
  }
}

const log = document.querySelector('#log');

window.sdxsBench = (input) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'sdxs-bench' });
    worker.addEventListener('error', (e) => reject(new Error(`bench worker failed: ${e.message}`)));
    worker.addEventListener('message', (event: MessageEvent<BenchReply>) => {
      const reply = event.data;
      if (reply.type === 'log') {
        if (log) log.textContent += `${reply.line}\n`;
        console.log(reply.line);
      } else {
        worker.terminate();
        if (reply.type === 'done') resolve({ result: reply.result, threads: reply.threads });
        else reject(new Error(reply.message));
      }
    });
    worker.postMessage(input);
  });
document.body.dataset.state = 'ready';
