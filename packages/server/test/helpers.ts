// The embedded one-step model with its sketch ControlNet, as `sdxs serve` loads it: the server tests' model.
import { ControlNetPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, embeddedModels, LocalFolderSource } from '@sdxs/runtime-node';
import { decodePng, encodePng, type DecodedPng } from '@sdxs/image';
import { shapeSample } from '@sdxs/shapes';
import type { ServedModel } from '@sdxs/server';
import WebSocket from 'ws';

export async function loadServedModel(): Promise<ServedModel> {
  const m = embeddedModels().sketch!;
  const runtime = createNodeRuntime({ intraOpThreads: 2 });
  const control = await ControlNetPipeline.load(new LocalFolderSource(m.path), undefined, runtime, { maxSessions: 12 });
  return {
    name: m.name,
    pipe: control.base,
    control,
    steps: m.steps,
    guidanceScale: m.guidanceScale,
    ...(m.controlScale !== undefined ? { controlScale: m.controlScale } : {}),
    executionProvider: 'cpu',
    dtype: 'float32',
  };
}

/** A held-out shapes sketch as a user draws it (dark strokes on white), as PNG bytes, and its prompt. */
export function sketchPng(index: number): { png: Uint8Array; prompt: string } {
  const s = shapeSample(3_000_000, index);
  const rgba = new Uint8Array(64 * 64 * 4);
  for (let i = 0; i < 64 * 64; i++) rgba.set([255 - s.sketch.data[3 * i]!, 255 - s.sketch.data[3 * i + 1]!, 255 - s.sketch.data[3 * i + 2]!, 255], 4 * i);
  return { png: encodePng({ width: 64, height: 64, data: rgba }), prompt: s.caption };
}

/** The RGBA pixels of a base64 PNG. */
export function pixels(b64: string): DecodedPng {
  return decodePng(Buffer.from(b64, 'base64'));
}

export function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Messages of a socket, in order: JSON objects for text, Buffers for binary. */
export function inbox(ws: WebSocket): { next: () => Promise<unknown> } {
  const queue: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const m = isBinary ? data : JSON.parse(data.toString('utf8'));
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return { next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r))) };
}

/** A WebSocket to the sketch stream of the server on `port`. */
export function openSketch(port: number, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/sketch`, { headers });
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}
