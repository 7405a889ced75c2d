import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';

/**
 * The backend contract, kept as small as onnxruntime-common's: a runtime turns ONNX model bytes into
 * sessions; a session only runs and disposes. Runtime packages (runtime-node, runtime-web) implement it;
 * everything above (pipeline, distill) is written against these interfaces alone.
 */
export interface Runtime {
  /** Short name of the engine and execution provider actually in use, e.g. `onnxruntime-node/cpu`. */
  readonly name: string;
  /**
   * The execution provider its sessions run on ('cpu', 'wasm', 'webgpu', 'cuda'), when it runs on one: pipelines
   * build their graphs for it (each provider has its own lowerings). Absent for test doubles.
   */
  readonly provider?: string;
  /** What the runtime accepts beyond bytes; absent means nothing more (a browser runtime, a test double). */
  readonly capabilities?: RuntimeCapabilities;
  /**
   * Create a session from serialized ONNX bytes. `externalData` maps the `location` strings of the
   * model's external initializers to where their bytes live (a file path in Node, bytes or a URL in a browser).
   */
  createSession(model: Uint8Array, options?: SessionOptions): Promise<Session>;
}

export interface RuntimeCapabilities {
  /**
   * `externalData` entries may name files by absolute path, which the runtime reads (or maps) itself: a graph's
   * parameters can then point into the model's own safetensors files, and the weights never pass through the
   * JS heap. onnxruntime-node sets it; a browser runtime cannot open paths and leaves it out.
   */
  readonly externalDataFiles?: boolean;
}

export interface SessionOptions {
  /** Execution providers in order of preference, e.g. `['webgpu', 'cpu']`. */
  executionProviders?: readonly string[];
  externalData?: ReadonlyArray<{ path: string; data: string | Uint8Array }>;
  /** Optional label for logs and errors. */
  label?: string;
}

export interface RunOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface SessionIO {
  readonly name: string;
  readonly dtype: DType;
  /** Static dims as numbers, symbolic dims by name. */
  readonly shape: readonly (number | string)[];
}

export interface Session {
  readonly inputs: readonly SessionIO[];
  readonly outputs: readonly SessionIO[];
  /**
   * Run with named inputs; returns the requested outputs (all by default). `options.signal`: a runtime that can stop
   * a run in flight (the isolated Node runtime, which kills its worker process) rejects at once when it aborts;
   * others finish the run and leave the check to the caller.
   */
  run(feeds: Readonly<Record<string, Tensor>>, outputNames?: readonly string[], options?: RunOptions): Promise<Record<string, Tensor>>;
  dispose(): Promise<void>;
}

/**
 * Where a model's files come from: a local folder, a Hugging Face cache snapshot, a URL prefix.
 * Paths are relative to the model root and use `/`.
 */
export interface ModelSource {
  /** Human-readable identity for messages (a folder path, a repo id). */
  readonly id: string;
  exists(path: string): Promise<boolean>;
  readText(path: string): Promise<string>;
  /** Random access to a file's bytes, for reading single tensors out of large safetensors files. */
  open(path: string): Promise<ByteSource>;
  /**
   * The file's absolute path on this machine, when the source is a folder on disk (undefined for URLs and
   * in-memory sources). With a runtime that has `capabilities.externalDataFiles`, the pipeline then lets the
   * runtime read weights straight from the file instead of copying them through JS memory.
   *
   * @example
   * new LocalFolderSource('./sdxs').localPath('unet/diffusion_pytorch_model.safetensors'); // '/home/me/sdxs/unet/…'
   */
  localPath?(path: string): string | undefined;
}

/**
 * Random-access bytes: a file handle in Node, an ArrayBuffer or ranged HTTP fetches in a browser.
 */
export interface ByteSource {
  /** Name used in error messages (a path or URL). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes starting at `offset`; rejects if the range is past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}
