/**
 * The 32-bit Mersenne Twister exactly as PyTorch's CPU generator runs it
 * (aten/src/ATen/core/MT19937RNGEngine.h, after mt19937ar-cok.c): `init_genrand` seeding with the
 * low 32 bits of the seed, a lazy state refill when `left` reaches zero, standard tempering.
 * The fields mirror `at::mt19937_data_pod` so the generator state can be saved in PyTorch's layout.
 */

export const MT_N = 624;
const MT_M = 397;

export class MT19937 {
  /** The seed as given (64 bits); only its low 32 bits reach the state. */
  seed = 0n;
  /** Draws left before the next refill (1 right after seeding: the first draw refills). */
  left = 1;
  /** Index of the next state word to temper. */
  next = 0;
  readonly state = new Uint32Array(MT_N);

  constructor(seed: bigint = 5489n) {
    this.reseed(seed);
  }

  /** Seeds like `mt19937(seed)`: `state[0] = seed & 0xffffffff`, then Knuth's recurrence. */
  reseed(seed: bigint): void {
    const st = this.state;
    this.seed = seed;
    st[0] = Number(seed & 0xffffffffn);
    for (let j = 1; j < MT_N; j++) {
      const prev = st[j - 1]!;
      st[j] = Math.imul(1812433253, prev ^ (prev >>> 30)) + j;
    }
    this.left = 1;
    this.next = 0;
  }

  /** One 32-bit draw, as an unsigned integer in a number. */
  nextUint32(): number {
    if (--this.left === 0) this.refill();
    let y = this.state[this.next++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Writes `count` uniforms `(draw & (2^24 - 1)) * 2^-24` to `out` from `offset`, the way
   * `at::uniform_real_distribution<float>(0, 1)` turns draws into floats (exact in float32).
   * Same stream as calling `nextUint32` `count` times, without a call per element.
   */
  fillUniform24(out: Float32Array, offset: number, count: number): void {
    const st = this.state;
    let i = offset;
    const end = offset + count;
    while (i < end) {
      // A draw decrements `left` first and refills when it hits 0, so `left - 1` draws remain in
      // this block. After a refill, `left = N + 1` folds in the decrement that triggered it.
      if (this.left === 1) {
        this.refill();
        this.left = MT_N + 1;
      }
      const n = Math.min(end - i, this.left - 1);
      const stop = i + n;
      let next = this.next;
      for (; i < stop; i++) {
        let y = st[next++]!;
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        out[i] = (y & 0xffffff) * 5.9604644775390625e-8; // 2^-24
      }
      this.next = next;
      this.left -= n;
    }
  }

  private refill(): void {
    const st = this.state;
    this.left = MT_N;
    this.next = 0;
    let k = 0;
    for (; k < MT_N - MT_M; k++) st[k] = st[k + MT_M]! ^ twist(st[k]!, st[k + 1]!);
    for (; k < MT_N - 1; k++) st[k] = st[k + MT_M - MT_N]! ^ twist(st[k]!, st[k + 1]!);
    st[MT_N - 1] = st[MT_M - 1]! ^ twist(st[MT_N - 1]!, st[0]!);
  }
}

/** `(mix_bits(u, v) >> 1) ^ (v & 1 ? MATRIX_A : 0)`, with the choice done by masking: a branch on
 * a random bit would be mispredicted half the time. */
function twist(u: number, v: number): number {
  return (((u & 0x80000000) | (v & 0x7fffffff)) >>> 1) ^ (-(v & 1) & 0x9908b0df);
}
