/**
 * The live sketch stream, `GET /v1/sketch` as a WebSocket. The client sends a JSON settings message
 * (`{ "prompt", "seed"?, "control_scale"?, "control_mode"?, "width"?, "height"?, "model"? }`, again to change the
 * prompt or scale), then sketches as binary PNG messages; the server answers each rendered frame with a JSON
 * message (`{ "frame", "latency_ms", "render_ms", "dropped" }`) followed by the image as a binary PNG. A sketch
 * that arrives while another waits replaces it (latest wins), so the picture follows the pen however fast it
 * moves; errors come as `{ "error": message }` and leave the stream open.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { ControlPixelsOptions } from '@sdxs/control';
import { LatestFrameLoop, type RealtimeStream } from '@sdxs/pipeline';
import { decodeImage, encodePng, imageInfo } from '@sdxs/image';
import type { ServerMetrics } from '../metrics.js';
import type { ServedModel } from '../models.js';
import { checkSide, type RouteContext } from './common.js';

interface Settings {
  prompt?: unknown;
  seed?: unknown;
  control_scale?: unknown;
  control_mode?: unknown;
  width?: unknown;
  height?: unknown;
  model?: unknown;
}

const MODES = ['raw', 'sketch', 'canny'] as const;

function send(socket: WebSocket, message: object): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/** One socket's frames, rendered here (a served model's realtime stream) or by the engine (`--queue` workers). */
interface SketchStream {
  push(bytes: Uint8Array): Promise<void>;
  update(settings: { prompt: string; controlScale?: number; controlMode: ControlPixelsOptions['mode'] }): void;
  readonly frames: AsyncIterable<{ frameId: number; latencyMs: number; renderMs: number; dropped: number; png: Uint8Array }>;
  close(): Promise<void>;
}

interface StreamSettings {
  prompt: string;
  controlMode: ControlPixelsOptions['mode'];
  controlScale: number | undefined;
  seed: number;
  width: number | undefined;
  height: number | undefined;
}

/** Frames rendered by a served model's ControlNet pipeline in this process (its realtime stream). */
function localStream(model: ServedModel, s: StreamSettings, maxPixels: number): SketchStream {
  const stream: RealtimeStream = model.control!.realtime({
    prompt: s.prompt,
    controlMode: s.controlMode,
    controlScale: s.controlScale ?? model.controlScale ?? 1,
    steps: model.steps,
    guidanceScale: model.guidanceScale,
    seed: s.seed,
    ...(s.width !== undefined ? { width: s.width } : {}),
    ...(s.height !== undefined ? { height: s.height } : {}),
  });
  return {
    push: async (bytes) => {
      const image = await decodeImage(bytes, { maxPixels });
      stream.push({ width: image.width, height: image.height, data: image.data, channels: 4 });
    },
    update: (u) => stream.update(u),
    frames: {
      async *[Symbol.asyncIterator]() {
        for await (const f of stream.images) yield { frameId: f.frameId, latencyMs: f.latencyMs, renderMs: f.renderMs, dropped: f.dropped, png: encodePng(f.image) };
      },
    },
    close: () => stream.close(),
  };
}

/**
 * Frames rendered by the engine (with `--queue`, by `sdxs worker` processes): each sketch becomes a ControlNet job
 * for the named model; only the newest waiting sketch is sent, one job in flight, as the local stream does.
 */
function engineStream(ctx: RouteContext, model: string, s: StreamSettings, maxPixels: number): SketchStream {
  const current = { ...s };
  const loop = new LatestFrameLoop<Uint8Array, Uint8Array>(async (bytes) => {
    const result = await ctx.engine.submit({
      model,
      prompt: current.prompt,
      negativePrompt: '',
      seeds: [String(current.seed)],
      control: { png: Buffer.from(bytes).toString('base64'), mode: current.controlMode ?? 'sketch', ...(current.controlScale !== undefined ? { scale: current.controlScale } : {}) },
      ...(current.width !== undefined ? { width: current.width } : {}),
      ...(current.height !== undefined ? { height: current.height } : {}),
    });
    return Buffer.from(result.images[0]!, 'base64');
  });
  return {
    push: async (bytes) => {
      // The worker decodes; the size is checked here, from the header, before the job is queued.
      const info = imageInfo(bytes);
      if (info.width * info.height > maxPixels) throw new RangeError(`${info.format.toUpperCase()} of ${info.width}×${info.height} pixels is over the limit of ${maxPixels} pixels`);
      loop.push(bytes);
    },
    update: (u) => {
      current.prompt = u.prompt;
      current.controlMode = u.controlMode;
      if (u.controlScale !== undefined) current.controlScale = u.controlScale;
    },
    frames: {
      async *[Symbol.asyncIterator]() {
        for await (const f of loop.frames) yield { frameId: f.frameId, latencyMs: f.latencyMs, renderMs: f.renderMs, dropped: f.dropped, png: f.value };
      },
    },
    close: () => loop.close(),
  };
}

export function sketchRoute(app: FastifyInstance, ctx: RouteContext, models: ReadonlyMap<string, ServedModel>, metrics: ServerMetrics): void {
  app.get('/v1/sketch', { websocket: true }, (socket, _request) => {
    let stream: SketchStream | undefined;
    let modelName: string | undefined;
    const maxPixels = ctx.limits.maxSide * ctx.limits.maxSide;

    const start = (s: Settings): void => {
      if (typeof s.prompt !== 'string' || s.prompt.length > ctx.limits.maxPromptChars) throw new RangeError(`"prompt" must be a string of at most ${ctx.limits.maxPromptChars} characters`);
      const scale = s.control_scale;
      if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(scale) || Math.abs(scale) > 10)) throw new RangeError('"control_scale" must be a number in [-10, 10]');
      const mode = (s.control_mode ?? 'sketch') as ControlPixelsOptions['mode'];
      if (!MODES.includes(mode as (typeof MODES)[number])) throw new RangeError(`"control_mode" must be one of ${MODES.join(', ')}`);
      if (stream) {
        // Same stream: only what it can change without a new size or seed.
        stream.update({ prompt: s.prompt, ...(typeof scale === 'number' ? { controlScale: scale } : {}), controlMode: mode });
        send(socket, { ready: true, model: modelName });
        return;
      }
      const name = typeof s.model === 'string' && s.model !== '' ? s.model : undefined;
      const side = (field: string, v: unknown): number | undefined => (v === undefined ? undefined : checkSide(field, typeof v === 'number' ? v : Number.NaN, ctx.limits));
      const seed = s.seed;
      if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0)) throw new RangeError('"seed" must be a non-negative integer');
      const settings: StreamSettings = {
        prompt: s.prompt,
        controlMode: mode,
        controlScale: typeof scale === 'number' ? scale : undefined,
        // One seed for every frame, so the picture changes only where the drawing does.
        seed: typeof seed === 'number' ? seed : Math.floor(Math.random() * 2 ** 53),
        width: side('width', s.width),
        height: side('height', s.height),
      };
      if (models.size > 0) {
        const model = [...models.values()].find((m) => m.control && (name === undefined || m.name === name));
        if (!model) throw new RangeError(name ? `model ${JSON.stringify(name)} has no ControlNet for sketches` : 'no served model has a ControlNet for sketches');
        stream = localStream(model, settings, maxPixels);
        modelName = model.name;
      } else {
        // No model here (--queue): the workers render; an unknown model or one without a ControlNet fails its first frame.
        modelName = name ?? ctx.modelNames()[0];
        if (modelName === undefined) throw new RangeError('name the model ({"model": …}): this server serves through workers and was given no model names');
        stream = engineStream(ctx, modelName, settings, maxPixels);
      }
      send(socket, { ready: true, model: modelName });
      const live = stream;
      void (async () => {
        try {
          let dropped = 0;
          for await (const frame of live.frames) {
            metrics.sketchFrames.inc({ outcome: 'rendered' });
            if (frame.dropped > dropped) metrics.sketchFrames.inc({ outcome: 'dropped' }, frame.dropped - dropped);
            dropped = frame.dropped;
            send(socket, { frame: frame.frameId, latency_ms: frame.latencyMs, render_ms: frame.renderMs, dropped: frame.dropped });
            if (socket.readyState === socket.OPEN) socket.send(frame.png);
          }
        } catch (e) {
          send(socket, { error: e instanceof Error ? e.message : String(e) });
          socket.close(1011, 'render failed');
        }
      })();
    };

    // Messages are handled one after another (a JPEG or WebP decodes asynchronously): frames reach the stream in order.
    let handling = Promise.resolve();
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      handling = handling.then(() => onMessage(data, isBinary));
    });
    const onMessage = async (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      try {
        if (!isBinary) {
          let s: unknown;
          try {
            s = JSON.parse(bytes.toString('utf8'));
          } catch {
            throw new RangeError('a text message must be the JSON settings ({"prompt": …})');
          }
          if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new RangeError('the settings must be a JSON object');
          start(s as Settings);
          return;
        }
        if (!stream) throw new RangeError('send the JSON settings ({"prompt": …}) before the first sketch');
        await stream.push(bytes);
      } catch (e) {
        send(socket, { error: e instanceof Error ? e.message : String(e) });
      }
    };
    socket.on('close', () => void stream?.close());
  });
}
