/**
 * Prometheus metrics (prom-client, one registry per server): queue depth, batch sizes, latency histograms,
 * request counts by route and status, and the process's own (RSS, heap, event-loop lag).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from './engine.js';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly batchImages: Histogram<'model'>;
  readonly batchSeconds: Histogram<'model'>;
  readonly images: Counter<'model'>;
  readonly sketchFrames: Counter<'outcome'>;
}

/**
 * @example
 * const m = createMetrics(engine); m.batchImages.observe({ model: 'sdxs-micro' }, 8);
 */
export function createMetrics(engine: () => Engine | undefined): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sdxs_' });
  const queue = async (field: 'queued' | 'running', gauge: Gauge): Promise<void> => {
    const e = engine();
    if (e) gauge.set((await e.status())[field]);
  };
  new Gauge({
    name: 'sdxs_queue_depth',
    help: 'Requests waiting to run',
    registers: [registry],
    async collect() {
      await queue('queued', this);
    },
  });
  new Gauge({
    name: 'sdxs_running_requests',
    help: 'Requests in the batch now running',
    registers: [registry],
    async collect() {
      await queue('running', this);
    },
  });
  return {
    registry,
    requests: new Counter({ name: 'sdxs_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'sdxs_request_duration_seconds',
      help: 'Time from request to response, by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    batchImages: new Histogram({ name: 'sdxs_batch_images', help: 'Images per batched run', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64], registers: [registry] }),
    batchSeconds: new Histogram({
      name: 'sdxs_batch_duration_seconds',
      help: 'Time of one batched run',
      labelNames: ['model'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    images: new Counter({ name: 'sdxs_images_total', help: 'Images generated', labelNames: ['model'], registers: [registry] }),
    sketchFrames: new Counter({ name: 'sdxs_sketch_frames_total', help: 'Sketch stream frames: rendered or dropped as stale', labelNames: ['outcome'], registers: [registry] }),
  };
}
