/**
 * `pnpm bench serve [--clients 32] [--requests 1000] [--serve-model sdxs-micro-1step] [--max-batch 8]` — load and
 * fault test of `sdxs serve`, loopback only, bounded in count and time. Each phase runs the server as its own
 * process (its RSS is the server's alone) and `--clients` concurrent clients, each sending `--requests` OpenAI image
 * requests back to back with its own seeds:
 *   1. batched (`--max-batch`) and 2. unbatched (`--max-batch 1`): failures other than 429, p50/p99 latency,
 *      images/s, RSS after warm-up and at the end;
 *   3. over Redis: `sdxs serve --queue` and two `sdxs worker`s; one worker is killed with SIGKILL a third of the
 *      way in and restarted; every accepted job must complete exactly once (BullMQ's completed events, per job).
 */
import { QueueEvents } from 'bullmq';
import { startRedis, startServe, startWorker, type CliProcess } from '../../../../tools/serve-processes.js';
import { option } from '../suite-options.js';

export const SERVE_USAGE = 'serve options: --clients 32 --requests 1000 (per client) --serve-model sdxs-micro-1step --max-batch 8 --phases batched,unbatched,redis';

interface PhaseResult {
  phase: string;
  requests: number;
  ok: number;
  /** 429s (by design when the queue is full). */
  rejected: number;
  failures: number;
  failure_examples: string[];
  seconds: number;
  images_per_s: number;
  latency_ms: { p50: number; p99: number; max: number };
  rss_mib?: { after_warmup: number; end: number; growth_pct: number };
  redis?: { jobs_completed: number; completed_more_than_once: number; stalled_events: number; worker_killed_at_request: number };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function rssMiB(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^sdxs_process_resident_memory_bytes (\S+)$/m.exec(text);
  if (!m) throw new Error('no sdxs_process_resident_memory_bytes in /metrics');
  return Number(m[1]) / 2 ** 20;
}

/** `clients` loops of `perClient` requests; `onProgress(done)` after each answer. */
async function load(base: string, model: string, clients: number, perClient: number, seed0: number, onProgress?: (done: number) => void) {
  const latencies: number[] = [];
  let ok = 0;
  let rejected = 0;
  const failures: string[] = [];
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const seed = seed0 + c * perClient + i;
        const t = performance.now();
        try {
          const r = await fetch(`${base}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a red circle on a blue background', model, seed }) });
          const body = await r.text();
          if (r.status === 200 && body.includes('"b64_json"')) ok++;
          else if (r.status === 429) {
            rejected++;
            await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1)));
          } else failures.push(`${r.status} ${body.slice(0, 120)}`);
        } catch (e) {
          failures.push(e instanceof Error ? e.message : String(e));
        }
        latencies.push(performance.now() - t);
        onProgress?.(++done);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: clients * perClient, ok, rejected, failures: failures.length, failure_examples: failures.slice(0, 3), seconds, images_per_s: ok / seconds, latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? NaN } };
}

async function localPhase(log: (s: string) => void, phase: string, model: string, maxBatch: number, clients: number, perClient: number): Promise<PhaseResult> {
  const serve = startServe(['--model', model, '--max-batch', String(maxBatch), '--max-queue', '256', '--warmup', '-q']);
  try {
    const base = await serve.ready;
    // Warm-up load: sessions, JIT and allocator pools settle before the RSS baseline.
    await load(base, model, clients, 5, 1_000_000);
    const before = await rssMiB(base);
    const r = await load(base, model, clients, perClient, 0);
    const end = await rssMiB(base);
    const result: PhaseResult = { phase, ...r, rss_mib: { after_warmup: before, end, growth_pct: (100 * (end - before)) / before } };
    log(`${phase}: ${r.ok}/${r.requests} ok, ${r.rejected} × 429, ${r.failures} failures, ${r.images_per_s.toFixed(1)} images/s, p50 ${r.latency_ms.p50.toFixed(1)} ms, p99 ${r.latency_ms.p99.toFixed(1)} ms, RSS ${before.toFixed(0)} → ${end.toFixed(0)} MiB (${result.rss_mib!.growth_pct.toFixed(1)} %)`);
    return result;
  } finally {
    await serve.stop();
  }
}

async function redisPhase(log: (s: string) => void, model: string, maxBatch: number, clients: number, perClient: number): Promise<PhaseResult> {
  const redis = await startRedis();
  const workerArgs = ['--model', model, '--max-batch', String(maxBatch), '--lock-ms', '2000', '-q'];
  const workers: CliProcess[] = [startWorker(redis.url, workerArgs), startWorker(redis.url, workerArgs)];
  const serve = startServe(['--queue', redis.url, '--max-queue', '100000', '-q']);
  const events = new QueueEvents('sdxs-images', { connection: { url: redis.url, maxRetriesPerRequest: null } });
  try {
    await Promise.all([...workers.map((w) => w.ready), events.waitUntilReady()]);
    const base = await serve.ready;
    const completed = new Map<string, number>();
    let stalled = 0;
    events.on('completed', ({ jobId }) => completed.set(jobId, (completed.get(jobId) ?? 0) + 1));
    events.on('stalled', () => stalled++);
    const total = clients * perClient;
    let killedAt = -1;
    const r = await load(base, model, clients, perClient, 0, (done) => {
      if (killedAt < 0 && done >= Math.floor(total / 3)) {
        killedAt = done;
        void workers[0]!.stop('SIGKILL').then(() => workers.push(startWorker(redis.url, workerArgs)));
      }
    });
    await new Promise((res) => setTimeout(res, 500));
    const counts = [...completed.values()];
    const result: PhaseResult = {
      phase: 'redis, 2 workers, one killed and restarted',
      ...r,
      redis: { jobs_completed: counts.length, completed_more_than_once: counts.filter((c) => c > 1).length, stalled_events: stalled, worker_killed_at_request: killedAt },
    };
    log(`redis: ${r.ok}/${r.requests} ok, ${r.failures} failures, ${r.images_per_s.toFixed(1)} images/s, p50 ${r.latency_ms.p50.toFixed(1)} ms, p99 ${r.latency_ms.p99.toFixed(1)} ms; ${counts.length} jobs completed, ${result.redis!.completed_more_than_once} more than once, ${stalled} stalled (worker killed at request ${killedAt})`);
    return result;
  } finally {
    await events.close();
    await serve.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  }
}

export async function runServe(log: (s: string) => void, args: readonly string[] = []): Promise<PhaseResult[]> {
  const clients = Number(option(args, '--clients') ?? 32);
  const perClient = Number(option(args, '--requests') ?? 1000);
  const model = option(args, '--serve-model') ?? 'sdxs-micro-1step';
  const maxBatch = Number(option(args, '--max-batch') ?? 8);
  const phases = (option(args, '--phases') ?? 'batched,unbatched,redis').split(',');
  const out: PhaseResult[] = [];
  if (phases.includes('batched')) out.push(await localPhase(log, `batched (max batch ${maxBatch})`, model, maxBatch, clients, perClient));
  if (phases.includes('unbatched')) out.push(await localPhase(log, 'unbatched (max batch 1)', model, 1, clients, perClient));
  if (phases.includes('redis')) out.push(await redisPhase(log, model, maxBatch, clients, perClient));
  return out;
}
