/**
 * What went wrong with a Hugging Face model source, as a code a caller (the CLI) can branch on:
 * - `invalid-repo-id`, `unsafe-path`: refused before any request or file system access;
 * - `offline-missing`: offline (or the hub unreachable) and the cache lacks what was asked for;
 * - `not-found`, `unauthorized`, `gated`, `http`: what the hub answered;
 * - `network`, `timeout`: the connection failed or went quiet;
 * - `integrity`: size or hash differ from what the hub promised (nothing was committed to the cache);
 * - `disk-full`: no space left (the partial file was removed).
 */
export type HubErrorCode =
  | 'invalid-repo-id'
  | 'unsafe-path'
  | 'offline-missing'
  | 'not-found'
  | 'unauthorized'
  | 'gated'
  | 'http'
  | 'network'
  | 'timeout'
  | 'integrity'
  | 'disk-full';

/** An error from resolving or downloading a Hugging Face model; `code` says which kind. */
export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: HubErrorCode;
  /** The HTTP status, when the hub (or its CDN) answered with an error. */
  readonly status: number | undefined;

  constructor(code: HubErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

/** True for failures worth retrying or falling back to the cache for: the network, not the hub's answer. */
export function isTransient(error: unknown): boolean {
  return error instanceof HubError && (error.code === 'network' || error.code === 'timeout');
}

/** The message of an error, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
