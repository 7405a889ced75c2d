import * as ort from 'onnxruntime-node';
import { isDType, type DType, type Runtime, type Session, type SessionIO, type SessionOptions, type Tensor } from '@sdxs/tensor';
import { fromOrtTensor, toOrtTensor } from './tensor-convert.js';

export interface NodeRuntimeOptions {
  /** Threads for the CPU EP's operators (default: ONNX Runtime's choice, one per core). */
  intraOpThreads?: number;
  /** onnxruntime graph optimisation level (default 'all'). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
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

  constructor(session: ort.InferenceSession) {
    this.session = session;
    this.inputs = ioInfo(session.inputMetadata);
    this.outputs = ioInfo(session.outputMetadata);
  }

  async run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v);
    const results = outputNames ? await this.session.run(ortFeeds, [...outputNames]) : await this.session.run(ortFeeds);
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

/**
 * The onnxruntime-node backend. CPU today; WebGPU and CUDA providers with fallback come with the pipeline.
 *
 * @example
 * const rt = createNodeRuntime();
 * const session = await rt.createSession(toOnnx(graph));
 * const { y } = await session.run({ x });
 */
export function createNodeRuntime(options: NodeRuntimeOptions = {}): Runtime {
  return {
    name: 'onnxruntime-node/cpu',
    async createSession(model: Uint8Array, sessionOptions: SessionOptions = {}): Promise<Session> {
      const opts: ort.InferenceSession.SessionOptions = {
        executionProviders: ['cpu'],
        graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      };
      if (options.intraOpThreads !== undefined) opts.intraOpNumThreads = options.intraOpThreads;
      if (sessionOptions.externalData) {
        opts.externalData = sessionOptions.externalData.map((e) => ({ path: e.path, data: e.data }));
      }
      try {
        return new NodeSession(await ort.InferenceSession.create(model, opts));
      } catch (e) {
        const label = sessionOptions.label ? `${sessionOptions.label}: ` : '';
        throw new Error(`${label}onnxruntime could not create the session: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
