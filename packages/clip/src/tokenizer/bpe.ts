import { BYTE_TO_CHAR, encodeUtf8Into } from './byte-level.js';
import { TokenizerFileError } from './errors.js';
import { PairTable } from './pair-table.js';

/** One line of merges.txt: the pair `left right`, merged into `left + right`. */
export interface Merge {
  readonly left: string;
  readonly right: string;
  /** 1-based line in merges.txt, for messages. */
  readonly line: number;
}

export interface BpeOptions {
  /** Appended to a word's last character before merging (`</w>` for CLIP). */
  readonly endOfWordSuffix: string;
  /** Id for a byte missing from the vocabulary; without one such a byte is an error. */
  readonly unkId?: number;
  /** File names used in error messages. */
  readonly vocabFile: string;
  readonly mergesFile: string;
}

// Heap keys are rank * 2^32 + position: ordered by rank, then leftmost, exactly as `tokenizers`' Word::merge_all
// pops its queue. Both parts stay far below 2^53.
const POSITION_SPAN = 2 ** 32;
// Like `tokenizers`' BPE cache: bounded, and only for words short enough to recur.
const CACHE_ENTRIES = 10_000;
const CACHE_WORD_CHARS = 64;
// Words longer than this, when only their first tokens are wanted, are merged on growing prefixes (see #encodePrefix).
const LONG_WORD_CHARS = 4096;

/**
 * Byte-level BPE on integer ids, equivalent to `tokenizers.models.BPE` with `end_of_word_suffix` and no
 * dropout: a word's UTF-8 bytes become vocabulary symbols, then the lowest-ranked adjacent pair (leftmost
 * on ties) is merged until none is in merges.txt. A heap and a linked list make this O(n log n) per word,
 * so even a megabyte-long "word" finishes; a per-word cache makes ordinary prompts cost a Map lookup per word.
 *
 * @example
 * const bpe = new BytePairEncoder(vocab, merges, { endOfWordSuffix: '</w>', vocabFile: 'vocab.json', mergesFile: 'merges.txt' });
 * const ids: number[] = [];
 * bpe.encodeWord('cat', ids); // [2368]
 */
export class BytePairEncoder {
  readonly #byteId = new Int32Array(256);
  readonly #lastByteId = new Int32Array(256);
  /** (left id, right id) → merge rank. */
  readonly #rankOf: PairTable;
  readonly #mergeLeft: Int32Array;
  readonly #mergeRight: Int32Array;
  readonly #mergeResult: Int32Array;
  readonly #cache = new Map<string, readonly number[]>();
  // Scratch buffers, grown on demand and reused across words.
  #bytes = new Uint8Array(256);
  #symbol = new Int32Array(256);
  #next = new Int32Array(256);
  #prev = new Int32Array(256);
  #heap = new Float64Array(3 * 256);

  constructor(vocab: ReadonlyMap<string, number>, merges: readonly Merge[], options: BpeOptions) {
    this.#rankOf = new PairTable(merges.length);
    const unk = options.unkId ?? -1;
    for (let b = 0; b < 256; b++) {
      const char = BYTE_TO_CHAR[b] ?? '';
      this.#byteId[b] = vocab.get(char) ?? unk;
      this.#lastByteId[b] = vocab.get(char + options.endOfWordSuffix) ?? unk;
    }
    this.#mergeLeft = new Int32Array(merges.length);
    this.#mergeRight = new Int32Array(merges.length);
    this.#mergeResult = new Int32Array(merges.length);
    merges.forEach((m, rank) => {
      const left = vocab.get(m.left);
      const right = vocab.get(m.right);
      const result = vocab.get(m.left + m.right);
      const missing = left === undefined ? m.left : right === undefined ? m.right : result === undefined ? m.left + m.right : undefined;
      if (left === undefined || right === undefined || result === undefined) {
        throw new TokenizerFileError(options.mergesFile, `line ${m.line}: token ${JSON.stringify(missing)} is not in ${options.vocabFile}`);
      }
      this.#mergeLeft[rank] = left;
      this.#mergeRight[rank] = right;
      this.#mergeResult[rank] = result;
      // A repeated pair takes its later rank, as a Python dict or the Rust HashMap built from the list would.
      this.#rankOf.set(left, right, rank);
    });
  }

  /**
   * Appends the ids of one pre-tokenized word (a non-empty string) to `out`. With a `limit`, only the first
   * `limit` ids are wanted: at least those are appended, possibly more.
   */
  encodeWord(word: string, out: number[], limit = Number.POSITIVE_INFINITY): void {
    if (word.length > LONG_WORD_CHARS && limit < word.length) {
      this.#encodePrefix(word, out, limit);
      return;
    }
    const cached = this.#cache.get(word);
    if (cached !== undefined) {
      for (const id of cached) out.push(id);
      return;
    }
    const start = out.length;
    this.#merge(word, out);
    if (word.length <= CACHE_WORD_CHARS && this.#cache.size < CACHE_ENTRIES) this.#cache.set(word, out.slice(start));
  }

  /**
   * The first `limit` ids of a huge word (a 10 MB prompt without spaces) without merging all of it: merge
   * prefixes of doubling length until two consecutive ones agree on their first `limit` ids. A merge decision
   * depends on neighbours only through chains of ever-lower-ranked merges, which real vocabularies keep a few
   * tokens short, so agreement between prefixes thousands of characters apart settles it; if they never
   * agree, the whole word is merged.
   */
  #encodePrefix(word: string, out: number[], limit: number): void {
    let previous: number[] | undefined;
    for (let chars = LONG_WORD_CHARS; chars < word.length; chars *= 2) {
      // Never cut between the two halves of a surrogate pair.
      const code = word.charCodeAt(chars - 1);
      const end = code >= 0xd800 && code <= 0xdbff ? chars + 1 : chars;
      const ids: number[] = [];
      this.#merge(word.slice(0, end), ids);
      if (previous !== undefined && ids.length > limit && previous.length > limit && previous.slice(0, limit).every((id, i) => id === ids[i])) {
        for (let i = 0; i < limit; i++) out.push(ids[i] ?? 0);
        return;
      }
      previous = ids;
    }
    this.#merge(word, out);
  }

  #merge(word: string, out: number[]): void {
    this.#reserve(word.length * 3);
    const n = encodeUtf8Into(word, this.#bytes);
    if (n === 0) return;
    const symbol = this.#symbol;
    const next = this.#next;
    const prev = this.#prev;
    for (let i = 0; i < n; i++) {
      const byte = this.#bytes[i] ?? 0;
      const id = (i === n - 1 ? this.#lastByteId[byte] : this.#byteId[byte]) ?? -1;
      if (id < 0) throw new Error(`byte 0x${byte.toString(16)} of ${JSON.stringify(word.slice(0, 40))} is not in the vocabulary and there is no unk token`);
      symbol[i] = id;
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    let heapSize = 0;
    const push = (pos: number): void => {
      const nx = next[pos] ?? -1;
      if (nx < 0) return;
      const rank = this.#rankOf.get(symbol[pos] ?? 0, symbol[nx] ?? 0);
      if (rank < 0) return;
      heapSize = heapPush(this.#heap, heapSize, rank * POSITION_SPAN + pos);
    };
    for (let i = 0; i + 1 < n; i++) push(i);

    while (heapSize > 0) {
      const key = this.#heap[0] ?? 0;
      heapSize = heapPop(this.#heap, heapSize);
      const rank = Math.floor(key / POSITION_SPAN);
      const pos = key - rank * POSITION_SPAN;
      const nx = next[pos] ?? -1;
      // Stale entries: the left symbol was merged away, or either side changed since the pair was queued.
      if (symbol[pos] !== this.#mergeLeft[rank] || nx < 0 || symbol[nx] !== this.#mergeRight[rank]) continue;
      symbol[pos] = this.#mergeResult[rank] ?? 0;
      symbol[nx] = -1;
      const after = next[nx] ?? -1;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos] ?? -1;
      if (before >= 0) push(before);
      push(pos);
    }
    // Merges keep the left position, so position 0 always heads the list.
    for (let i = 0; i >= 0; i = next[i] ?? -1) out.push(symbol[i] ?? 0);
  }

  #reserve(bytes: number): void {
    if (this.#bytes.length >= bytes) return;
    const size = Math.max(bytes, this.#bytes.length * 2);
    this.#bytes = new Uint8Array(size);
    this.#symbol = new Int32Array(size);
    this.#next = new Int32Array(size);
    this.#prev = new Int32Array(size);
    // n − 1 initial pairs plus at most two new ones per merge.
    this.#heap = new Float64Array(3 * size);
  }
}

/** Inserts `key` into the binary min-heap `heap[0..size)`; returns the new size. */
function heapPush(heap: Float64Array, size: number, key: number): number {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] ?? 0;
    if (p <= key) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = key;
  return size + 1;
}

/** Removes the smallest key, `heap[0]`; returns the new size. */
function heapPop(heap: Float64Array, size: number): number {
  const last = heap[size - 1] ?? 0;
  const n = size - 1;
  let i = 0;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    const right = child + 1;
    if (right < n && (heap[right] ?? 0) < (heap[child] ?? 0)) child = right;
    const c = heap[child] ?? 0;
    if (c >= last) break;
    heap[i] = c;
    i = child;
  }
  heap[i] = last;
  return n;
}
