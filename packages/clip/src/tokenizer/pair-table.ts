/**
 * A hash map from a pair of token ids to a value (a merge rank), open addressing in typed arrays.
 * BPE looks up one pair per symbol and per merge; a `Map` keyed by `left * vocabSize + right` pays for keys
 * past 2^31 being boxed doubles, which made lookups the bulk of BPE's time.
 */
export class PairTable {
  readonly #left: Int32Array;
  readonly #right: Int32Array;
  readonly #value: Int32Array;
  readonly #mask: number;
  #size = 0;

  /** Room for `capacity` pairs; the table is kept at most half full. */
  constructor(capacity: number) {
    let slots = 16;
    while (slots < 2 * capacity) slots *= 2;
    this.#left = new Int32Array(slots).fill(-1);
    this.#right = new Int32Array(slots);
    this.#value = new Int32Array(slots);
    this.#mask = slots - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Sets the value of (left, right), both non-negative; a pair set twice keeps the later value. */
  set(left: number, right: number, value: number): void {
    if (2 * (this.#size + 1) > this.#left.length) throw new RangeError('PairTable is full');
    let i = slot(left, right, this.#mask);
    for (;;) {
      const l = this.#left[i] ?? -1;
      if (l === -1) {
        this.#left[i] = left;
        this.#right[i] = right;
        this.#value[i] = value;
        this.#size++;
        return;
      }
      if (l === left && this.#right[i] === right) {
        this.#value[i] = value;
        return;
      }
      i = (i + 1) & this.#mask;
    }
  }

  /** The value of (left, right), or -1 if the pair is absent. */
  get(left: number, right: number): number {
    let i = slot(left, right, this.#mask);
    for (;;) {
      const l = this.#left[i] ?? -1;
      if (l === -1) return -1;
      if (l === left && this.#right[i] === right) return this.#value[i] ?? -1;
      i = (i + 1) & this.#mask;
    }
  }
}

function slot(left: number, right: number, mask: number): number {
  // Multiplicative hashing of both ids; the high bits mix best, so fold them down before masking.
  const h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca6b);
  return (h ^ (h >>> 15)) & mask;
}
