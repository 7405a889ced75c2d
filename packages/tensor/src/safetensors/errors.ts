/**
 * What went wrong, as a stable string callers can branch on:
 * - `header-length`: the 8-byte header length is 0, past the end of the file or over 100 MB
 * - `header-json`: the header is not UTF-8, not JSON, or does not start with `{`
 * - `duplicate-key`: a JSON object in the header repeats a key (a parser differential: JSON.parse keeps the last)
 * - `header-schema`: the header is JSON but not the safetensors layout (an entry is not an object, a field is missing or unknown)
 * - `metadata`: `__metadata__` is not a string-to-string map
 * - `dtype`: a dtype the format knows but sdxs does not (F64, I8, F8_E4M3, ...) or no dtype at all
 * - `shape`: a bad dimension, or shape × dtype size differs from the tensor's byte range
 * - `offsets`: bad `data_offsets`, or tensors that leave gaps or overlap
 * - `truncated`: the file ends before the tensors do
 * - `trailing-bytes`: bytes after the last tensor
 * - `not-found`: no tensor by that name
 * - `name`: a tensor name the writer refuses (`__metadata__`)
 * - `io`: the byte source failed (the `cause` holds its error)
 * - `closed`: the file was already closed
 */
export type SafetensorsErrorCode =
  | 'header-length'
  | 'header-json'
  | 'duplicate-key'
  | 'header-schema'
  | 'metadata'
  | 'dtype'
  | 'shape'
  | 'offsets'
  | 'truncated'
  | 'trailing-bytes'
  | 'not-found'
  | 'name'
  | 'io'
  | 'closed';

// Names come from untrusted files: quote them (JSON escapes control characters) and keep messages short.
const MAX_NAME_CHARS = 200;

/** A name quoted for an error message: escaped, and cut short if huge. */
export function quoteName(name: string): string {
  const short = name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}…` : name;
  return JSON.stringify(short);
}

/**
 * Every failure reading or writing safetensors. The message names the file and, when there is one, the tensor.
 *
 * @example
 * try { await file.read('unet.conv_in.weight'); }
 * catch (e) { if (e instanceof SafetensorsError && e.code === 'not-found') { ... } }
 */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  readonly code: SafetensorsErrorCode;
  /** The file (path, URL or source name) the error is about. */
  readonly file: string;
  /** The tensor the error is about, if any. */
  readonly tensor?: string;

  constructor(code: SafetensorsErrorCode, file: string, message: string, options: { tensor?: string; cause?: unknown } = {}) {
    const where = options.tensor === undefined ? '' : `tensor ${quoteName(options.tensor)}: `;
    super(`${file}: ${where}${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = file;
    if (options.tensor !== undefined) this.tensor = options.tensor;
  }
}
