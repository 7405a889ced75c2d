/**
 * `sdxs serve`: the local image API (@sdxs/server) over the models named, or over Redis workers with --queue.
 * Runs until Ctrl-C or SIGTERM, then stops taking requests and lets the running ones finish.
 */
import { batchBuckets, createServer, LocalEngine, QueueEngine, type Engine, type ServedModel } from '@sdxs/server';
import { COMMON_HELP, intFlag, numberFlag, parseCommand } from '../args.js';
import { UsageError } from '../errors.js';
import { untilAborted, type CliIO } from '../io.js';
import { LORA_HELP, LORA_OPTIONS, loraFlags, MODEL_HELP, MODEL_OPTIONS } from '../model.js';
import { formatMs, Reporter } from '../progress.js';
import { loadServedModels } from '../serve-models.js';
import { cliVersion } from '../version.js';

export const SERVE_HELP = `Usage: sdxs serve [--model <dir|repo>]… [options]

An image API on this machine: OpenAI's POST /v1/images/generations, A1111's POST /sdapi/v1/txt2img and
/sdapi/v1/img2img, a WebSocket sketch stream at /v1/sketch, GET /health and Prometheus GET /metrics.
Concurrent requests for the same model and size run as one batch. Binds 127.0.0.1 unless told otherwise.

Options:
  -m, --model <dir|repo>   a model to serve (repeat for several; the first is the default). Default: the
                           embedded sdxs-micro and its one-step sketch model sdxs-micro-1step (offline)
      --controlnet <dir|repo>  a ControlNet for the first model (default: its own controlnet/ folder, if any)
      --host <addr>        address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)
      --port <n>           port (default 7860, A1111's; 0 picks a free one)
      --max-batch <n>      most images in one batched run (default 8)
      --batch-wait-ms <ms> longest a request waits for others to batch with (default 10)
      --max-queue <n>      most requests waiting; more get 429 with Retry-After (default 64)
      --timeout-ms <ms>    a request's time limit; past it, 504 (default 120000)
      --max-side <px>      largest width or height a request may ask (default 1024)
      --body-limit <bytes> largest request body; larger gets 413 (default 16777216)
      --api-key <key>      require "Authorization: Bearer <key>" (or set SDXS_API_KEY)
      --allowed-host <h>   a host name clients may use besides localhost and IP addresses (repeatable)
      --cors-origin <o>    a web origin (https://app.example) whose pages may call the API (repeatable)
      --steps <n>          default steps for models without their own (default 1)
      --guidance <g>       default guidance for models without their own (default 0)
      --warmup             build every batch size's graph before listening
      --queue <redis://…>  send jobs to BullMQ on Redis, run by \`sdxs worker\` processes (no model loaded here)
      --queue-name <name>  the BullMQ queue (default sdxs-images)

Model options:
${MODEL_HELP}
${LORA_HELP}

${COMMON_HELP}

Examples:
  sdxs serve                                   # the embedded models on http://127.0.0.1:7860
  curl -s localhost:7860/v1/images/generations -H 'content-type: application/json' \\
    -d '{"prompt": "a red circle on a blue background", "seed": 1}'
  sdxs serve --model IDKiro/sdxs-512-dreamshaper --controlnet IDKiro/sdxs-512-dreamshaper-sketch
  sdxs serve --queue redis://127.0.0.1:6379     # and on each GPU or CPU box: sdxs worker --queue redis://…`;

export const SERVE_OPTIONS = {
  ...MODEL_OPTIONS,
  ...LORA_OPTIONS,
  model: { type: 'string', short: 'm', multiple: true },
  controlnet: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'max-batch': { type: 'string' },
  'batch-wait-ms': { type: 'string' },
  'max-queue': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'max-side': { type: 'string' },
  'body-limit': { type: 'string' },
  'api-key': { type: 'string' },
  'allowed-host': { type: 'string', multiple: true },
  'cors-origin': { type: 'string', multiple: true },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  warmup: { type: 'boolean' },
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
} as const;

/**
 * Run `sdxs serve`; resolves to 0 after Ctrl-C.
 *
 * @example
 * await runServe(['--port', '0'], processIO(signal));
 */
export async function runServe(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommand('serve', argv, SERVE_OPTIONS);
  if (values.help) {
    io.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}; name models with --model`, 'serve');
  const progress = new Reporter(io.stderr, { quiet: values.quiet === true, verbose: values.verbose === true });
  const maxBatch = intFlag('serve', 'max-batch', values['max-batch'], 1, 64) ?? 8;
  const port = intFlag('serve', 'port', values.port, 0, 65535) ?? 7860;
  const host = values.host ?? '127.0.0.1';
  const apiKey = values['api-key'] ?? io.env.SDXS_API_KEY;
  if (apiKey !== undefined && apiKey.length < 8) throw new UsageError('--api-key must be at least 8 characters', 'serve');
  const limits = { maxImages: maxBatch, ...(values['max-side'] !== undefined ? { maxSide: intFlag('serve', 'max-side', values['max-side'], 8, 8192)! } : {}) };
  const common = {
    limits,
    timeoutMs: intFlag('serve', 'timeout-ms', values['timeout-ms'], 1, 86_400_000) ?? 120_000,
    bodyLimit: intFlag('serve', 'body-limit', values['body-limit'], 1024, 1 << 30) ?? 16 * 1024 * 1024,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(values['allowed-host'] ? { allowedHosts: values['allowed-host'] } : {}),
    ...(values['cors-origin'] ? { corsOrigins: values['cors-origin'] } : {}),
  };

  let engine: Engine;
  let models: ServedModel[] = [];
  let dispose = async () => {};
  let modelNames: string[];
  if (values.queue !== undefined) {
    if (values.model !== undefined) progress.warn('sdxs serve: --model is for workers when --queue is given; requests name models by what the workers serve');
    const queue = await QueueEngine.open({ url: values.queue, ...(values['queue-name'] ? { name: values['queue-name'] } : {}), maxQueue: intFlag('serve', 'max-queue', values['max-queue'], 1, 1_000_000) ?? 256 });
    engine = queue;
    modelNames = values.model ?? [];
    dispose = () => queue.close();
  } else {
    const loaded = await loadServedModels(
      'serve',
      { ...values, model: undefined },
      { models: values.model ?? [], controlnet: values.controlnet, steps: intFlag('serve', 'steps', values.steps, 1, 1000), guidance: numberFlag('serve', 'guidance', values.guidance), lora: loraFlags('serve', values.lora, io), maxSessions: batchBuckets(maxBatch).length + 6, requestProgress: values.verbose === true },
      io,
      progress,
    );
    models = loaded.models;
    modelNames = models.map((m) => m.name);
    const local = new LocalEngine(models, {
      maxBatch,
      batchWaitMs: numberFlag('serve', 'batch-wait-ms', values['batch-wait-ms']) ?? 10,
      maxQueue: intFlag('serve', 'max-queue', values['max-queue'], 1, 100_000) ?? 64,
      version: cliVersion(),
    });
    engine = local;
    dispose = async () => {
      await local.close();
      await loaded.dispose();
    };
    if (values.warmup) {
      for (const m of models) {
        for (const batch of batchBuckets(maxBatch)) {
          const t0 = performance.now();
          await m.pipe.generate({ prompt: Array(batch).fill(''), seed: 0, steps: m.steps, guidanceScale: m.guidanceScale });
          progress.line(`warmed ${m.name} batch ${batch} in ${formatMs(performance.now() - t0)}`);
        }
      }
    }
  }
  const app = await createServer({
    engine,
    models,
    modelNames,
    ...common,
  });
  try {
    await app.listen({ host, port });
    const address = app.server.address();
    const bound = typeof address === 'object' && address ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : `${host}:${port}`;
    io.stdout.write(`sdxs serve: listening on http://${bound} (${modelNames.length ? modelNames.join(', ') : 'models of the workers'}${values.queue ? `, jobs via ${values.queue}` : `, batches up to ${maxBatch}`})\n`);
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' && apiKey === undefined) progress.warn(`sdxs serve: bound to ${host} without --api-key: anyone who can reach this port can use it`);
    await untilAborted(io.signal);
    progress.line('sdxs serve: stopping (finishing running requests)…');
  } finally {
    await app.close();
    await dispose();
  }
  return 0;
}
