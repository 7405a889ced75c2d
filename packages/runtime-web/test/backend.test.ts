import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, chooseBackend, probeBackends, type BackendReport } from '@sdxs/runtime-web';

const gpu = (f16: boolean): BackendReport['webgpu'] => ({ available: true, adapter: 'test gpu', shaderF16: f16 });
const noGpu: BackendReport['webgpu'] = { available: false, shaderF16: false, reason: 'no WebGPU adapter' };
const wasm = (threads: boolean): BackendReport['wasm'] => ({ simd: true, threads, crossOriginIsolated: threads, cores: 8 });

describe('chooseBackend', () => {
  it('auto takes WebGPU, in float16 only where the adapter has shader-f16', () => {
    expect(chooseBackend({ webgpu: gpu(true), wasm: wasm(true) })).toEqual({ backend: 'webgpu', dtype: 'float16', notes: [] });
    const f32 = chooseBackend({ webgpu: gpu(false), wasm: wasm(true) });
    expect(f32).toMatchObject({ backend: 'webgpu', dtype: 'float32' });
    expect(f32.notes.join()).toMatch(/no shader-f16/);
    expect(chooseBackend({ webgpu: gpu(true), wasm: wasm(true) }, 'auto', { float16: false }).dtype).toBe('float32');
  });

  it('auto falls back to WASM and says why, and that threads need isolation', () => {
    const c = chooseBackend({ webgpu: noGpu, wasm: wasm(false) });
    expect(c).toMatchObject({ backend: 'wasm', dtype: 'float32' });
    expect(c.notes[0]).toMatch(/^WebGPU is not available \(no WebGPU adapter\)/);
    expect(c.notes[1]).toMatch(/not cross-origin isolated/);
    expect(chooseBackend({ webgpu: noGpu, wasm: wasm(true) }).notes).toHaveLength(1);
  });

  it('an explicit backend that cannot run is an error naming it', () => {
    expect(() => chooseBackend({ webgpu: noGpu, wasm: wasm(true) }, 'webgpu')).toThrow(BackendUnavailableError);
    expect(() => chooseBackend({ webgpu: noGpu, wasm: wasm(true) }, 'webgpu')).toThrow(/WebGPU is not available: no WebGPU adapter/);
    expect(() => chooseBackend({ webgpu: gpu(true), wasm: { ...wasm(true), simd: false } }, 'wasm')).toThrow(/SIMD/);
    expect(chooseBackend({ webgpu: gpu(true), wasm: wasm(true) }, 'wasm').backend).toBe('wasm');
  });

  it('probes without throwing where there is no navigator.gpu (Node)', async () => {
    const r = await probeBackends();
    expect(r.webgpu.available).toBe(false);
    expect(r.webgpu.reason).toMatch(/navigator\.gpu|secure context/);
    expect(r.wasm.simd).toBe(true);
  });
});
