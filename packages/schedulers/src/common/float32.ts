import { fmaf } from '@sdxs/tensor';

/**
 * Float32 arithmetic as PyTorch's CPU kernels do it: every tensor op rounds its result to float32 once.
 * A float64 `+ - * / sqrt` of float32 operands rounded with `Math.fround` is that correctly rounded float32
 * result (float64 has more than 2·24 + 2 bits, so the double rounding is harmless).
 */

/** Rounds to the nearest float32 (`Math.fround`, short name because schedulers chain it per op). */
export const f32 = Math.fround;

/** `a * b + c` rounded once to float32, as an x86 `vfmadd` computes it (the exact emulation @sdxs/tensor's RNG uses). */
export { fmaf };

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on the CPU (aten/src/ATen/native/cpu/
 * RangeFactoriesKernel.cpp): the first half counts up from `start`, the second half down from `end`, with a
 * float32 step. PyTorch's AVX2 kernels are built with `-mfma` and GCC's default `-ffp-contract=fast`, so
 * `start + step * idx` is one fused multiply-add (the package README, "Numerics", says how sure this is).
 *
 * @example
 * torchLinspaceF32(Math.sqrt(0.00085), Math.sqrt(0.012), 1000); // the scaled_linear betas before squaring
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 0) return out;
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s; // at::linspace fills `start` without running the kernel
    return out;
  }
  const step = f32(f32(e - s) / f32(steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let idx = 0; idx < steps; idx++) {
    out[idx] = idx < halfway ? fmaf(step, idx, s) : fmaf(-step, steps - idx - 1, e);
  }
  return out;
}

/**
 * `torch.cumprod(x, 0)` for a float32 vector on the CPU: the running product is kept in float64
 * (`at::acc_type<float, false>`, the CPU accumulator type, is double) and each output is rounded to float32.
 */
export function torchCumprodF32(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  let acc = 1;
  for (let i = 0; i < x.length; i++) {
    acc *= x[i]!;
    out[i] = acc;
  }
  return out;
}

/** float32 `sqrt` (`tensor ** 0.5` and `tensor.sqrt()` both call it). */
export function sqrtF32(x: number): number {
  return f32(Math.sqrt(x));
}

/**
 * float32 `log` / `exp` of a 0-dim tensor (glibc `logf` / `expf`): computed in float64 and rounded, which is
 * the correctly rounded result; glibc's are within about 0.52 ulp, so a rare last bit may differ.
 */
export function logF32(x: number): number {
  return f32(Math.log(x));
}

/** See {@link logF32}. */
export function expF32(x: number): number {
  return f32(Math.exp(x));
}
