/**
 * Run a Job in a fresh Node process: peak RSS is per process, so every configuration gets one of its own and
 * reports an honest peak. The child runs under the same loader as the parent (tsx's flags are in execArgv) and
 * with --expose-gc, so it can drop a stage's JS-side weights before building the next.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isResultOf, type ChildReply, type Job, type ResultOf } from './jobs.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

function isReply(m: unknown): m is ChildReply {
  return typeof m === 'object' && m !== null && 'ok' in m && typeof m.ok === 'boolean';
}

/**
 * Fork child.ts with `job`; resolves with its result, rejects with its error or a crash (e.g. out of memory).
 *
 * @example
 * const r = await runInChild({ kind: 'config', ep: 'cpu', width: 256, height: 256, batch: 1, runs: 2, seed: 0, matmulPeakGflops: 400 });
 */
export function runInChild<J extends Job>(job: J): Promise<ResultOf<J['kind']>> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(job)], { execArgv: [...process.execArgv, '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let reply: ChildReply | undefined;
    child.on('message', (m: unknown) => {
      if (isReply(m)) reply = m;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!reply) reject(new Error(`${job.kind} child exited (${signal ?? `code ${code}`}) without a result`));
      else if (!reply.ok) reject(new Error(`${job.kind} child: ${reply.error}`));
      else if (isResultOf<J['kind']>(reply.result, job.kind)) resolve(reply.result);
      else reject(new Error(`${job.kind} child answered with another kind of result`));
    });
  });
}
