// The golden one-step pipeline on onnxruntime-node's WebGPU EP, run on Chromium's SwiftShader Vulkan driver
// (no GPU needed; slow: about two minutes). The golden runner is started as a child process because the Vulkan
// loader reads LD_LIBRARY_PATH / VK_ICD_FILENAMES when onnxruntime first creates a WebGPU device.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_DIR, requireSwiftShader } from './webgpu-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CASE = fileURLToPath(new URL('../../../../shared/golden/pipeline-sdxs512-t2i', import.meta.url));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 580_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('golden pipeline on WebGPU (SwiftShader)', () => {
  it('reproduces diffusers within 2/255 on the webgpu provider, with no CPU fallback', async () => {
    requireSwiftShader();
    // Asynchronous on purpose: a synchronous spawn would block this worker's event loop for minutes and
    // vitest's worker RPC would time out.
    const r = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/golden.ts'), CASE], {
      ...process.env,
      SDXS_GOLDEN_EP: 'webgpu',
      LD_LIBRARY_PATH: CHROMIUM_DIR,
      VK_ICD_FILENAMES: join(CHROMIUM_DIR, 'vk_swiftshader_icd.json'),
    });
    expect(r.stdout).toMatch(/pipeline-sdxs512-t2i \(pipeline-t2i\): PASS/);
    expect(r.stdout).toMatch(/ok {3}images_seed0/);
    expect(r.stdout).toMatch(/ok {3}images_seed42/);
    expect(r.status).toBe(0);
  }, 600_000);
});
