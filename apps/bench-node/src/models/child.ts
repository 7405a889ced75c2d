/**
 * Entry point of a measuring child process: `child.ts '<job JSON>'`, forked by spawn.ts with an IPC channel.
 * Replies once with a ChildReply and exits; progress lines go to stdout.
 */
import type { ChildReply, Job, JobResult } from './jobs.js';
import { measureLoad, writeWeights } from './load-check.js';
import { measureConfig } from './measure-config.js';
import { measureFused } from './measure-fused.js';

function run(job: Job, log: (s: string) => void): Promise<JobResult> {
  switch (job.kind) {
    case 'config':
      return measureConfig(job, log);
    case 'fused':
      return measureFused(job, log);
    case 'write-weights':
      return writeWeights(job, log);
    case 'load':
      return measureLoad(job, log);
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
