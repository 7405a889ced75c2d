import type { InferenceSession } from 'onnxruntime-web';
import { isDType, type DType, type Runtime, type Session, type SessionIO, type SessionOptions, type Tensor } from '@sdxs/tensor';
import type { Backend } from './backend.js';
import { loadOrt, type OrtLoadOptions } from './ort/load.js';
import { fromOrtTensor, toOrtTensor, type OrtModule } from './ort/tensor-convert.js';

export interface WebRuntimeOptions extends OrtLoadOptions {
  /** 'wasm' (default) or 'webgpu'. Pick one with chooseBackend(await probeBackends()). */
  readonly backend?: Backend;
  /** WebGPU layout for convolutions; NHWC measured about 2× faster for the U-Net in onnxruntime-node (docs/DESIGN.md). */
  readonly preferredLayout?: 'NCHW' | 'NHWC';
  /** onnxruntime graph optimisation level (default 'all'). */
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** onnxruntime's log level for sessions: 0 verbose … 4 fatal (default 3, errors). */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Told once about execution providers a session asked for that this runtime does not have. */
  readonly onWarning?: (message: string) => void;
}

/** A Runtime on onnxruntime-web, saying which backend and how many threads it runs with. */
export interface WebRuntime extends Runtime {
  readonly backend: Backend;
  /** The same as `backend`: the execution provider pipelines build their graphs for. */
  readonly provider: Backend;
  /** WebAssembly threads onnxruntime was started with (1 unless the page is cross-origin isolated). */
  readonly threads: number;
}

function ioInfo(names: readonly string[], meta: readonly InferenceSession.ValueMetadata[] | undefined): SessionIO[] {
  return names.map((name, i) => {
    const m = meta?.[i];
    if (!m || !m.isTensor) return { name, dtype: 'float32' satisfies DType, shape: [] };
    const t: string = m.type;
    return { name, dtype: isDType(t) ? t : 'float32', shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) };
  });
}

class WebSession implements Session {
  readonly inputs: readonly SessionIO[];
  readonly outputs: readonly SessionIO[];
  readonly #ort: OrtModule;
  readonly #session: InferenceSession;

  constructor(ort: OrtModule, session: InferenceSession) {
    this.#ort = ort;
    this.#session = session;
    this.inputs = ioInfo(session.inputNames, session.inputMetadata);
    this.outputs = ioInfo(session.outputNames, session.outputMetadata);
  }

  async run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, InstanceType<OrtModule['Tensor']>> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(this.#ort, v);
    const results = outputNames ? await this.#session.run(ortFeeds, [...outputNames]) : await this.#session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(results)) {
      out[k] = fromOrtTensor(k, v);
      v.dispose();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.#session.release();
  }
}

class OrtWebRuntime implements WebRuntime {
  readonly name: string;
  readonly backend: Backend;
  readonly threads: number;
  get provider(): Backend {
    return this.backend;
  }
  readonly #ort: OrtModule;
  readonly #options: WebRuntimeOptions;
  readonly #warned = new Set<string>();

  constructor(ort: OrtModule, backend: Backend, threads: number, options: WebRuntimeOptions) {
    this.#ort = ort;
    this.backend = backend;
    this.threads = threads;
    this.#options = options;
    this.name = `onnxruntime-web/${backend}`;
  }

  async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<Session> {
    const label = options.label ? `${options.label}: ` : '';
    this.#checkProviders(options.executionProviders);
    const opts: InferenceSession.SessionOptions = {
      executionProviders: this.backend === 'webgpu' ? [{ name: 'webgpu', preferredLayout: this.#options.preferredLayout ?? 'NHWC' }] : ['wasm'],
      graphOptimizationLevel: this.#options.graphOptimizationLevel ?? 'all',
      logSeverityLevel: this.#options.logSeverityLevel ?? 3,
    };
    if (options.externalData?.length) opts.externalData = options.externalData.map((e) => ({ path: e.path, data: e.data }));
    try {
      return new WebSession(this.#ort, await this.#ort.InferenceSession.create(model, opts));
    } catch (e) {
      throw new Error(`${label}onnxruntime-web (${this.backend}) could not create the session: ${errorText(e)}`, { cause: e });
    }
  }

  /** A session may name providers; this runtime has exactly one backend, so others are ignored (once, with a warning). */
  #checkProviders(requested: readonly string[] | undefined): void {
    for (const name of requested ?? []) {
      const same = name === this.backend || (this.backend === 'wasm' && name === 'cpu');
      if (same) continue;
      const message = `this onnxruntime-web runtime runs on ${this.backend}; the ${JSON.stringify(name)} provider a session asked for is ignored`;
      if (this.#warned.has(message)) continue;
      this.#warned.add(message);
      this.#options.onWarning?.(message);
    }
  }
}

/** onnxruntime-web throws numbers (wasm error codes) and strings as well as Errors. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e) ?? String(e);
}

/**
 * The onnxruntime-web backend ('wasm' or 'webgpu'), loading its entry point on first use. Pair it with
 * `@sdxs/pipeline`, whose graphs are built for the same target (`target: runtime.backend`).
 *
 * @example
 * const runtime = await createWebRuntime({ backend: 'webgpu', wasmPaths: '/ort/' });
 * const pipe = await StableDiffusionPipeline.load(new UrlModelSource('/models/sdxs/'), runtime, { target: runtime.backend });
 */
export async function createWebRuntime(options: WebRuntimeOptions = {}): Promise<WebRuntime> {
  const backend = options.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'webgpu') throw new TypeError(`createWebRuntime: unknown backend ${JSON.stringify(backend)}; choose 'wasm' or 'webgpu'`);
  const { ort, threads } = await loadOrt(backend, options);
  return new OrtWebRuntime(ort, backend, threads, options);
}
