// Shared by webgpu*.test.ts and webgpu-child.ts: the job format, spawning the child with the SwiftShader
// environment, and reading onnxruntime's verbose node-placement log.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProviderName } from '../src/index.js';

export interface ChildFeed {
  dtype: 'float32';
  shape: number[];
  data: number[];
}

export interface ChildCase {
  name: string;
  /** Model file path (the parent writes it). */
  model: string;
  feeds: Record<string, ChildFeed>;
}

export interface ChildJob {
  provider: ProviderName;
  layout?: 'NHWC' | 'NCHW';
  fallback?: boolean;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  cases: ChildCase[];
}

export type ChildOutputs = Record<string, { shape: number[]; data: number[] }>;

export type ChildEvent =
  | { kind: 'runtime'; name: string; provider: string; warnings: string[] }
  | { kind: 'open-error'; message: string }
  | { kind: 'case'; name: string; outputs: ChildOutputs }
  | { kind: 'case'; name: string; error: string };

export const CASE_MARKER = '@@sdxs-case ';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const CHILD = join(HERE, 'webgpu-child.ts');

/** Where Debian's chromium package puts its SwiftShader Vulkan driver and Vulkan loader. */
export const CHROMIUM_DIR = process.env.SDXS_CHROMIUM_DIR ?? '/usr/lib/chromium';
const ICD = join(CHROMIUM_DIR, 'vk_swiftshader_icd.json');

/**
 * Throws, with the command that fixes it, when Chromium's SwiftShader is not installed: the WebGPU tests must
 * fail visibly on a machine without it rather than skip (CI installs it).
 */
export function requireSwiftShader(): void {
  const missing = [ICD, join(CHROMIUM_DIR, 'libvulkan.so.1'), join(CHROMIUM_DIR, 'libvk_swiftshader.so')].filter((f) => !existsSync(f));
  if (missing.length) {
    throw new Error(
      `The WebGPU tests run onnxruntime-node's WebGPU EP on Chromium's SwiftShader Vulkan driver, and it is missing (${missing.join(', ')}). ` +
        'Install it with: apt-get install -y chromium (Debian; CI does this), or point SDXS_CHROMIUM_DIR at a folder holding ' +
        'vk_swiftshader_icd.json, libvk_swiftshader.so and libvulkan.so.1.',
    );
  }
}

/** The environment that gives onnxruntime-node a software WebGPU adapter (SwiftShader over Vulkan). */
export function swiftShaderEnv(): Record<string, string> {
  const ld = process.env.LD_LIBRARY_PATH;
  return { LD_LIBRARY_PATH: ld ? `${CHROMIUM_DIR}:${ld}` : CHROMIUM_DIR, VK_ICD_FILENAMES: ICD, VK_DRIVER_FILES: ICD };
}

/** An environment in which the Vulkan loader finds no driver at all, so WebGPU has no adapter (even with a GPU). */
export function noVulkanDriverEnv(): Record<string, string> {
  const none = join(tmpdir(), 'sdxs-no-such-vulkan-icd.json');
  return { VK_ICD_FILENAMES: none, VK_DRIVER_FILES: none };
}

export interface ChildResult {
  events: ChildEvent[];
  /** The child's stderr split by case: text logged while creating each case's session. */
  logs: Map<string, string>;
  stderr: string;
  code: number | null;
}

/** Write the models, run the child with `env` added, and collect what it reported. */
export async function runChild(job: Omit<ChildJob, 'cases'>, cases: { name: string; model: Uint8Array; feeds: Record<string, ChildFeed> }[], env: Record<string, string>, timeoutMs = 240_000): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sdxs-webgpu-'));
  try {
    const files = cases.map((c, i) => {
      const model = join(dir, `case-${i}.onnx`);
      writeFileSync(model, c.model);
      return { name: c.name, model, feeds: c.feeds };
    });
    const jobPath = join(dir, 'job.json');
    writeFileSync(jobPath, JSON.stringify({ ...job, cases: files } satisfies ChildJob));
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, jobPath], {
      cwd: ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      proc.on('error', reject);
      proc.on('close', (c) => resolve(c));
    });
    clearTimeout(timer);
    const events: ChildEvent[] = [];
    for (const line of stdout.split('\n')) {
      // Native code may print to stdout too; our events are the JSON lines.
      if (line.startsWith('{"kind":')) events.push(JSON.parse(line) as ChildEvent);
    }
    return { events, logs: splitByCase(stderr), stderr, code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function splitByCase(stderr: string): Map<string, string> {
  const logs = new Map<string, string>();
  let current: string | undefined;
  for (const line of stderr.split('\n')) {
    if (line.startsWith(CASE_MARKER)) {
      current = line.slice(CASE_MARKER.length);
      logs.set(current, '');
    } else if (current !== undefined) logs.set(current, `${logs.get(current)}${line}\n`);
  }
  return logs;
}

/**
 * Where onnxruntime put each node, from its verbose log (logSeverityLevel 0): execution provider → op types,
 * or 'all' when every node went to one provider. Empty when the log has no placement section (session failed).
 */
export function nodePlacements(log: string): Map<string, string[] | 'all'> {
  const placements = new Map<string, string[] | 'all'>();
  let current: string[] | undefined;
  for (const line of log.split('\n')) {
    if (!line.includes('VerifyEachNodeIsAssignedToAnEp')) continue;
    const all = /All nodes placed on \[(\w+)\]/.exec(line);
    const some = /Node\(s\) placed on \[(\w+)\]/.exec(line);
    const node = /\]\s{3}(\w+) \(/.exec(line);
    if (all) {
      placements.set(all[1]!, 'all');
      current = undefined;
    } else if (some) {
      current = [];
      placements.set(some[1]!, current);
    } else if (node && current) current.push(node[1]!);
  }
  return placements;
}

/** The provider onnxruntime assigned `opType` to, per the log (undefined when the op is not listed). */
export function providerOf(placements: Map<string, string[] | 'all'>, opType: string): string | undefined {
  for (const [ep, ops] of placements) if (ops === 'all' || ops.includes(opType)) return ep;
  return undefined;
}
