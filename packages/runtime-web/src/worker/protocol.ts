/**
 * Messages between the page and the generation worker. Everything here survives structured cloning; image
 * bytes are transferred, not copied.
 */
import type { LoweringOverrides } from '@sdxs/graph';
import type { GeneratedImage, GenerateTimings, ProgressEvent } from '@sdxs/pipeline';
import type { Backend, BackendPreference, BackendReport } from '../backend.js';
import type { DownloadProgress } from '../source/download.js';

export interface LoadRequest {
  /** URL of a diffusers folder: same origin (`/models/sdxs/`) or a Hugging Face `resolve` URL. */
  readonly model: string;
  /** URL of a ControlNetModel folder (e.g. the SDXS sketch ControlNet); enables control images. */
  readonly controlnet?: string;
  /** 'auto' (default): WebGPU when there is an adapter, else WASM. */
  readonly backend?: BackendPreference;
  /** Allow float16 graphs where the adapter has shader-f16 (default true). */
  readonly float16?: boolean;
  /** Where onnxruntime-web's .mjs/.wasm files are served (default `/ort/` on the page's origin). */
  readonly wasmPaths?: string;
  /** WebAssembly threads (default: the cores when cross-origin isolated, else 1). */
  readonly numThreads?: number;
  /** Force composite-op lowerings of the graphs (see @sdxs/graph). */
  readonly lowering?: LoweringOverrides;
  /** Keep downloaded files in Cache Storage (default true). */
  readonly cache?: boolean;
  /** Extra request headers for the model files (e.g. Authorization for a gated repo). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadedInfo {
  readonly backend: Backend;
  readonly dtype: 'float32' | 'float16';
  /** e.g. `onnxruntime-web/webgpu`. */
  readonly runtime: string;
  readonly threads: number;
  readonly report: BackendReport;
  /** What the user should know (WebGPU missing, one thread only…). */
  readonly notes: readonly string[];
  readonly defaultSize?: { readonly width: number; readonly height: number };
  /** Pixels per latent along a side (the VAE's scale factor): widths and heights must be multiples of it. */
  readonly vaeScaleFactor: number;
  readonly controlnet: boolean;
  /** Whether downloaded files are kept in Cache Storage. */
  readonly cached: boolean;
  readonly loadMs: number;
}

/** 8-bit RGBA (or RGB, grey) pixels; ImageData fits. */
export interface PixelsMessage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

export interface WorkerGenerateRequest {
  readonly prompt: string;
  readonly negativePrompt?: string;
  /** A number below 2^53 (or a decimal string for 64-bit seeds); random when absent. */
  readonly seed?: number | string;
  readonly width?: number;
  readonly height?: number;
  readonly steps?: number;
  readonly guidanceScale?: number;
  /** A control image for the ControlNet (the pipeline must be loaded with one). */
  readonly control?: {
    readonly image: PixelsMessage;
    /** `sketch`: dark strokes on white, inverted as the SDXS sketch model expects; default `raw`. */
    readonly mode?: 'raw' | 'sketch' | 'canny';
    /** controlnet_conditioning_scale (default 1). */
    readonly scale?: number;
    /** RGBA with transparent untouched pixels: composite over white first. */
    readonly alpha?: 'drop' | 'white';
  };
}

export interface GeneratedMessage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray<ArrayBuffer>;
  /** The seed, as a decimal string (it may exceed 2^53). */
  readonly seed?: string;
  /**
   * How the image was made (prompt, seed, steps, guidance, size, model…): the pipeline image's own, so the page can
   * rebuild a GeneratedImage that writes the same PNG metadata (methods do not survive structured cloning; a bigint
   * seed does).
   */
  readonly parameters: GeneratedImage['parameters'];
  readonly timings: GenerateTimings;
  readonly backend: Backend;
}

/** The kinds of failure the page explains differently. */
export type WorkerErrorKind = 'webgpu-unavailable' | 'backend-unavailable' | 'model-load' | 'out-of-memory' | 'bad-request' | 'not-loaded' | 'generate';

export interface SerializedError {
  readonly kind: WorkerErrorKind;
  readonly name: string;
  readonly message: string;
}

export type WorkerProgress = ProgressEvent | ({ readonly stage: 'download' } & DownloadProgress);

export type ToWorker =
  | { readonly id: number; readonly type: 'load'; readonly request: LoadRequest }
  | { readonly id: number; readonly type: 'generate'; readonly request: WorkerGenerateRequest }
  | { readonly id: number; readonly type: 'dispose' };

export type FromWorker =
  | { readonly id: number; readonly type: 'progress'; readonly event: WorkerProgress }
  | { readonly id: number; readonly type: 'loaded'; readonly info: LoadedInfo }
  | { readonly id: number; readonly type: 'generated'; readonly image: GeneratedMessage }
  | { readonly id: number; readonly type: 'disposed' }
  | { readonly id: number; readonly type: 'error'; readonly error: SerializedError };
