/**
 * Entry point of a measuring child process: `child.ts '<job JSON>'`, forked by spawn.ts with an IPC channel.
 * Replies once with a ChildReply and exits; progress lines go to stdout.
 */
import type { ChildReply, Job, JobResult } from './jobs.js';

// Each job loads only the modules it needs: a child measuring the stages does not load @sdxs/pipeline, and a
// load check child does not load the model packages it does not use — less to go wrong, less resident memory.
async function run(job: Job, log: (s: string) => void): Promise<JobResult> {
  switch (job.kind) {
    case 'config':
      return (await import('./measure-config.js')).measureConfig(job, log);
    case 'fused':
      return (await import('./measure-fused.js')).measureFused(job, log);
    case 'write-weights':
      return (await import('./load-check.js')).writeWeights(job, log);
    case 'load':
      return (await import('./load-check.js')).measureLoad(job, log);
    case 'write-model':
      return (await import('./synthetic-folder.js')).writeModel(job, log);
  }
}

async function main(): Promise<void> {
  const send = (reply: ChildReply) => new Promise<void>((resolve) => (process.send ? process.send(reply, () => resolve()) : resolve()));
  try {
    const arg = process.argv[2];
    if (!arg || !process.send) throw new Error('child.ts is run by the models suite (spawn.ts), with a job and an IPC channel');
    // The job was serialized by spawn.ts from a typed Job one line earlier in the same program.
    const job = JSON.parse(arg) as Job;
    await send({ ok: true, result: await run(job, (s) => console.log(`    ${s}`)) });
  } catch (e) {
    await send({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  // onnxruntime's thread pools and any pending handles must not keep a finished child alive.
  process.exit(0);
}

void main();
