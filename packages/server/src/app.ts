/**
 * The HTTP server: Fastify with JSON-schema validation of every body, the safety hooks, the routes, metrics and
 * one error shape per API family. `createServer` builds it around an engine (local batching or Redis workers);
 * the CLI's `sdxs serve` is a thin layer over it.
 */
import { createServer as createHttpServer } from 'node:http';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Engine } from './engine.js';
import { asServeError, ServeError } from './errors.js';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import type { ServedModel } from './models.js';
import { a1111Routes } from './routes/a1111.js';
import type { RouteContext } from './routes/common.js';
import { openAiError, openAiRoutes } from './routes/openai.js';
import { sketchRoute } from './routes/sketch.js';
import { apiKeyMatches, checkOrigin, hostAllowed, type SecurityOptions } from './security.js';

export interface ServerOptions extends SecurityOptions {
  readonly engine: Engine;
  /** Models loaded in this process: the sketch stream runs on them. */
  readonly models?: readonly ServedModel[];
  /** The model names clients may ask for (default: the local models'); the first is the default. */
  readonly modelNames?: readonly string[];
  readonly limits?: Partial<RequestLimits>;
  /** Per-request time limit in ms (default 120 s). */
  readonly timeoutMs?: number;
  /** Largest request body in bytes (default 16 MiB: img2img's base64 images); larger gets 413. */
  readonly bodyLimit?: number;
  /** Time to receive a whole request, in ms (default 30 s): a client that sends slowly gets 408 (slowloris). */
  readonly requestTimeoutMs?: number;
  /** Extra health detail (e.g. Redis's), merged into GET /health; throwing makes it 503. */
  readonly health?: () => Promise<Record<string, unknown>>;
  readonly metrics?: ServerMetrics;
  readonly logger?: boolean;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 499: 'Client Closed Request', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** A Fastify error (validation, body too large, bad JSON) as a ServeError with its status. */
function fromFastify(e: FastifyError): ServeError {
  if (e.validation) return new ServeError(400, `invalid request: ${e.message}`);
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ServeError(413, e.message);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ServeError(e.statusCode, e.message);
  return asServeError(e);
}

/**
 * Build the server (not yet listening).
 *
 * @example
 * const app = await createServer({ engine: new LocalEngine([model]), models: [model] }); // or a QueueEngine
 * await app.listen({ host: '127.0.0.1', port: 7860 });
 */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  const limits: RequestLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const local = new Map((options.models ?? []).map((m) => [m.name, m]));
  const names = options.modelNames ?? [...local.keys()];
  const metrics = options.metrics ?? createMetrics(() => options.engine);
  options.engine.onBatch?.((b) => {
    metrics.batchImages.observe({ model: b.model }, b.images);
    metrics.batchSeconds.observe({ model: b.model }, b.ms / 1000);
    metrics.images.inc({ model: b.model }, b.images);
  });
  const ctx: RouteContext = { engine: options.engine, limits, timeoutMs: options.timeoutMs ?? 120_000, modelNames: () => names };
  const receiveMs = options.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    forceCloseConnections: true,
    // Node's own request timeout (408), checked often enough to matter (its default check is every 30 s).
    serverFactory: (handler) => createHttpServer({ requestTimeout: receiveMs, headersTimeout: receiveMs, connectionsCheckingInterval: Math.max(50, Math.min(1000, receiveMs / 4)) }, handler),
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 8 * 1024 * 1024 } });

  // Errors in the caller's API's shape: OpenAI's under /v1, A1111's (FastAPI's) elsewhere.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const e = error instanceof ServeError ? error : fromFastify(error);
    if (e.retryAfter !== undefined) void reply.header('Retry-After', String(e.retryAfter));
    void reply.status(e.status);
    if (request.url.startsWith('/v1/')) return openAiError(e);
    return { error: STATUS_TEXT[e.status] ?? 'Error', detail: e.message };
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404);
    const message = `no route ${request.method} ${request.url.split('?')[0]}`;
    return request.url.startsWith('/v1/') ? openAiError(new ServeError(404, message)) : { error: 'Not Found', detail: message };
  });

  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (!hostAllowed(host, options.allowedHosts)) throw new ServeError(403, `Host ${JSON.stringify(host ?? '')} is not allowed (add it with --allowed-host)`);
    const origin = request.headers.origin;
    const verdict = checkOrigin(origin, request.headers['sec-fetch-site'] as string | undefined, host, options.corsOrigins);
    if (verdict === 'refused') throw new ServeError(403, `cross-site request from ${origin ?? 'another site'} refused (allow an origin with --cors-origin)`);
    if (verdict === 'allowed') {
      // Never Access-Control-Allow-Credentials: the API key travels in a header the page sets itself.
      void reply.header('Access-Control-Allow-Origin', origin!).header('Vary', 'Origin');
    }
    if (request.method === 'OPTIONS') return;
    if (options.apiKey !== undefined && request.url !== '/health' && !apiKeyMatches(request.headers.authorization, options.apiKey)) {
      void reply.header('WWW-Authenticate', 'Bearer');
      throw new ServeError(401, 'a valid API key is required (Authorization: Bearer <key>)');
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  // CORS preflight, for allowed origins only (the hook above refused the others).
  app.options('*', async (_request, reply) => {
    void reply.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS').header('Access-Control-Allow-Headers', 'Authorization, Content-Type').header('Access-Control-Max-Age', '600');
    return reply.status(204).send();
  });

  app.get('/health', async (_request, reply) => {
    try {
      const engine = (await options.engine.health?.()) ?? {};
      const extra = (await options.health?.()) ?? {};
      return { status: 'ok', models: names, queue: await options.engine.status(), ...engine, ...extra };
    } catch (e) {
      void reply.status(503);
      return { status: 'unavailable', detail: e instanceof Error ? e.message : String(e) };
    }
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  openAiRoutes(app, ctx);
  a1111Routes(app, ctx);
  sketchRoute(app, ctx, local, metrics);
  return app;
}
