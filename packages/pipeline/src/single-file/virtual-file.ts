/**
 * A safetensors file that exists only as a plan: a header written for new names, and data that is byte ranges of
 * other files (zero copy: a renamed tensor, a q/k/v third of a fused projection, a 1×1 convolution read as a
 * matrix) or bytes computed on demand (a transpose). The loader reads it like any file; `sdxs convert` streams it
 * to disk.
 */
import { DTYPE_BYTES, referenceOrder, safetensorsHeader, type ByteSource, type DType } from '@sdxs/tensor';

/** Where a piece of a tensor's bytes comes from. */
export type Piece =
  /** `length` bytes at `offset` of `source`. */
  | { readonly source: ByteSource; readonly offset: number; readonly length: number }
  /** Bytes computed when first read (then kept). */
  | { readonly compute: () => Promise<Uint8Array>; readonly length: number };

/** One tensor of the planned file: its name, type and shape there, and its bytes as pieces in order. */
export interface VirtualTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly pieces: readonly Piece[];
}

interface Placed {
  readonly start: number;
  readonly piece: Piece;
}

/**
 * The planned file as a {@link ByteSource}: tensors in the reference writer's order (so the bytes are what
 * encodeSafetensors would write for the same tensors), each read served from its pieces.
 *
 * @example
 * const file = await SafetensorsFile.open(virtualSafetensors('unet/diffusion_pytorch_model.safetensors', tensors));
 */
export function virtualSafetensors(name: string, tensors: readonly VirtualTensor[], metadata?: Readonly<Record<string, string>>, onClose?: () => Promise<void>): ByteSource {
  const sorted = [...tensors].sort(referenceOrder);
  const entries = sorted.map((t) => {
    const byteLength = t.pieces.reduce((n, p) => n + p.length, 0);
    const want = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (byteLength !== want) throw new Error(`${name}: ${t.name}: ${byteLength} bytes planned, ${t.dtype} [${t.shape.join(', ')}] needs ${want}`);
    return { name: t.name, dtype: t.dtype, shape: t.shape, byteLength };
  });
  const { header, byteLength } = safetensorsHeader(entries, metadata, name);
  const placed: Placed[] = [{ start: 0, piece: { compute: async () => header, length: header.length } }];
  let at = header.length;
  for (const t of sorted) {
    for (const piece of t.pieces) {
      if (piece.length === 0) continue;
      placed.push({ start: at, piece });
      at += piece.length;
    }
  }
  return new VirtualByteSource(name, byteLength, placed, onClose);
}

class VirtualByteSource implements ByteSource {
  readonly #placed: readonly Placed[];
  readonly #computed = new Map<Piece, Promise<Uint8Array>>();
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(
    readonly name: string,
    readonly size: number,
    placed: readonly Placed[],
    onClose: (() => Promise<void>) | undefined,
  ) {
    this.#placed = placed;
    this.#onClose = onClose;
  }

  async close(): Promise<void> {
    this.#computed.clear();
    await this.#onClose?.();
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} is outside the ${this.size}-byte file`);
    }
    const out = new Uint8Array(length);
    const end = offset + length;
    for (let i = this.#first(offset); i < this.#placed.length; i++) {
      const { start, piece } = this.#placed[i]!;
      if (start >= end) break;
      const from = Math.max(offset, start);
      const to = Math.min(end, start + piece.length);
      out.set(await this.#bytes(piece, from - start, to - from), from - offset);
    }
    return out;
  }

  /** Index of the piece holding byte `offset` (binary search: pieces are sorted and contiguous). */
  #first(offset: number): number {
    let lo = 0;
    let hi = this.#placed.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#placed[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async #bytes(piece: Piece, at: number, length: number): Promise<Uint8Array> {
    if ('source' in piece) return piece.source.read(piece.offset + at, length);
    let done = this.#computed.get(piece);
    if (!done) {
      done = piece.compute();
      this.#computed.set(piece, done);
    }
    return (await done).subarray(at, at + length);
  }
}

/**
 * A 2-D tensor's bytes transposed ([rows, cols] → [cols, rows]) for elements of `elementBytes`.
 *
 * @example
 * transposeBytes(bytes, 1024, 1280, 2); // an OpenCLIP text_projection as transformers stores it
 */
export function transposeBytes(bytes: Uint8Array, rows: number, cols: number, elementBytes: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = (r * cols + c) * elementBytes;
      out.set(bytes.subarray(from, from + elementBytes), (c * rows + r) * elementBytes);
    }
  }
  return out;
}
