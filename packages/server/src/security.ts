/**
 * What keeps a local image server local (shared/docs/RELIABILITY.md items 22–23, after ComfyUI and llama.cpp):
 * a Host header must be an IP literal, localhost or an allowed name (DNS rebinding needs a name that resolves to
 * us); a browser request from another site (its Origin or `Sec-Fetch-Site: cross-site`) is refused unless that
 * origin is allowed, and an allowed origin gets CORS without credentials; an API key, when set, is compared in
 * constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export interface SecurityOptions {
  /** Host names accepted besides IP literals and localhost (e.g. a LAN name, when bound to 0.0.0.0). */
  readonly allowedHosts?: readonly string[];
  /** Origins (scheme://host[:port]) whose pages may call the API: they get Access-Control-Allow-Origin. */
  readonly corsOrigins?: readonly string[];
  /** Bearer token required on every route but /health. */
  readonly apiKey?: string;
}

/** The host name of a Host header (`[::1]:7860` → `::1`), lower-cased; undefined when it does not parse. */
export function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  try {
    const h = new URL(`http://${host}`).hostname.toLowerCase();
    return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  } catch {
    return undefined;
  }
}

/** Whether a Host header names this server in a way DNS rebinding cannot forge. */
export function hostAllowed(host: string | undefined, allowed: readonly string[] = []): boolean {
  const name = hostName(host);
  if (name === undefined) return false;
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  return allowed.some((a) => a.toLowerCase() === name);
}

/** The origin a request's Host header says it was sent to. */
function selfOrigins(host: string | undefined): string[] {
  return host ? [`http://${host.toLowerCase()}`, `https://${host.toLowerCase()}`] : [];
}

export type OriginVerdict = 'none' | 'same' | 'allowed' | 'refused';

/**
 * A request's Origin (and Sec-Fetch-Site) against the server's: 'none' when no browser context says where it came
 * from (curl, SDKs), 'same' for the server's own pages, 'allowed' for a listed origin, else 'refused'.
 */
export function checkOrigin(origin: string | undefined, fetchSite: string | undefined, host: string | undefined, allowed: readonly string[] = []): OriginVerdict {
  if (origin !== undefined && origin !== 'null') {
    const o = origin.toLowerCase();
    if (selfOrigins(host).includes(o)) return 'same';
    if (allowed.some((a) => a.toLowerCase() === o)) return 'allowed';
    return 'refused';
  }
  if (origin === 'null') return 'refused';
  return fetchSite === 'cross-site' ? 'refused' : 'none';
}

/** A constant-time comparison of an Authorization header with the key (both hashed first: equal lengths). */
export function apiKeyMatches(authorization: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  const given = createHash('sha256').update(m ? m[1]!.trim() : '').digest();
  const wanted = createHash('sha256').update(key).digest();
  return timingSafeEqual(given, wanted) && m !== null;
}
