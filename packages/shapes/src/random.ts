/**
 * A small counter-based generator for the data set: sample `index` of seed `seed` is drawn from its own stream, so
 * any sample can be made alone, in any order, in any process (shards, held-out splits), with the same bytes.
 * SplitMix64 on BigInt would be slow; this is SplitMix32-style mixing on 32-bit halves (good enough for data).
 */
export class SampleRandom {
  #state: number;

  constructor(seed: number, index: number) {
    this.#state = mix32(mix32(seed >>> 0) ^ Math.imul(index >>> 0, 0x9e3779b1) ^ 0x6a09e667);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
