import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Add, Graph, toOnnx } from '@sdxs/graph';
import { Tensor, type Runtime } from '@sdxs/tensor';
import { ProviderUnavailableError, createNodeRuntime, missingCudaLibraries, openNodeRuntime, probeProvider, resolveProvider } from '@sdxs/runtime-node';
import { cudaLibraryNames, ortInstall } from '../src/providers/cuda-libraries.js';
import { ortExecutionProvider } from '../src/providers/ort-options.js';
import { probeModel } from '../src/providers/probe-model.js';
import * as ort from 'onnxruntime-node';

function addOne(): Uint8Array {
  const g = new Graph();
  g.output(Add(g.input('x', 'float32', [2]), 1), 'y');
  return toOnnx(g);
}

async function runsAddOne(rt: Runtime, providers?: string[]): Promise<number[]> {
  const session = await rt.createSession(addOne(), providers ? { executionProviders: providers } : {});
  const { y } = await session.run({ x: new Tensor('float32', [2], new Float32Array([1, 2])) });
  await session.dispose();
  return y!.toArray();
}

const tmp = mkdtempSync(join(tmpdir(), 'sdxs-providers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('execution provider options', () => {
  it('maps providers to onnxruntime-node entries, WebGPU preferring NHWC', () => {
    expect(ortExecutionProvider('cpu')).toBe('cpu');
    expect(ortExecutionProvider('webgpu')).toEqual({ name: 'webgpu', preferredLayout: 'NHWC' });
    expect(ortExecutionProvider('webgpu', { webgpu: { preferredLayout: 'NCHW' } })).toEqual({ name: 'webgpu', preferredLayout: 'NCHW' });
    expect(ortExecutionProvider('cuda')).toEqual({ name: 'cuda' });
    expect(ortExecutionProvider('cuda', { cuda: { deviceId: 1 } })).toEqual({ name: 'cuda', deviceId: 1 });
  });

  it('builds a valid probe model (y = x + x) without @sdxs/graph', async () => {
    const session = await ort.InferenceSession.create(probeModel());
    const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([1.5, -2]), [2]) });
    expect(y?.data).toEqual(new Float32Array([3, -4]));
    await session.release();
  });
});

describe('probing', () => {
  it('finds the CPU available, and caches each answer for the process', async () => {
    const first = probeProvider('cpu');
    expect(await first).toEqual({ provider: 'cpu', available: true });
    expect(probeProvider('cpu')).toBe(first);
    expect(probeProvider('cuda')).toBe(probeProvider('cuda', { cuda: { deviceId: 0 } }));
    expect(probeProvider('cuda', { cuda: { deviceId: 1 } })).not.toBe(probeProvider('cuda'));
  });

  it('resolves to the first provider that works, warning about the ones skipped', async () => {
    const warnings: string[] = [];
    const cuda = await probeProvider('cuda');
    const got = await resolveProvider(['cuda', 'cpu'], { onWarning: (m) => warnings.push(m) });
    if (cuda.available) {
      expect(got).toBe('cuda');
      expect(warnings).toEqual([]);
    } else {
      expect(got).toBe('cpu');
      expect(warnings).toEqual([`onnxruntime-node: cuda is unavailable, using cpu instead: ${cuda.reason}`]);
    }
    expect(await resolveProvider([])).toBe('cpu');
  });
});

describe('CUDA provider libraries', () => {
  const fakeInstall = (files: string[]) => {
    const packageDir = mkdtempSync(join(tmp, 'ort-'));
    const binDir = join(packageDir, 'bin', 'napi-v6', 'linux', 'x64');
    mkdirSync(binDir, { recursive: true });
    for (const f of files) writeFileSync(join(binDir, f), '');
    return { packageDir, binDir };
  };

  it('says how to install them (the exact install-script switch) when they are missing', () => {
    const install = fakeInstall(['libonnxruntime_providers_shared.so']);
    const why = missingCudaLibraries(install, 'linux', 'x64');
    expect(why).toContain('libonnxruntime_providers_cuda.so');
    expect(why).not.toContain('libonnxruntime_providers_shared.so,');
    expect(why).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(why).toContain('onnxruntime-node-install=cuda12');
    expect(why).toContain('ONNXRUNTIME_NODE_INSTALL_CUDA=v12');
    expect(why).toContain(`ONNXRUNTIME_NODE_INSTALL=cuda12 node ${join(install.packageDir, 'script', 'install.js')}`);
    expect(why).toMatch(/CUDA 12 and cuDNN 9/);
  });

  it('is satisfied when they are present, and names the one supported platform otherwise', () => {
    expect(missingCudaLibraries(fakeInstall(cudaLibraryNames('linux')), 'linux', 'x64')).toBeUndefined();
    expect(missingCudaLibraries(fakeInstall([]), 'darwin', 'arm64')).toMatch(/no CUDA provider for darwin\/arm64 .*linux\/x64 only/);
    expect(cudaLibraryNames('win32')).toEqual(['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll']);
  });

  it('matches the switch onnxruntime-node 1.30 install script really reads', async () => {
    const { readFile } = await import('node:fs/promises');
    const utils = await readFile(join(ortInstall().packageDir, 'script', 'install-utils.js'), 'utf8');
    const metadata = await readFile(join(ortInstall().packageDir, 'script', 'install-metadata.js'), 'utf8');
    expect(utils).toContain('process.env.ONNXRUNTIME_NODE_INSTALL ||');
    expect(utils).toContain('npm_config_onnxruntime_node_install');
    expect(utils).toContain('process.env.ONNXRUNTIME_NODE_INSTALL_CUDA');
    expect(utils).toMatch(/case 'v12':/);
    expect(metadata).toMatch(/'linux\/x64': \['cuda12'\]/);
    for (const f of cudaLibraryNames('linux')) expect(metadata).toContain(`'./${f}'`);
  });
});

describe('openNodeRuntime', () => {
  it('runs on the CPU by default, and createNodeRuntime is the CPU at once', async () => {
    const rt = await openNodeRuntime();
    expect(rt).toMatchObject({ name: 'onnxruntime-node/cpu', provider: 'cpu', requested: 'cpu' });
    expect(await runsAddOne(rt)).toEqual([2, 3]);
    expect(createNodeRuntime()).toMatchObject({ name: 'onnxruntime-node/cpu', provider: 'cpu' });
  });

  it('reports what actually runs when CUDA is asked for: CUDA, or the CPU after one warning saying how to get it', async () => {
    const warnings: string[] = [];
    const rt = await openNodeRuntime({ provider: 'cuda', onWarning: (m) => warnings.push(m) });
    const probe = await probeProvider('cuda');
    expect(rt.requested).toBe('cuda');
    if (probe.available) {
      expect(rt).toMatchObject({ name: 'onnxruntime-node/cuda', provider: 'cuda' });
      expect(warnings).toEqual([]);
    } else {
      expect(rt).toMatchObject({ name: 'onnxruntime-node/cpu', provider: 'cpu' });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^onnxruntime-node: cuda is unavailable, running on cpu instead: /);
      // Here (no CUDA libraries downloaded) the reason is the install instruction.
      if (missingCudaLibraries()) expect(warnings[0]).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    }
    expect(await runsAddOne(rt)).toEqual([2, 3]);
  });

  it('throws a ProviderUnavailableError instead of falling back when asked to', async () => {
    const probe = await probeProvider('cuda');
    if (probe.available) return; // nothing to refuse on a machine where CUDA works
    const err = await openNodeRuntime({ provider: 'cuda', fallback: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect(err).toMatchObject({ provider: 'cuda', reason: probe.reason });
  });

  it('refuses unknown provider names', async () => {
    // A name from a CLI flag or a config file, not checked by the type system.
    const provider: string = 'wasm';
    const options = JSON.parse(JSON.stringify({ provider })) as Parameters<typeof openNodeRuntime>[0];
    await expect(openNodeRuntime(options)).rejects.toThrow(/unknown provider "wasm"; choose cpu, webgpu or cuda/);
  });

  it("resolves a session's own provider list, ignoring names it does not have, warning once per runtime", async () => {
    const warnings: string[] = [];
    const rt = createNodeRuntime({ onWarning: (m) => warnings.push(m) });
    expect(await runsAddOne(rt, ['wasm', 'cpu'])).toEqual([2, 3]);
    expect(await runsAddOne(rt, ['wasm', 'cpu'])).toEqual([2, 3]);
    expect(warnings).toEqual(['onnxruntime-node has no "wasm" execution provider (it has cpu, webgpu, cuda); ignored']);
  });

  it('keeps labels and causes on session errors', async () => {
    const bytes = addOne().slice();
    bytes.fill(0xff, 0, 40);
    const err = await createNodeRuntime()
      .createSession(bytes, { label: 'broken.onnx' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toMatch(/broken\.onnx: onnxruntime could not create the session/);
    expect(err instanceof Error && err.cause).toBeInstanceOf(Error);
  });
});
