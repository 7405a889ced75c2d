import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, isOutOfMemory } from '@sdxs/runtime-web';
import { serializeError } from '../src/errors.js';

describe('error kinds', () => {
  it('recognises running out of memory in WebAssembly, onnxruntime, JS and WebGPU, through causes', () => {
    for (const m of [
      'WebAssembly.Memory.grow(): Maximum memory size exceeded',
      'Aborted(OOM)',
      'Cannot enlarge memory arrays to size 4294967296 bytes',
      "onnxruntime-web (wasm) could not create the session: std::bad_alloc",
      'Array buffer allocation failed',
      'GPUOutOfMemoryError: Out of memory',
    ]) {
      expect(isOutOfMemory(new Error(m)), m).toBe(true);
    }
    expect(isOutOfMemory(new Error('session failed', { cause: new RangeError('Array buffer allocation failed') }))).toBe(true);
    expect(isOutOfMemory(new Error('Unexpected token < in JSON'))).toBe(false);
    expect(isOutOfMemory('Aborted(OOM)')).toBe(true);
  });

  it('serializes with the kind the page explains', () => {
    expect(serializeError(new Error('x', { cause: new Error('Aborted(OOM)') }), 'generate')).toMatchObject({ kind: 'out-of-memory', message: expect.stringMatching(/^out of memory: Error: x ← Error: Aborted\(OOM\)/) });
    expect(serializeError(new BackendUnavailableError('webgpu', 'no adapter'), 'model-load')).toEqual({ kind: 'webgpu-unavailable', name: 'BackendUnavailableError', message: 'no adapter' });
    expect(serializeError(new RangeError('generate: "width" must be between 8 and 4096, got 100000'), 'generate').kind).toBe('bad-request');
    expect(serializeError(new RangeError('something else'), 'generate').kind).toBe('generate');
    expect(serializeError(new Error('HTTP 404'), 'model-load')).toMatchObject({ kind: 'model-load', message: 'Error: HTTP 404' });
    expect(serializeError(42, 'generate')).toMatchObject({ kind: 'generate', name: 'Error', message: '42' });
  });
});
