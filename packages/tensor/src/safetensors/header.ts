import { DTYPE_BYTES, type DType } from '../dtype.js';
import { dtypeFromSafetensors } from './dtypes.js';
import { SafetensorsError } from './errors.js';
import { findDuplicateKey } from './json-keys.js';

/** Bytes of the little-endian u64 that starts every file and gives the header's length. */
export const LENGTH_PREFIX_BYTES = 8;

/** The reference implementation's cap on the header; checked before the header is read. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor of a safetensors file: where its bytes are and how to read them. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Absolute offset of the tensor's first byte in the file (not relative to the data section). */
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface ParsedHeader {
  metadata: Readonly<Record<string, string>>;
  /** Sorted by offset (then name): the order of the data in the file. */
  entries: SafetensorsEntry[];
}

/**
 * Validates the 8-byte header length against the file size and returns it. Runs before anything is allocated
 * for the header, so a huge or hostile length costs nothing. The u64 is read as a BigInt: 2^64−1 must not round.
 */
export function checkHeaderLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < LENGTH_PREFIX_BYTES || prefix.length < LENGTH_PREFIX_BYTES) {
    throw new SafetensorsError('truncated', file, `file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(0, true);
  if (length === 0n) throw new SafetensorsError('header-length', file, 'header length is 0');
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError('header-length', file, `header length ${length} is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (length > BigInt(fileSize - LENGTH_PREFIX_BYTES)) {
    throw new SafetensorsError('header-length', file, `header length ${length} runs past the end of the ${fileSize}-byte file`);
  }
  return Number(length);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and validates a header (the bytes after the length prefix) of a file of `fileSize` bytes, following the
 * reference implementation: UTF-8 JSON starting with `{` (trailing whitespace allowed), no duplicate keys, a
 * string-to-string `__metadata__`, supported dtypes, byte ranges equal to shape × dtype size, and tensors that
 * tile the data section exactly (no gaps, no overlaps, nothing after the last one). The order of keys in the
 * JSON does not matter, as in the reference: tensors are sorted by offset before tiling is checked.
 * Zero-size tensors may share an offset with each other and with the tensor that follows them.
 */
export function parseHeader(file: string, header: Uint8Array, fileSize: number): ParsedHeader {
  const dataStart = LENGTH_PREFIX_BYTES + header.length;
  let text: string;
  try {
    text = utf8.decode(header);
  } catch (cause) {
    throw new SafetensorsError('header-json', file, 'header is not valid UTF-8', { cause });
  }
  // The format requires `{` first: no BOM, no leading whitespace.
  if (!text.startsWith('{')) throw new SafetensorsError('header-json', file, 'header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError('header-json', file, `header is not JSON (${errorMessage(cause)})`, { cause });
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    const tensor = duplicate.under ?? duplicate.key;
    throw new SafetensorsError('duplicate-key', file, `header repeats the key ${JSON.stringify(duplicate.key)}`, { tensor });
  }
  if (!isPlainObject(json)) throw new SafetensorsError('header-schema', file, 'header is not a JSON object');

  let metadata: Readonly<Record<string, string>> = Object.freeze({});
  const ranges: { entry: SafetensorsEntry; start: number; end: number }[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(file, value);
    else ranges.push(parseEntry(file, name, value, dataStart));
  }

  ranges.sort((a, b) => a.start - b.start || a.end - b.end || (a.entry.name < b.entry.name ? -1 : 1));
  let cursor = 0;
  for (const { entry, start } of ranges) {
    if (start !== cursor) {
      const what = start > cursor ? `leaves a gap (data starts at ${start}, previous tensor ends at ${cursor})` : `overlaps the previous tensor (data starts at ${start}, previous tensor ends at ${cursor})`;
      throw new SafetensorsError('offsets', file, what, { tensor: entry.name });
    }
    cursor = start + entry.byteLength;
  }
  const dataLength = fileSize - dataStart;
  if (cursor > dataLength) {
    throw new SafetensorsError('truncated', file, `file is truncated: tensors need ${cursor} data bytes, the file has ${dataLength}`);
  }
  if (cursor < dataLength) {
    throw new SafetensorsError('trailing-bytes', file, `${dataLength - cursor} bytes follow the last tensor`);
  }
  return { metadata, entries: ranges.map((r) => r.entry) };
}

function parseMetadata(file: string, value: unknown): Readonly<Record<string, string>> {
  // The reference reads `__metadata__` as an optional map, so null means "none".
  if (value === null) return Object.freeze({});
  if (!isPlainObject(value)) throw new SafetensorsError('metadata', file, '__metadata__ is not an object of strings');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError('metadata', file, `__metadata__ value for ${JSON.stringify(key)} is not a string`);
    }
  }
  // Object.fromEntries defines properties, so a "__proto__" key stays a plain key.
  return Object.freeze(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])));
}

const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets'];

function parseEntry(file: string, name: string, value: unknown, dataStart: number): { entry: SafetensorsEntry; start: number; end: number } {
  const fail = (code: 'header-schema' | 'dtype' | 'shape' | 'offsets', message: string) => new SafetensorsError(code, file, message, { tensor: name });
  if (!isPlainObject(value)) throw fail('header-schema', 'entry is not an object');
  for (const key of Object.keys(value)) {
    if (!ENTRY_FIELDS.includes(key)) throw fail('header-schema', `unknown field ${JSON.stringify(key)}`);
  }
  for (const key of ENTRY_FIELDS) {
    if (!Object.hasOwn(value, key)) throw fail('header-schema', `missing field "${key}"`);
  }

  const code = value['dtype'];
  if (typeof code !== 'string') throw fail('dtype', 'dtype is not a string');
  const dtype = dtypeFromSafetensors(code);
  if (dtype === undefined) throw fail('dtype', `unsupported dtype ${JSON.stringify(code.slice(0, 40))}`);

  const shape = value['shape'];
  if (!isIndexArray(shape)) throw fail('shape', 'shape is not an array of non-negative integers');

  const offsets = value['data_offsets'];
  if (!isIndexArray(offsets) || offsets.length !== 2) {
    throw fail('offsets', 'data_offsets is not a pair of non-negative integers');
  }
  const [start = 0, end = 0] = offsets;
  if (end < start) throw fail('offsets', `data_offsets [${start}, ${end}] end before they start`);

  // Checked math: any product past 2^53 is refused (no tensor that big fits in a file), so nothing rounds.
  let bytes = DTYPE_BYTES[dtype];
  let overflow = false;
  for (const d of shape) {
    if (d !== 0 && bytes > Number.MAX_SAFE_INTEGER / d) overflow = true;
    bytes *= d;
  }
  if (overflow) throw fail('shape', `shape [${shape.join(', ')}] × ${code} size overflows`);
  if (bytes !== end - start) {
    throw fail('shape', `shape [${shape.join(', ')}] of ${code} needs ${bytes} bytes but data_offsets [${start}, ${end}] hold ${end - start}`);
  }
  const entry: SafetensorsEntry = Object.freeze({
    name,
    dtype,
    shape: Object.freeze([...shape]),
    byteOffset: dataStart + start,
    byteLength: bytes,
  });
  return { entry, start, end };
}

function isIndexArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
