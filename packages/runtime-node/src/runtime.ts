import * as ort from 'onnxruntime-node';
import { isDType, type DType, type Runtime, type RuntimeCapabilities, type Session, type SessionIO, type SessionOptions, type Tensor } from '@sdxs/tensor';
import { prepareExternalData } from './external-data/prepare.js';
import { ortExecutionProvider } from './providers/ort-options.js';
import { resolveProvider } from './providers/resolve.js';
import { isProviderName, PROVIDERS, type ProviderName, type ProviderSettings } from './providers/types.js';
import { fromOrtTensor, toOrtTensor } from './tensor-convert.js';
import { hostConfig, IsolatedNodeRuntime } from './isolated/runtime.js';

export interface NodeRuntimeOptions {
  /** Threads for the CPU EP's operators (default: ONNX Runtime's choice, one per core). */
  intraOpThreads?: number;
  /** onnxruntime graph optimisation level (default 'all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * onnxruntime's own log level for sessions: 0 verbose … 4 fatal (default 3, errors). Its warnings (such as
   * shape ops placed on the CPU next to a GPU provider) are routine; 0 lists where every node runs.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Told about providers that were asked for but do not work here. Nothing is printed otherwise. */
  onWarning?: (message: string) => void;
  /**
   * Further onnxruntime session options, laid over the ones above (profiling, memory pattern, session config
   * entries under `extra`): for benchmarks that try a setting before it becomes a default.
   */
  ortSessionOptions?: Readonly<ort.InferenceSession.SessionOptions>;
  /**
   * Run sessions in a worker process (default false), so that a run's abort signal stops it at once: the process
   * is killed and a new one takes over (see isolated/runtime.ts). Tensors are copied across; `ortSessionOptions`
   * does not apply.
   */
  isolate?: boolean;
}

export interface OpenNodeRuntimeOptions extends NodeRuntimeOptions, ProviderSettings {
  /** The execution provider to run on (default 'cpu'). */
  provider?: ProviderName;
  /** Run on the CPU, after a warning, when `provider` does not work here (default true); false throws instead. */
  fallback?: boolean;
}

/** A Runtime on onnxruntime-node, saying which provider it runs on. */
export interface NodeRuntime extends Runtime {
  /** The provider sessions run on: the one requested, or 'cpu' after a fallback. */
  readonly provider: ProviderName;
  /** The provider asked for. */
  readonly requested: ProviderName;
}

function ioInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): SessionIO[] {
  return meta.map((m) => {
    if (!m.isTensor) return { name: m.name, dtype: 'float32' as DType, shape: [] };
    const t: string = m.type;
    return { name: m.name, dtype: isDType(t) ? t : 'float32', shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) };
  });
}

class NodeSession implements Session {
  readonly inputs: readonly SessionIO[];
  readonly outputs: readonly SessionIO[];
  private readonly session: ort.InferenceSession;
  /** The session's label (e.g. the graph kind) for errors, "" when none was given. */
  private readonly label: string;

  constructor(session: ort.InferenceSession, label = '') {
    this.session = session;
    this.label = label;
    this.inputs = ioInfo(session.inputMetadata);
    this.outputs = ioInfo(session.outputMetadata);
  }

  async run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = outputNames ? await this.session.run(ortFeeds, [...outputNames]) : await this.session.run(ortFeeds);
    } catch (e) {
      // onnxruntime's own words (the input, the dimension, the dtype), on one line, after the graph they are about.
      const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim();
      throw new Error(`${this.label}onnxruntime could not run the session: ${message}`, { cause: e });
    }
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(results)) {
      out[k] = fromOrtTensor(k, v);
      v.dispose();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

class OrtNodeRuntime implements NodeRuntime {
  readonly name: string;
  // prepareExternalData hands file entries to onnxruntime by folder, so it reads (or maps) them itself.
  readonly capabilities: RuntimeCapabilities = { externalDataFiles: true };
  readonly provider: ProviderName;
  readonly requested: ProviderName;
  readonly #options: OpenNodeRuntimeOptions;
  readonly #warned = new Set<string>();

  constructor(provider: ProviderName, options: OpenNodeRuntimeOptions) {
    this.provider = provider;
    this.requested = options.provider ?? 'cpu';
    this.name = `onnxruntime-node/${provider}`;
    this.#options = options;
  }

  async createSession(model: Uint8Array, sessionOptions: SessionOptions = {}): Promise<Session> {
    const label = sessionOptions.label ? `${sessionOptions.label}: ` : '';
    try {
      const provider = await this.#sessionProvider(sessionOptions.executionProviders);
      const opts: ort.InferenceSession.SessionOptions = {
        executionProviders: [ortExecutionProvider(provider, this.#options)],
        graphOptimizationLevel: this.#options.graphOptimizationLevel ?? 'all',
        logSeverityLevel: this.#options.logSeverityLevel ?? 3,
      };
      if (this.#options.intraOpThreads !== undefined) opts.intraOpNumThreads = this.#options.intraOpThreads;
      Object.assign(opts, this.#options.ortSessionOptions);
      let bytes = model;
      if (sessionOptions.externalData?.length) {
        const prepared = await prepareExternalData(model, sessionOptions.externalData);
        bytes = prepared.model;
        if (prepared.inMemory.length) opts.externalData = prepared.inMemory;
        if (prepared.folder !== undefined) {
          // Kept beside any session config entries ortSessionOptions brought.
          const session: unknown = opts.extra?.['session'];
          opts.extra = { ...opts.extra, session: { ...(typeof session === 'object' ? session : {}), model_external_initializers_file_folder_path: prepared.folder } };
        }
      }
      return new NodeSession(await ort.InferenceSession.create(bytes, opts), label);
    } catch (e) {
      throw new Error(`${label}onnxruntime could not create the session: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /** The runtime's provider, unless the session asks for others (resolved the same way, warnings once each). */
  async #sessionProvider(requested: readonly string[] | undefined): Promise<ProviderName> {
    if (!requested?.length) return this.provider;
    const known: ProviderName[] = [];
    for (const name of requested) {
      if (isProviderName(name)) known.push(name);
      else this.#warn(`onnxruntime-node has no ${JSON.stringify(name)} execution provider (it has ${PROVIDERS.join(', ')}); ignored`);
    }
    if (known.length === 0) return this.provider;
    return resolveProvider(known, { ...this.#options, onWarning: (m) => this.#warn(m) });
  }

  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#options.onWarning?.(message);
  }
}

/**
 * The onnxruntime-node backend on the CPU, ready at once. For a GPU use {@link openNodeRuntime}, which first
 * checks that the provider works here.
 *
 * @example
 * const rt = createNodeRuntime();
 * const session = await rt.createSession(toOnnx(graph));
 * const { y } = await session.run({ x });
 */
export function createNodeRuntime(options: NodeRuntimeOptions = {}): NodeRuntime {
  if (options.isolate) return new IsolatedNodeRuntime('cpu', 'cpu', hostConfig('cpu', options));
  return new OrtNodeRuntime('cpu', { ...options, provider: 'cpu' });
}

/**
 * The onnxruntime-node backend on `options.provider` ('cpu', 'webgpu' or 'cuda'). The provider is tried first
 * (a one-node model is created and run with it, once per process); if it does not work here the runtime runs
 * on the CPU and `onWarning` is told why and how to get the provider — or, with `fallback: false`, this rejects
 * with a ProviderUnavailableError. `runtime.name` and `runtime.provider` say what actually runs.
 *
 * @example
 * const rt = await openNodeRuntime({ provider: 'webgpu', onWarning: (m) => console.warn(m) });
 * rt.name; // 'onnxruntime-node/webgpu', or 'onnxruntime-node/cpu' after a fallback
 */
export async function openNodeRuntime(options: OpenNodeRuntimeOptions = {}): Promise<NodeRuntime> {
  const requested = options.provider ?? 'cpu';
  if (!isProviderName(requested)) throw new TypeError(`openNodeRuntime: unknown provider ${JSON.stringify(requested)}; choose cpu, webgpu or cuda`);
  const provider = await resolveProvider([requested], options);
  if (options.isolate) return new IsolatedNodeRuntime(provider, requested, hostConfig(provider, options));
  return new OrtNodeRuntime(provider, options);
}
