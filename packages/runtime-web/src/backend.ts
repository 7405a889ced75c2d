/**
 * What this browser can run: a WebGPU adapter (and whether it has `shader-f16`), WebAssembly SIMD, and threads
 * (which need SharedArrayBuffer, i.e. a cross-origin isolated page: COOP + COEP headers). Works on the main
 * thread and in workers. The TypeScript DOM library has no WebGPU types yet, so the few members read here are
 * described structurally.
 */

export type Backend = 'webgpu' | 'wasm';
export type BackendPreference = Backend | 'auto';

interface GpuAdapterLike {
  readonly features: { has(name: string): boolean };
  readonly limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number };
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string };
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

interface NavigatorLike {
  readonly hardwareConcurrency: number;
  readonly gpu?: GpuLike;
}

export interface WebGpuReport {
  readonly available: boolean;
  /** Why WebGPU cannot be used, when it cannot. */
  readonly reason?: string;
  /** `vendor architecture (description)` of the adapter, e.g. `google swiftshader`. */
  readonly adapter?: string;
  /** The adapter has `shader-f16`, so float16 graphs can run. */
  readonly shaderF16: boolean;
  readonly maxBufferSize?: number;
  readonly maxStorageBufferBindingSize?: number;
}

export interface WasmReport {
  readonly simd: boolean;
  /** SharedArrayBuffer is usable: the page is cross-origin isolated. */
  readonly threads: boolean;
  readonly crossOriginIsolated: boolean;
  readonly cores: number;
}

export interface BackendReport {
  readonly webgpu: WebGpuReport;
  readonly wasm: WasmReport;
}

// (module (func (drop (i32x4.dot_i16x8_s (i8x16.splat (i32.const 0)) (v128.const i32x4 0 0 0 0))))) — onnxruntime-web's own check.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 30, 1, 28, 0, 65, 0, 253, 15, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 253, 186, 1,
  26, 11,
]);

function wasmReport(): WasmReport {
  let simd = false;
  try {
    simd = typeof WebAssembly !== 'undefined' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    simd = false;
  }
  const isolated = globalThis.crossOriginIsolated === true;
  const nav: NavigatorLike | undefined = globalThis.navigator;
  return { simd, threads: isolated && typeof SharedArrayBuffer !== 'undefined', crossOriginIsolated: isolated, cores: nav?.hardwareConcurrency ?? 1 };
}

async function webGpuReport(): Promise<WebGpuReport> {
  const nav: NavigatorLike | undefined = globalThis.navigator;
  const gpu = nav?.gpu;
  if (!gpu) {
    const secure = globalThis.isSecureContext !== false;
    return { available: false, shaderF16: false, reason: secure ? 'this browser has no WebGPU (navigator.gpu is missing)' : 'WebGPU needs a secure context (https or localhost)' };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { available: false, shaderF16: false, reason: `requestAdapter() failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!adapter) return { available: false, shaderF16: false, reason: 'no WebGPU adapter (the GPU is blocklisted or WebGPU is disabled)' };
  const info = adapter.info;
  const name = [info?.vendor, info?.architecture].filter((s) => s).join(' ') + (info?.description ? ` (${info.description})` : '');
  return {
    available: true,
    adapter: name || 'unknown adapter',
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/**
 * Probe WebGPU and WebAssembly. Safe to call anywhere; never throws.
 *
 * @example
 * const report = await probeBackends();
 * if (!report.webgpu.available) console.log(report.webgpu.reason);
 */
export async function probeBackends(): Promise<BackendReport> {
  return { webgpu: await webGpuReport(), wasm: wasmReport() };
}

export interface BackendChoice {
  readonly backend: Backend;
  /** float16 where WebGPU has `shader-f16` (and the caller allows it), float32 otherwise. */
  readonly dtype: 'float32' | 'float16';
  /** Things the user should know, e.g. that WebGPU was missing and WASM is used instead. */
  readonly notes: readonly string[];
}

/** Thrown when a backend was asked for explicitly and this browser cannot run it. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  readonly backend: Backend;
  constructor(backend: Backend, message: string) {
    super(message);
    this.backend = backend;
  }
}

/**
 * Pick the backend for a preference: `auto` takes WebGPU when there is an adapter, else WASM (with a note
 * saying why); an explicit choice that cannot run throws a BackendUnavailableError.
 *
 * @example
 * const { backend, dtype, notes } = chooseBackend(await probeBackends(), 'auto');
 */
export function chooseBackend(report: BackendReport, preference: BackendPreference = 'auto', options: { float16?: boolean } = {}): BackendChoice {
  const notes: string[] = [];
  const wasmOk = report.wasm.simd;
  const useWebGpu = preference === 'webgpu' || (preference === 'auto' && report.webgpu.available);
  if (useWebGpu) {
    if (!report.webgpu.available) throw new BackendUnavailableError('webgpu', `WebGPU is not available: ${report.webgpu.reason ?? 'unknown reason'}`);
    const f16 = (options.float16 ?? true) && report.webgpu.shaderF16;
    if (!report.webgpu.shaderF16) notes.push('the WebGPU adapter has no shader-f16: running in float32');
    return { backend: 'webgpu', dtype: f16 ? 'float16' : 'float32', notes };
  }
  if (!wasmOk) throw new BackendUnavailableError('wasm', 'WebAssembly SIMD is not supported by this browser');
  if (preference === 'auto') notes.push(`WebGPU is not available (${report.webgpu.reason ?? 'unknown reason'}): running on the CPU with WebAssembly, which is much slower`);
  if (!report.wasm.threads) notes.push('the page is not cross-origin isolated (COOP/COEP headers): WebAssembly runs on one thread');
  return { backend: 'wasm', dtype: 'float32', notes };
}
