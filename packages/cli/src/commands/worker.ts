/**
 * `sdxs worker --queue redis://…`: runs the image jobs `sdxs serve --queue` puts on Redis, batching the jobs it
 * holds at once. Start as many as you like, on any machines; a worker that dies mid-job loses nothing (the job
 * goes back to the queue when its lock expires and another worker runs it).
 */
import { batchBuckets, LocalEngine, startQueueWorker } from '@sdxs/server';
import { COMMON_HELP, intFlag, numberFlag, parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import { untilAborted, type CliIO } from '../io.js';
import { LORA_HELP, LORA_OPTIONS, loraFlags, MODEL_HELP, MODEL_OPTIONS } from '../model.js';
import { formatMs, Reporter } from '../progress.js';
import { loadServedModels } from '../serve-models.js';
import { cliVersion } from '../version.js';

export const WORKER_HELP = `Usage: sdxs worker --queue <redis://host:port> [--model <dir|repo>]… [options]

Run the jobs of \`sdxs serve --queue\` from BullMQ on Redis until Ctrl-C (then finish the jobs in hand).

Options:
      --queue <redis://…>  the Redis that \`sdxs serve --queue\` uses (required)
      --queue-name <name>  the BullMQ queue (default sdxs-images)
  -m, --model <dir|repo>   a model to run (repeat for several). Default: the embedded models
      --controlnet <dir|repo>  a ControlNet for the first model
      --max-batch <n>      most images in one batched run (default 8)
      --batch-wait-ms <ms> longest a job waits for others to batch with (default 10)
      --lock-ms <ms>       a job's lock; a dead worker's job is retried after it (default 10000)
      --steps <n>          default steps for models without their own (default 1)
      --guidance <g>       default guidance for models without their own (default 0)

Model options:
${MODEL_HELP}
${LORA_HELP}

${COMMON_HELP}

Example:
  sdxs worker --queue redis://10.0.0.5:6379 --model IDKiro/sdxs-512-dreamshaper --ep cuda`;

const OPTIONS = {
  ...MODEL_OPTIONS,
  ...LORA_OPTIONS,
  model: { type: 'string', short: 'm', multiple: true },
  controlnet: { type: 'string' },
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  'max-batch': { type: 'string' },
  'batch-wait-ms': { type: 'string' },
  'lock-ms': { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
} as const;

/**
 * Run `sdxs worker`; resolves to 0 after Ctrl-C.
 *
 * @example
 * await runWorker(['--queue', 'redis://127.0.0.1:6379'], processIO(signal));
 */
export async function runWorker(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommand('worker', argv, OPTIONS);
  if (values.help) {
    io.stdout.write(`${WORKER_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}; name models with --model`, 'worker');
  if (values.queue === undefined) throw new UsageError('--queue redis://host:port is required', 'worker');
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  const maxBatch = intFlag('worker', 'max-batch', values['max-batch'], 1, 64) ?? 8;
  const lockDurationMs = intFlag('worker', 'lock-ms', values['lock-ms'], 500, 3_600_000) ?? 10_000;
  const loaded = await loadServedModels(
    'worker',
    { ...values, model: undefined },
    { models: values.model ?? [], controlnet: values.controlnet, steps: intFlag('worker', 'steps', values.steps, 1, 1000), guidance: numberFlag('worker', 'guidance', values.guidance), lora: loraFlags('worker', values.lora, io), maxSessions: batchBuckets(maxBatch).length + 6, requestProgress: values.verbose === true },
    io,
    progress,
  );
  const engine = new LocalEngine(loaded.models, { maxBatch, batchWaitMs: numberFlag('worker', 'batch-wait-ms', values['batch-wait-ms']) ?? 10, maxQueue: maxBatch * 4, version: cliVersion() });
  let worker;
  try {
    worker = await startQueueWorker(engine, {
      url: values.queue,
      ...(values['queue-name'] ? { name: values['queue-name'] } : {}),
      lockDurationMs,
      onJob: (j) => progress.line(j.error ? `job ${j.id} failed: ${j.error}` : `job ${j.id}: ${j.images} image${j.images === 1 ? '' : 's'} in ${formatMs(j.ms)}`),
    });
  } catch (e) {
    await loaded.dispose();
    throw new Error(`cannot reach Redis at ${values.queue}: ${e instanceof Error ? e.message : String(e)}`);
  }
  io.stdout.write(`sdxs worker: running ${loaded.models.map((m) => m.name).join(', ')} from ${values.queue}\n`);
  await untilAborted(io.signal);
  progress.line('sdxs worker: stopping (finishing the jobs in hand)…');
  await worker.close();
  await engine.close();
  await loaded.dispose();
  return 0;
}
