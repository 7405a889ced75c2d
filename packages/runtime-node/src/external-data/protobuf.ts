/**
 * Just enough of the protobuf wire format to walk an ONNX ModelProto without its schema: read a message's
 * fields in order (tag, wire type, byte range) and write length-delimited fields back. The runtime only ever
 * edits a few strings (external-data locations), so a decoder for the whole schema would be dead weight.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** One field of a message: `start..end` covers tag and value; `value..end` is the payload of a LEN field. */
export interface WireField {
  readonly field: number;
  readonly wire: number;
  readonly start: number;
  readonly value: number;
  readonly end: number;
}

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

/** A varint at `pos` → [value, next position]. Values past 2^53 are refused: no length or tag gets that big. */
export function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < bytes.length && i < pos + 10; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (!Number.isSafeInteger(value)) throw new ProtobufError(`varint at ${pos} is too large`);
      return [value, i + 1];
    }
    scale *= 128;
  }
  throw new ProtobufError(`varint at ${pos} runs past the end of the message`);
}

/** The fields of the message in `bytes`, in wire order; every range is checked against the message's end. */
export function* fields(bytes: Uint8Array): Generator<WireField> {
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(bytes, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at ${start}`);
    let value = afterTag;
    let end: number;
    switch (wire) {
      case WIRE_VARINT:
        end = readVarint(bytes, afterTag)[1];
        break;
      case WIRE_FIXED64:
        end = afterTag + 8;
        break;
      case WIRE_FIXED32:
        end = afterTag + 4;
        break;
      case WIRE_LEN: {
        const [length, payload] = readVarint(bytes, afterTag);
        value = payload;
        end = payload + length;
        break;
      }
      default:
        // Groups (3, 4) are not used by onnx.proto; anything else is corruption.
        throw new ProtobufError(`unsupported wire type ${wire} at ${start}`);
    }
    if (end > bytes.length) throw new ProtobufError(`field ${field} at ${start} runs past the end of the message`);
    yield { field, wire, start, value, end };
    pos = end;
  }
}

/** The varint encoding of a non-negative safe integer. */
export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot encode ${n} as a varint`);
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Tag and length of a LEN field whose payload is `length` bytes. */
export function lenHeader(field: number, length: number): Uint8Array {
  const tag = encodeVarint(field * 8 + WIRE_LEN);
  const len = encodeVarint(length);
  const out = new Uint8Array(tag.length + len.length);
  out.set(tag);
  out.set(len, tag.length);
  return out;
}

/** A whole LEN field: tag, length, payload (a string is UTF-8 encoded; parts are concatenated). */
export function lenField(field: number, payload: string | Uint8Array | readonly Uint8Array[]): Uint8Array {
  const parts = typeof payload === 'string' ? [new TextEncoder().encode(payload)] : payload instanceof Uint8Array ? [payload] : payload;
  const length = parts.reduce((n, p) => n + p.length, 0);
  return concat([lenHeader(field, length), ...parts]);
}

/** A whole VARINT field. */
export function varintField(field: number, value: number): Uint8Array {
  return concat([encodeVarint(field * 8 + WIRE_VARINT), encodeVarint(value)]);
}

/** Byte arrays joined into one. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
