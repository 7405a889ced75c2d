import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { ByteSource, ModelSource, Runtime, Session, SessionOptions, Tensor } from '@sdxs/tensor';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { resolveGoldenPath } from '../../../tools/golden/links.js';
import { materializeModelFolder, type MaterializedFolder } from '../../../tools/golden/materialize.js';

export const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
export const CASE = join(GOLDEN, 'pipeline-sdxs512-t2i');

/** The golden pipeline case's model folder with real symlinks (see tools/golden/materialize.ts). */
export function goldenModel(): MaterializedFolder {
  return materializeModelFolder(join(CASE, 'model'));
}

export function goldenSource(model: MaterializedFolder): ModelSource {
  return new LocalFolderSource(model.path);
}

/** A reference tensor of the golden case's outputs.safetensors. */
export async function goldenOutput(name: string): Promise<Tensor> {
  const f = await openSafetensorsFile(resolveGoldenPath(join(CASE, 'outputs.safetensors')));
  try {
    return await f.read(name);
  } finally {
    await f.close();
  }
}

/** A ModelSource whose listed files read as the given text (undefined: the file does not exist). */
export function withFiles(base: ModelSource, files: Readonly<Record<string, string | undefined>>): ModelSource {
  const has = (p: string) => Object.hasOwn(files, p);
  return {
    id: `${base.id}+overrides`,
    exists: async (p) => (has(p) ? files[p] !== undefined : base.exists(p)),
    readText: async (p) => {
      if (!has(p)) return base.readText(p);
      const text = files[p];
      if (text === undefined) throw new Error(`${p}: no such file`);
      return text;
    },
    open: (p): Promise<ByteSource> => base.open(p),
  };
}

/** A runtime that counts session creations and runs by session label. */
export interface CountingRuntime extends Runtime {
  readonly created: string[];
  readonly runs: Map<string, number>;
  /** Batch sizes of each text-encoder run. */
  readonly textBatches: number[];
}

export function countingRuntime(inner: Runtime = createNodeRuntime({ intraOpThreads: 2 }), beforeRun?: (label: string) => void): CountingRuntime {
  const created: string[] = [];
  const runs = new Map<string, number>();
  const textBatches: number[] = [];
  return {
    name: `counting(${inner.name})`,
    ...(inner.provider !== undefined ? { provider: inner.provider } : {}),
    created,
    runs,
    textBatches,
    async createSession(model: Uint8Array, options?: SessionOptions): Promise<Session> {
      const label = options?.label ?? '?';
      created.push(label);
      const s = await inner.createSession(model, options);
      return {
        inputs: s.inputs,
        outputs: s.outputs,
        run: (feeds, names) => {
          runs.set(label, (runs.get(label) ?? 0) + 1);
          beforeRun?.(label);
          if (label === 'text-encoder') textBatches.push(feeds.input_ids?.shape[0] ?? -1);
          return s.run(feeds, names);
        },
        dispose: () => s.dispose(),
      };
    },
  };
}

/** Largest |a − b| over two float32 tensors of one shape. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shapes differ: [${a.shape}] vs [${b.shape}]`);
  let m = 0;
  for (let i = 0; i < a.size; i++) {
    const d = Math.abs(Number(a.data[i]) - Number(b.data[i]));
    if (!(d <= m)) m = d;
  }
  return m;
}
