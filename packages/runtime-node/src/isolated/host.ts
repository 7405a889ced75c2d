/**
 * The worker process of an isolated runtime (isolated/runtime.ts): an ordinary onnxruntime-node runtime that
 * creates, runs and disposes sessions on request. It exits when its parent goes away; the parent kills it to stop a
 * run in flight.
 */
import { openNodeRuntime, type NodeRuntime } from '../runtime.js';
import type { Session } from '@sdxs/tensor';
import { fromWire, toWire, type HostConfig, type Reply, type Request } from './protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as HostConfig;
const send = (reply: Reply) => process.send?.(reply);
const sessions = new Map<number, Session>();
let next = 1;
let runtime: Promise<NodeRuntime> | undefined;

async function handle(r: Request): Promise<Reply> {
  runtime ??= openNodeRuntime({ ...config.options, provider: config.provider, fallback: false });
  const rt = await runtime;
  switch (r.op) {
    case 'create': {
      const s = await rt.createSession(r.model, r.options);
      const id = next++;
      sessions.set(id, s);
      return { id: r.id, ok: true, session: id, inputs: s.inputs, outputs: s.outputs };
    }
    case 'run': {
      const s = sessions.get(r.session);
      if (!s) throw new Error(`no session ${r.session} in the worker`);
      return { id: r.id, ok: true, tensors: toWire(await s.run(fromWire(r.feeds), r.outputs)) };
    }
    case 'dispose': {
      await sessions.get(r.session)?.dispose();
      sessions.delete(r.session);
      return { id: r.id, ok: true };
    }
  }
}

process.on('message', (r: Request) => {
  handle(r).then(send, (e: unknown) => send({ id: r.id, ok: false, message: e instanceof Error ? e.message : String(e) }));
});
// The parent's end of the channel closing (it exited or was killed) ends this process too.
process.on('disconnect', () => process.exit(0));
