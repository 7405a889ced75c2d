/**
 * A Node runtime whose sessions live in a worker process, so a run in flight can be stopped: onnxruntime-node runs
 * a session synchronously on the thread that called it and offers no way to terminate that run from JavaScript,
 * but a process can be killed. When a run's signal aborts, the worker is killed (SIGKILL), the run rejects at once
 * with the signal's reason, and a new worker starts; each session is created again in it on its next use (the
 * model bytes are kept), and runs of other calls that the kill interrupted are retried there. The event loop also
 * stays free while a graph runs. The cost: tensors cross the process boundary (a copy each way), and an abort
 * costs the next call its session creation.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunOptions, RuntimeCapabilities, Session, SessionIO, SessionOptions, Tensor } from '@sdxs/tensor';
import type { ProviderName } from '../providers/types.js';
import type { NodeRuntime } from '../runtime.js';
import { fromWire, toWire, type HostConfig, type Reply, type Request, type RequestBody } from './protocol.js';

type Pending = { resolve: (r: Reply & { ok: true }) => void; reject: (e: unknown) => void };

/** The worker was killed to stop another call's run: runs it interrupted are retried in the next worker. */
class WorkerKilled extends Error {
  override readonly name = 'WorkerKilled';
}

/** Where the worker's entry is: built next to index.js, or (in the repository) the TypeScript source, run with tsx. */
function hostEntry(): { path: string; execArgv: string[] } {
  const built = fileURLToPath(new URL('./isolated-host.js', import.meta.url));
  if (existsSync(built)) return { path: built, execArgv: [] };
  return { path: fileURLToPath(new URL('./host.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
}

/** One worker process and its requests in flight. */
class Worker {
  readonly #proc: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #dead: Error | undefined;

  constructor(config: HostConfig) {
    const entry = hostEntry();
    this.#proc = fork(entry.path, [JSON.stringify(config)], { serialization: 'advanced', execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#proc.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      this.#idle();
      if (reply.ok) p.resolve(reply);
      else p.reject(new Error(reply.message));
    });
    this.#proc.on('exit', (code, signal) => this.#fail(this.#dead ?? new Error(`the onnxruntime worker process exited (${signal ?? `code ${code}`})`)));
    this.#proc.on('error', (e) => this.#fail(e));
    this.#idle();
  }

  get alive(): boolean {
    return this.#dead === undefined;
  }

  request(message: RequestBody): Promise<Reply & { ok: true }> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // A process with work in flight keeps Node alive; an idle one does not.
      this.#proc.ref();
      this.#proc.channel?.ref();
      this.#proc.send({ ...message, id } as Request, (e) => {
        if (e) this.#fail(e);
      });
    });
  }

  /** Kill the process now; requests in flight reject with `reason`. */
  kill(reason: Error): void {
    this.#fail(reason);
    this.#proc.kill('SIGKILL');
  }

  #fail(e: Error): void {
    this.#dead ??= e;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(this.#dead);
    this.#idle();
  }

  #idle(): void {
    if (this.#pending.size > 0) return;
    this.#proc.unref();
    this.#proc.channel?.unref();
  }
}

export interface IsolatedRuntimeStats {
  /** Worker processes started (1 + one per abort that killed a run, or per crash). */
  workers: number;
  /** Sessions created in a worker, re-creations after a restart included. */
  sessionsCreated: number;
  /** Runs retried in a new worker after another call's abort killed theirs. */
  retried: number;
}

class IsolatedSession implements Session {
  readonly inputs: readonly SessionIO[];
  readonly outputs: readonly SessionIO[];
  readonly #runtime: IsolatedNodeRuntime;
  readonly #model: Uint8Array;
  readonly #options: SessionOptions;
  #handle: { worker: Worker; id: Promise<number> } | undefined;
  #disposed = false;

  constructor(runtime: IsolatedNodeRuntime, model: Uint8Array, options: SessionOptions, created: { worker: Worker; id: number; inputs: readonly SessionIO[]; outputs: readonly SessionIO[] }) {
    this.#runtime = runtime;
    this.#model = model;
    this.#options = options;
    this.inputs = created.inputs;
    this.outputs = created.outputs;
    this.#handle = { worker: created.worker, id: Promise.resolve(created.id) };
  }

  /** This session's id in `worker`, created there first when the worker is a new one. */
  #in(worker: Worker): Promise<number> {
    if (this.#handle?.worker !== worker) this.#handle = { worker, id: this.#runtime.create(worker, this.#model, this.#options).then((c) => c.id) };
    return this.#handle.id;
  }

  async run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[], options: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (this.#disposed) throw new Error('session used after dispose()');
    const { signal } = options;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const worker = this.#runtime.worker();
      const onAbort = () => this.#runtime.kill(worker);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const id = await this.#in(worker);
        const reply = await worker.request({ op: 'run', session: id, feeds: toWire(feeds), outputs: outputNames });
        return fromWire(reply.tensors ?? {});
      } catch (e) {
        signal?.throwIfAborted(); // the aborted run rejects with its signal's reason
        // Killed for another call's abort: run again in the next worker (a few times at most).
        if (e instanceof WorkerKilled && attempt < 3) {
          this.#runtime.stats.retried++;
          continue;
        }
        throw e;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const handle = this.#handle;
    this.#handle = undefined;
    if (!handle?.worker.alive) return;
    const id = await handle.id.catch(() => undefined);
    if (id !== undefined) await handle.worker.request({ op: 'dispose', session: id }).catch(() => undefined);
  }
}

/** A NodeRuntime whose sessions run in a worker process that an abort can kill (see the module comment). */
export class IsolatedNodeRuntime implements NodeRuntime {
  readonly name: string;
  readonly provider: ProviderName;
  readonly requested: ProviderName;
  readonly capabilities: RuntimeCapabilities = { externalDataFiles: true };
  readonly stats: IsolatedRuntimeStats = { workers: 0, sessionsCreated: 0, retried: 0 };
  readonly #config: HostConfig;
  #worker: Worker | undefined;

  constructor(provider: ProviderName, requested: ProviderName, config: HostConfig) {
    this.provider = provider;
    this.requested = requested;
    this.name = `onnxruntime-node/${provider} (isolated)`;
    this.#config = config;
  }

  async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const worker = this.worker();
    const created = await this.create(worker, model, options);
    return new IsolatedSession(this, model, options, { worker, ...created });
  }

  /** The live worker, started when there is none. */
  worker(): Worker {
    if (!this.#worker?.alive) {
      this.#worker = new Worker(this.#config);
      this.stats.workers++;
    }
    return this.#worker;
  }

  /** Create a session in `worker`. */
  async create(worker: Worker, model: Uint8Array, options: SessionOptions): Promise<{ id: number; inputs: readonly SessionIO[]; outputs: readonly SessionIO[] }> {
    const reply = await worker.request({ op: 'create', model, options });
    this.stats.sessionsCreated++;
    return { id: reply.session!, inputs: reply.inputs ?? [], outputs: reply.outputs ?? [] };
  }

  /** Kill `worker` to stop a run: the aborted run rejects with its signal's reason, the others are retried. */
  kill(worker: Worker): void {
    if (worker.alive) worker.kill(new WorkerKilled('the onnxruntime worker process was killed to stop another call'));
  }

  /** Stop the worker process (sessions are created again if the runtime is used afterwards). */
  close(): void {
    this.#worker?.kill(new Error('the isolated runtime was closed'));
    this.#worker = undefined;
  }
}

/** Options the worker runs with: the runtime's, without callbacks (they cannot cross processes). */
export function hostConfig(provider: ProviderName, options: HostConfig['options']): HostConfig {
  const { intraOpThreads, graphOptimizationLevel, logSeverityLevel, webgpu, cuda } = options;
  return {
    provider,
    options: {
      ...(intraOpThreads !== undefined ? { intraOpThreads } : {}),
      ...(graphOptimizationLevel ? { graphOptimizationLevel } : {}),
      ...(logSeverityLevel !== undefined ? { logSeverityLevel } : {}),
      ...(webgpu ? { webgpu } : {}),
      ...(cuda ? { cuda } : {}),
    },
  };
}
