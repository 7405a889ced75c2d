import { HubError, messageOf } from './errors.js';

/** How requests reach the hub: where, as whom, and how long silence is tolerated. */
export interface HubClient {
  /** e.g. `https://huggingface.co` (no trailing slash). */
  endpoint: string;
  /** Sent as `Authorization: Bearer …`, to the endpoint's origin only (never to a CDN it redirects to). */
  token: string | undefined;
  /** Milliseconds without a byte (or without the response headers) before a request fails. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * An abort signal that fires when the caller's signal does or when `touch()` has not been called for `ms`:
 * a timeout on silence, not on total time, so a slow but steady multi-gigabyte download is never cut.
 */
export class IdleDeadline {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #parent: AbortSignal | undefined;
  readonly #onParentAbort = (): void => this.#controller.abort(this.#parent?.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;

  constructor(ms: number, parent?: AbortSignal) {
    this.#ms = ms;
    this.#parent = parent;
    this.signal = this.#controller.signal;
    if (parent?.aborted) this.#controller.abort(parent.reason);
    else parent?.addEventListener('abort', this.#onParentAbort, { once: true });
    this.touch();
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  touch(): void {
    clearTimeout(this.#timer);
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(new HubError('timeout', `no data for ${this.#ms / 1000} s`));
    }, this.#ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener('abort', this.#onParentAbort);
  }

  /** Turns whatever a request threw into the caller's abort reason, a timeout error, or a network error. */
  explain(error: unknown, what: string): unknown {
    if (this.#parent?.aborted) return this.#parent.reason;
    if (this.#timedOut) return new HubError('timeout', `${what}: no data for ${this.#ms / 1000} s (set HF_HUB_DOWNLOAD_TIMEOUT or timeoutMs to wait longer)`);
    if (error instanceof HubError) return error;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new HubError('network', `${what}: ${messageOf(error)}${cause}`, { cause: error });
  }
}

export interface HubRequest {
  method: 'GET' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  /** Follow redirects to other hosts (GET of a file: the hub sends LFS files to a CDN). */
  followAbsolute: boolean;
  deadline: IdleDeadline;
}

export interface HubResponse {
  response: Response;
  /** The URL that answered (after redirects). */
  url: string;
}

function headersFor(client: HubClient, url: URL, extra: Record<string, string> | undefined): Record<string, string> {
  // Ask for the bytes as stored: a gzip body would make sizes, ranges and hashes refer to something else.
  const headers: Record<string, string> = { 'user-agent': 'sdxs (huggingface_hub-compatible)', 'accept-encoding': 'identity', ...extra };
  if (client.token && url.origin === new URL(client.endpoint).origin) headers.authorization = `Bearer ${client.token}`;
  return headers;
}

/**
 * One request to the hub with redirects handled as huggingface_hub does: a HEAD follows only relative
 * redirects (a renamed repo) and stops at one to another host (the LFS CDN), whose `Location` is where the
 * bytes are; a GET follows both. The token is only ever sent to the endpoint's own origin.
 */
export async function hubFetch(client: HubClient, req: HubRequest): Promise<HubResponse> {
  let url = new URL(req.url);
  for (let hop = 0; hop <= 10; hop++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: req.method,
        headers: headersFor(client, url, req.headers),
        redirect: 'manual',
        signal: req.deadline.signal,
      });
    } catch (e) {
      throw req.deadline.explain(e, `${req.method} ${url.href}`);
    }
    req.deadline.touch();
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      const relativeRedirect = !/^[a-z][a-z0-9+.-]*:|^\/\//i.test(location);
      if (!relativeRedirect && !req.followAbsolute) return { response, url: url.href };
      await response.body?.cancel().catch(() => undefined);
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new HubError('http', `${req.method} ${url.href}: redirected to unsupported ${next.protocol} URL`);
      }
      url = next;
      continue;
    }
    return { response, url: url.href };
  }
  throw new HubError('http', `${req.method} ${req.url}: too many redirects`);
}

/**
 * The error for a failed hub answer, using the hub's `X-Error-Code` header the way huggingface_hub's
 * `hf_raise_for_status` does (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
 */
export function statusError(response: Response, what: string): HubError {
  const code = response.headers.get('x-error-code');
  const detail = response.headers.get('x-error-message');
  const status = response.status;
  const suffix = detail ? ` (${detail})` : '';
  if (code === 'RepoNotFound' || (status === 401 && code === null)) {
    return new HubError(
      status === 401 && code === null ? 'unauthorized' : 'not-found',
      `${what}: repository not found or not accessible (HTTP ${status})${suffix}. If it is private or gated, set HF_TOKEN to a token that can read it.`,
      { status },
    );
  }
  if (code === 'GatedRepo') return new HubError('gated', `${what}: this repository is gated: accept its terms on the hub, then set HF_TOKEN (HTTP ${status})${suffix}`, { status });
  if (code === 'RevisionNotFound') return new HubError('not-found', `${what}: revision not found (HTTP ${status})${suffix}`, { status });
  if (code === 'EntryNotFound' || status === 404) return new HubError('not-found', `${what}: file not found (HTTP ${status})${suffix}`, { status });
  if (status === 401 || status === 403) return new HubError('unauthorized', `${what}: access denied (HTTP ${status})${suffix}; check HF_TOKEN`, { status });
  return new HubError('http', `${what}: HTTP ${status}${suffix}`, { status });
}
