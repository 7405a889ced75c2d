// Hand-written, not protobufjs: equivalent output, but its encoders are built with `new Function`, which the demo's CSP forbids (docs/libraries.md).
/**
 * A minimal protobuf encoder: just what ONNX's ModelProto needs (varints, length-delimited fields,
 * fixed32 floats, packed repeated scalars). Written by hand because a schema-driven library would need
 * onnx.proto at run time and generates code at run time; large raw_data fields are referenced, not copied,
 * until `finish`.
 */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  private flushed = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.slice(0, this.pos));
    this.flushed += this.pos;
    this.pos = 0;
    if (this.buf.length < 65536) this.buf = new Uint8Array(this.buf.length * 2);
  }

  private varint(v: number | bigint): void {
    this.ensure(10);
    let x = BigInt.asUintN(64, BigInt(v));
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      let n = v;
      while (n > 0x7f) {
        this.buf[this.pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.buf[this.pos++] = n;
      return;
    }
    while (x > 0x7fn) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  private tag(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  /** int32/int64/enum/bool field (negative values use 10-byte two's complement, as protobuf does). */
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    if (b.length > 4096) {
      // Large payloads (raw tensor data) are referenced, not copied, until `finish`.
      this.flush();
      this.chunks.push(b);
      this.flushed += b.length;
    } else {
      this.ensure(b.length);
      this.buf.set(b, this.pos);
      this.pos += b.length;
    }
    return this;
  }

  /** A nested message written by `fn`. */
  message(field: number, fn: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    fn(inner);
    this.tag(field, 2);
    this.varint(inner.length);
    this.flush();
    for (const c of inner.parts()) {
      this.chunks.push(c);
      this.flushed += c.length;
    }
    return this;
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    const bytes = inner.finish();
    return this.bytes(field, bytes);
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  private parts(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }

  finish(): Uint8Array {
    const parts = this.parts();
    if (parts.length === 1 && parts[0]) return parts[0];
    const out = new Uint8Array(this.flushed);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
