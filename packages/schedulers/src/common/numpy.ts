/**
 * The few NumPy routines diffusers' `set_timesteps` runs, in float64 exactly as NumPy 2.x computes them
 * (numpy/_core/function_base.py `linspace`, multiarray/ctors.c `arange`, compiled_base.c `interp`).
 */

/**
 * `np.linspace(start, stop, num, endpoint)` in float64: `i * step + start`, the last value set to `stop`.
 *
 * @example
 * npLinspace(0, 999, 4); // [0, 333, 666, 999]
 */
export function npLinspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const out: number[] = [];
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < num; i++) out.push(step === 0 ? (i / div) * delta + start : i * step + start);
    if (endpoint && num > 1) out[num - 1] = stop;
  } else {
    for (let i = 0; i < num; i++) out.push(i * delta + start); // num <= 1: NumPy multiplies by delta
  }
  return out;
}

/**
 * `np.arange(start, stop, step)` with a float step: `ceil((stop - start) / step)` values; the first two are
 * `start` and `start + step`, the rest `start + i * delta` with `delta` recomputed as their difference
 * (NumPy's `fill`), which is why `np.arange(1000, 0, -1000 / 3)` is not `1000 - i * (1000 / 3)` bit for bit.
 *
 * @example
 * npArange(1000, 0, -250); // [1000, 750, 500, 250]
 */
export function npArange(start: number, stop: number, step: number): number[] {
  const length = Math.ceil((stop - start) / step);
  if (!(length > 0)) return [];
  const out = [start];
  if (length === 1) return out;
  const next = start + step;
  out.push(next);
  const delta = next - start;
  for (let i = 2; i < length; i++) out.push(start + i * delta);
  return out;
}

/**
 * `np.round` / `np.rint`: to the nearest integer, halves to even (`np.round(62.5) == 62`), unlike `Math.round`.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // halves up
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `np.interp(x, np.arange(len(fp)), fp)`: linear interpolation on the integer grid, `slope * (x - j) + fp[j]`
 * as NumPy evaluates it; outside the grid the end values.
 */
export function npInterpIndex(x: number, fp: ArrayLike<number>): number {
  const n = fp.length;
  if (n === 0) throw new RangeError('np.interp of an empty table');
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return fp[0]!;
  if (x >= n - 1) return fp[n - 1]!;
  const j = Math.floor(x);
  const yj = fp[j]!;
  if (j === x) return yj;
  const yk = fp[j + 1]!;
  const slope = (yk - yj) / (j + 1 - j);
  let y = slope * (x - j) + yj;
  if (Number.isNaN(y)) {
    y = slope * (x - (j + 1)) + yk; // NumPy retries from the right end before giving up
    if (Number.isNaN(y) && yj === yk) y = yj;
  }
  return y;
}
