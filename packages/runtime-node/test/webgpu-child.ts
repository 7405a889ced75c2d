// Run by webgpu*.test.ts in a separate Node process (through tsx), because the Vulkan loader reads
// LD_LIBRARY_PATH / VK_ICD_FILENAMES when onnxruntime first creates a WebGPU device: the parent sets them for
// this process only. Reads a job (JSON file), opens a runtime, creates and runs each case's model, and reports
// one JSON line per event on stdout. Before each session it writes a marker line on stderr, so the parent can
// tell which case onnxruntime's verbose log lines (node placements) belong to.
import { readFileSync } from 'node:fs';
import { Tensor } from '@sdxs/tensor';
import { openNodeRuntime, type NodeRuntime } from '../src/index.js';
import { CASE_MARKER, type ChildEvent, type ChildJob, type ChildOutputs } from './webgpu-harness.js';

function emit(event: ChildEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const jobPath = process.argv[2];
if (!jobPath) throw new Error('usage: webgpu-child.ts JOB.json');
const job = JSON.parse(readFileSync(jobPath, 'utf8')) as ChildJob;
const warnings: string[] = [];
let runtime: NodeRuntime | undefined;
try {
  runtime = await openNodeRuntime({
    provider: job.provider,
    webgpu: job.layout ? { preferredLayout: job.layout } : {},
    fallback: job.fallback ?? true,
    logSeverityLevel: job.logSeverityLevel ?? 3,
    onWarning: (m) => warnings.push(m),
  });
} catch (e) {
  emit({ kind: 'open-error', message: e instanceof Error ? e.message : String(e) });
}
if (runtime) {
  emit({ kind: 'runtime', name: runtime.name, provider: runtime.provider, warnings });
  for (const c of job.cases) {
    process.stderr.write(`${CASE_MARKER}${c.name}\n`);
    try {
      const session = await runtime.createSession(readFileSync(c.model), { label: c.name });
      const feeds: Record<string, Tensor> = {};
      for (const [name, f] of Object.entries(c.feeds)) feeds[name] = new Tensor('float32', f.shape, Float32Array.from(f.data));
      const outputs: ChildOutputs = {};
      for (const [name, t] of Object.entries(await session.run(feeds))) outputs[name] = { shape: [...t.shape], data: t.toArray() };
      await session.dispose();
      emit({ kind: 'case', name: c.name, outputs });
    } catch (e) {
      emit({ kind: 'case', name: c.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
}
