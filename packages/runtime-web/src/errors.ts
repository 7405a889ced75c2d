import type { SerializedError, WorkerErrorKind } from './worker/protocol.js';
import { BackendUnavailableError } from './backend.js';

/** An error from the generation worker, with the kind of failure the page should explain. */
export class SdxsWorkerError extends Error {
  override readonly name = 'SdxsWorkerError';
  readonly kind: WorkerErrorKind;
  constructor(error: SerializedError) {
    super(error.message);
    this.kind = error.kind;
  }
}

// What running out of memory looks like: the WebAssembly heap hitting its 4 GiB or the tab's limit, Emscripten's
// abort, C++ bad_alloc inside onnxruntime, a JS ArrayBuffer refused, WebGPU's out-of-memory error.
const OOM = /out of memory|\bOOM\b|maximum memory size|cannot enlarge memory|could not allocate|failed to allocate|bad_alloc|array buffer allocation failed|allocation failed|GPUOutOfMemoryError/i;

function messages(e: unknown): string[] {
  const out: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && depth < 8; depth++) {
    if (x instanceof Error) {
      out.push(`${x.name}: ${x.message}`);
      x = x.cause;
    } else {
      out.push(String(x));
      break;
    }
  }
  return out;
}

/**
 * Whether an error (or one of its causes) is the browser, WebAssembly or WebGPU running out of memory.
 *
 * @example
 * isOutOfMemory(new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded')); // true
 */
export function isOutOfMemory(e: unknown): boolean {
  return messages(e).some((m) => OOM.test(m));
}

/** The error as the worker reports it: kind, name and the message chain. */
export function serializeError(e: unknown, fallback: WorkerErrorKind): SerializedError {
  const text = messages(e).join(' ← ') || 'unknown error';
  const name = e instanceof Error ? e.name : 'Error';
  if (e instanceof BackendUnavailableError) return { kind: e.backend === 'webgpu' ? 'webgpu-unavailable' : 'backend-unavailable', name, message: e.message };
  if (isOutOfMemory(e)) return { kind: 'out-of-memory', name, message: `out of memory: ${text}` };
  if (e instanceof RangeError || e instanceof TypeError) {
    // The pipeline refuses bad requests with RangeError/TypeError naming the field ("generate: …").
    if (/^(generate|realtime):/.test(e.message)) return { kind: 'bad-request', name, message: e.message };
  }
  return { kind: fallback, name, message: text };
}
