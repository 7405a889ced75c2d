import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float16ToFloat32, float32ToFloat16, Generator, Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { median, timeRuns } from '../stats.js';

export interface FoundationResults {
  safetensors: { file_bytes: number; fs_read_gbps: number; safetensors_read_gbps: number; ratio: number };
  f16_to_f32_gbps: number;
  f32_to_f16_gbps: number;
  randn_numbers_per_s: { small_1x4x64x64: number; large_10m: number };
}

const GB = 1e9;

/** Plain fs baseline: read the file's data bytes with one FileHandle.read into one buffer. */
async function fsRead(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(bytes);
    let done = 0;
    while (done < bytes) {
      const { bytesRead } = await fh.read(buf, done, bytes - done, done);
      if (bytesRead === 0) throw new Error('short read');
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** Every tensor of the file through the safetensors reader (header validation included). */
async function safetensorsRead(path: string): Promise<number> {
  const { tensors } = await loadSafetensorsFile(path);
  let n = 0;
  for (const t of tensors.values()) n += t.size;
  return n;
}

/** safetensors read throughput on a ~1 GB file vs a plain fs read, half-float conversion, randn. */
export async function runFoundation(log: (s: string) => void, sizeBytes = 2 ** 30): Promise<FoundationResults> {
  const dir = await mkdtemp(join(tmpdir(), 'sdxs-bench-'));
  try {
    // 16 tensors of 64 MiB, as a large checkpoint's biggest layers are: f32 data, a realistic header.
    const count = 16;
    const each = sizeBytes / count / 4;
    const tensors: Record<string, Tensor> = {};
    for (let i = 0; i < count; i++) {
      const t = Tensor.zeros('float32', [each]);
      t.data.fill(i);
      tensors[`blocks.${i}.weight`] = t;
    }
    const path = join(dir, 'bench.safetensors');
    log(`writing ${(sizeBytes / GB).toFixed(2)} GB to ${path}`);
    await writeSafetensorsFile(path, tensors);
    const fileBytes = (await stat(path)).size;
    // Alternate the two readers so that page-cache state and CPU frequency treat them alike.
    const fsMs: number[] = [];
    const stMs: number[] = [];
    for (let r = 0; r < 5; r++) {
      fsMs.push(...(await timeRuns(() => fsRead(path, fileBytes), 1, r === 0 ? 1 : 0)));
      stMs.push(...(await timeRuns(() => safetensorsRead(path), 1, r === 0 ? 1 : 0)));
    }
    const fsGbps = fileBytes / GB / (median(fsMs) / 1000);
    const stGbps = fileBytes / GB / (median(stMs) / 1000);
    log(`safetensors read ${stGbps.toFixed(2)} GB/s vs fs read ${fsGbps.toFixed(2)} GB/s (${(stGbps / fsGbps).toFixed(2)}×)`);

    const n = 64 * 2 ** 20;
    const f32 = new Float32Array(n);
    for (let i = 0; i < n; i++) f32[i] = (i % 2000) * 0.37 - 300;
    const f16 = float32ToFloat16(f32);
    const out32 = new Float32Array(n);
    const out16 = new Uint16Array(n);
    const toF32 = median(await timeRuns(() => float16ToFloat32(f16, out32), 5));
    const toF16 = median(await timeRuns(() => float32ToFloat16(f32, out16), 5));
    const f16to32 = (n * 4) / GB / (toF32 / 1000);
    const f32to16 = (n * 4) / GB / (toF16 / 1000);
    log(`f16→f32 ${f16to32.toFixed(2)} GB/s of f32 output, f32→f16 ${f32to16.toFixed(2)} GB/s of f32 input`);

    const g = new Generator(0);
    const small = median(await timeRuns(() => g.randn([1, 4, 64, 64]), 50, 5));
    const large = median(await timeRuns(() => g.randn([10_000_000]), 3));
    const randn = { small_1x4x64x64: 16384 / (small / 1000), large_10m: 1e7 / (large / 1000) };
    log(`randn ${(randn.small_1x4x64x64 / 1e6).toFixed(1)} M numbers/s (1×4×64×64), ${(randn.large_10m / 1e6).toFixed(1)} M/s (10M)`);
    return {
      safetensors: { file_bytes: fileBytes, fs_read_gbps: fsGbps, safetensors_read_gbps: stGbps, ratio: stGbps / fsGbps },
      f16_to_f32_gbps: f16to32,
      f32_to_f16_gbps: f32to16,
      randn_numbers_per_s: randn,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
