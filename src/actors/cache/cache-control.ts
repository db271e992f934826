/**
 * Per-request cache control for the HTTP layer.
 *
 * Request side (RFC 9111 §5.2.1): `Cache-Control: no-store` — neither read nor write the cache;
 * `no-cache` (and `max-age=0`, which asks for a response no older than now) — do not read, but
 * compute afresh and refresh the entry. `Pragma: no-cache` counts as `no-cache` only when there is
 * no Cache-Control header (RFC 9111 §5.4).
 *
 * The response rule (`isCacheableResponse`), in order:
 * 1. Only GET, and POST on routes that declare themselves safe queries (`cacheablePost`, e.g.
 *    search): other methods change state.
 * 2. Only status 200: errors, redirects, partial content and 204s are never stored.
 * 3. Never when the request carried `Cache-Control: no-store`.
 * 4. Never a response to a request that changed authorisation (`authChange`: a key was created,
 *    rotated, revoked or re-scoped), and never one with `Set-Cookie`.
 * 5. Never when the response says `Cache-Control: no-store` or `no-cache`, or `Vary: *`.
 *    `private` is allowed: every entry is scoped to one tenant, so this cache is private to it.
 * Entries are scoped per tenant by the cache itself; `requestCacheKey` adds the caller's scopes to
 * the key, so a key whose scopes change never sees a response computed under the old ones.
 */
import { createHash } from 'node:crypto';
import type { CacheMode } from './tiered-cache.js';

export interface RequestCacheDirectives {
  noStore: boolean;
  noCache: boolean;
  /** `max-age` in seconds when given. */
  maxAge?: number;
  onlyIfCached: boolean;
}

type HeaderValue = string | number | readonly string[] | undefined;
type Headers = Readonly<Record<string, HeaderValue>>;

function headerText(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return value.join(',');
}

/** Case-insensitive header lookup (Node lower-cases incoming names; a plain record may not). */
function header(headers: Headers | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return headerText(direct);
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return headerText(v);
  return undefined;
}

/** Splits a Cache-Control value into lower-cased directive names and their (unquoted) arguments. */
function directives(value: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  // Commas inside a quoted argument do not separate directives.
  for (const part of value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    let arg = eq === -1 ? undefined : part.slice(eq + 1).trim();
    if (arg?.startsWith('"') && arg.endsWith('"') && arg.length >= 2) arg = arg.slice(1, -1);
    if (!out.has(name)) out.set(name, arg);
  }
  return out;
}

/** Parses a request's Cache-Control header (several header lines are joined). */
export function parseCacheControl(value: string | readonly string[] | undefined): RequestCacheDirectives {
  const text = headerText(value);
  const out: RequestCacheDirectives = { noStore: false, noCache: false, onlyIfCached: false };
  if (text === undefined) return out;
  const d = directives(text);
  out.noStore = d.has('no-store');
  out.noCache = d.has('no-cache');
  out.onlyIfCached = d.has('only-if-cached');
  const maxAge = d.get('max-age');
  if (maxAge !== undefined && /^\d+$/.test(maxAge)) out.maxAge = Number(maxAge);
  return out;
}

const NO_STORE: CacheMode = Object.freeze({ read: false, write: false });
const NO_CACHE: CacheMode = Object.freeze({ read: false, write: true });
const NORMAL: CacheMode = Object.freeze({ read: true, write: true });

/** What a request allows: read and write, refresh only (no-cache), or nothing (no-store). */
export function cacheModeOf(requestHeaders: Headers | undefined): CacheMode {
  const cc = header(requestHeaders, 'cache-control');
  if (cc === undefined) {
    const pragma = header(requestHeaders, 'pragma');
    return pragma !== undefined && directives(pragma).has('no-cache') ? NO_CACHE : NORMAL;
  }
  const d = parseCacheControl(cc);
  if (d.noStore) return NO_STORE;
  if (d.noCache || d.maxAge === 0) return NO_CACHE;
  return NORMAL;
}

export interface CacheabilityInput {
  method: string;
  status: number;
  /** The route is a safe query sent as POST (a search body), so its response may be cached. @default false */
  cacheablePost?: boolean;
  /** The request created, rotated, revoked or re-scoped a key. @default false */
  authChange?: boolean;
  requestHeaders?: Headers;
  responseHeaders?: Headers;
}

/** Whether a response may be stored; the rule is in this module's header. */
export function isCacheableResponse(input: CacheabilityInput): boolean {
  const method = input.method.toUpperCase();
  if (method !== 'GET' && !(method === 'POST' && input.cacheablePost === true)) return false;
  if (input.status !== 200) return false;
  if (input.authChange === true) return false;
  if (parseCacheControl(header(input.requestHeaders, 'cache-control')).noStore) return false;
  const res = input.responseHeaders;
  if (header(res, 'set-cookie') !== undefined) return false;
  const rc = header(res, 'cache-control');
  if (rc !== undefined) {
    const d = directives(rc);
    if (d.has('no-store') || d.has('no-cache')) return false;
  }
  const vary = header(res, 'vary');
  if (vary?.split(',').some((v) => v.trim() === '*')) return false;
  return true;
}

/** A response as the L1/L3 tiers keep it. */
export interface CachedResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface RequestKeyParts {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The raw query string; parameters are sorted so their order does not split the cache. */
  query?: string;
  /** The request body of a cacheable POST. */
  body?: string | Uint8Array;
  /** The caller's scopes: part of the key, so a re-scoped key never reads the old responses. */
  scopes?: readonly string[];
  /** Request headers the response varies on (e.g. accept), by lower-case name. */
  vary?: Readonly<Record<string, string | undefined>>;
}

/**
 * The L1 key of a request: a SHA-256 over method, path, sorted query, scopes, varied headers and
 * body, so long bodies do not sit in memory as keys. The tenant is not part of it: the cache takes
 * the tenant separately.
 */
export function requestCacheKey(parts: RequestKeyParts): string {
  const h = createHash('sha256');
  h.update(parts.method.toUpperCase()).update('\u0000').update(parts.path).update('\u0000');
  if (parts.query !== undefined && parts.query !== '') {
    const q = parts.query.startsWith('?') ? parts.query.slice(1) : parts.query;
    h.update(q.split('&').sort().join('&'));
  }
  h.update('\u0000')
    .update([...(parts.scopes ?? [])].sort().join(' '))
    .update('\u0000');
  for (const name of Object.keys(parts.vary ?? {}).sort()) {
    h.update(name.toLowerCase())
      .update(':')
      .update(parts.vary?.[name] ?? '')
      .update('\n');
  }
  h.update('\u0000');
  if (parts.body !== undefined) h.update(parts.body);
  return `${parts.method.toUpperCase()} ${parts.path} ${h.digest('base64url')}`;
}
