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
import type { RealtimeStream } from '@sdxs/pipeline';
import { decodeImage, encodePng } from '@sdxs/image';
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

export function sketchRoute(app: FastifyInstance, ctx: RouteContext, models: ReadonlyMap<string, ServedModel>, metrics: ServerMetrics): void {
  app.get('/v1/sketch', { websocket: true }, (socket, _request) => {
    let stream: RealtimeStream | undefined;
    let model: ServedModel | undefined;

    const start = (s: Settings): void => {
      if (typeof s.prompt !== 'string' || s.prompt.length > ctx.limits.maxPromptChars) throw new RangeError(`"prompt" must be a string of at most ${ctx.limits.maxPromptChars} characters`);
      const scale = s.control_scale ?? model?.controlScale;
      if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(scale) || Math.abs(scale) > 10)) throw new RangeError('"control_scale" must be a number in [-10, 10]');
      const mode = s.control_mode ?? 'sketch';
      if (!MODES.includes(mode as (typeof MODES)[number])) throw new RangeError(`"control_mode" must be one of ${MODES.join(', ')}`);
      if (stream) {
        // Same stream: only what it can change without a new size or seed.
        stream.update({ prompt: s.prompt, ...(typeof scale === 'number' ? { controlScale: scale } : {}), controlMode: mode as ControlPixelsOptions['mode'] });
        return;
      }
      const name = typeof s.model === 'string' && s.model !== '' ? s.model : undefined;
      const candidates = [...models.values()].filter((m) => m.control && (name === undefined || m.name === name));
      model = candidates[0];
      if (!model?.control) throw new RangeError(name ? `model ${JSON.stringify(name)} has no ControlNet for sketches` : 'no served model has a ControlNet for sketches');
      const side = (field: string, v: unknown): number | undefined => (v === undefined ? undefined : checkSide(field, typeof v === 'number' ? v : Number.NaN, ctx.limits));
      const width = side('width', s.width);
      const height = side('height', s.height);
      const seed = s.seed;
      if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0)) throw new RangeError('"seed" must be a non-negative integer');
      const controlScale = typeof scale === 'number' ? scale : (model.controlScale ?? 1);
      stream = model.control.realtime({
        prompt: s.prompt,
        controlMode: mode as ControlPixelsOptions['mode'],
        controlScale,
        steps: model.steps,
        guidanceScale: model.guidanceScale,
        ...(typeof seed === 'number' ? { seed } : {}),
        ...(width !== undefined ? { width } : {}),
        ...(height !== undefined ? { height } : {}),
      });
      const live = stream;
      void (async () => {
        try {
          let dropped = 0;
          for await (const frame of live.images) {
            metrics.sketchFrames.inc({ outcome: 'rendered' });
            if (frame.dropped > dropped) metrics.sketchFrames.inc({ outcome: 'dropped' }, frame.dropped - dropped);
            dropped = frame.dropped;
            send(socket, { frame: frame.frameId, latency_ms: frame.latencyMs, render_ms: frame.renderMs, dropped: frame.dropped });
            if (socket.readyState === socket.OPEN) socket.send(encodePng(frame.image));
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
          send(socket, { ready: true, model: model?.name });
          return;
        }
        if (!stream) throw new RangeError('send the JSON settings ({"prompt": …}) before the first sketch');
        const image = await decodeImage(bytes, { maxPixels: ctx.limits.maxSide * ctx.limits.maxSide });
        stream.push({ width: image.width, height: image.height, data: image.data, channels: 4 });
      } catch (e) {
        send(socket, { error: e instanceof Error ? e.message : String(e) });
      }
    };
    socket.on('close', () => void stream?.close());
  });
}
