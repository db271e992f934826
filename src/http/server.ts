/**
 * The thin HTTP front end: `buildServer(runtime)` returns a `node:http` server that is not yet
 * listening (tests start it on port 0; main listens on the configured host and port). Every
 * response carries `X-Request-Id` (the client's, if it sent a sane one). While closing, new requests
 * get 503 with `Connection: close` until the in-flight ones have finished. (After fastify's "build apart from
 * listen" testing guide.)
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cacheModeOf } from '../actors/cache/cache-control.js';
import type { CacheMode } from '../actors/cache/index.js';
import type { Admission, AdmitRequest, Principal, StrikeReason } from '../actors/security/index.js';
import { JameyError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { BODY_LIMIT, preloadJson } from './body.js';
import { httpMetrics } from './metrics.js';
import { sendError } from './respond.js';
import type { Route } from './route.js';
import { Router } from './router.js';
import { allRoutes } from './routes/index.js';

export interface JameyServer extends Server {
  /**
   * Graceful: lets in-flight requests finish (at most `drainTimeoutMs`, default 10 s) while new ones
   * get 503 with `Connection: close`, then stops listening. Idempotent.
   */
  shutdown(drainTimeoutMs?: number): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The matched route's pattern, for the request metrics. */
const ROUTE = Symbol('jamey.route');
/** The request id, for the access log. */
const REQUEST = Symbol('jamey.requestId');

const NORMAL_MODE: CacheMode = Object.freeze({ read: true, write: true });
const HIT = ['X-Cache', 'HIT'];

interface RequestTarget {
  pathname: string;
  /** Sorted query string (so `?a=1&b=2` and `?b=2&a=1` share a cache entry), without the `?`. */
  query: string;
}

/** Path and query of the request target without building a URL (the common origin-form case). */
function splitTarget(target: string | undefined): RequestTarget {
  const raw = target ?? '/';
  if (!raw.startsWith('/')) {
    const url = requestUrl(raw);
    return { pathname: url.pathname, query: url.search.slice(1).split('&').sort().join('&') };
  }
  const q = raw.indexOf('?');
  if (q < 0) return { pathname: raw, query: '' };
  const query = raw.slice(q + 1);
  return {
    pathname: raw.slice(0, q),
    query: query.includes('&') ? query.split('&').sort().join('&') : query,
  };
}

/**
 * The L1 key of a cacheable request (the tenant is added by the cache itself): method, path, sorted
 * query, the caller's scopes, the data version, and the body — hashed, since a body can be large.
 */
function cacheKey(
  method: string,
  target: RequestTarget,
  scopes: readonly string[],
  body: string | undefined,
  version: number,
): string {
  const scopeKey = scopes.length <= 1 ? (scopes[0] ?? '') : [...scopes].sort().join(' ');
  const base = `${method} ${target.pathname}?${target.query} [${scopeKey}] v${version}`;
  return body === undefined ? base : `${base} ${createHash('sha256').update(body).digest('base64url')}`;
}

/** The request target as a URL: origin-form ("/path?q") as sent, even "//x"; absolute-form accepted. */
function requestUrl(target: string | undefined): URL {
  const raw = target ?? '/';
  try {
    return raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'the request target is not a valid URL', {
      details: [{ path: '', problem: 'invalid request target' }],
    });
  }
}

/**
 * What the server needs from the security layer (src/actors/security): admission in the seed's order
 * (rate limit → DDoS protection → authentication; validation follows in the route), per-address
 * connection accounting, strikes for abuse only the HTTP layer sees, and the headers every response
 * carries.
 */
export interface Gatekeeper {
  admit(request: AdmitRequest): Admission;
  onConnectionOpen(ip: string): boolean;
  onConnectionClose(ip: string): void;
  strike(ip: string, reason: StrikeReason): void;
}

/** What the server needs from the response cache (src/actors/cache `TieredCache<string>`). */
export interface ResponseCache {
  get(tenant: string, key: string): string | undefined;
  getOrComputeResult(
    tenant: string,
    key: string,
    compute: () => Promise<string>,
    options: { mode?: CacheMode; ttlMs?: number },
  ): Promise<{ value: string; source: string }>;
}

export interface ServerOptions {
  /** L1 response cache for routes that declare `cache`. */
  cache?: ResponseCache;
  /** The current version of a namespace of data (bumped by every write to it). */
  dataVersion?: (namespace: string) => number;
  routes?: readonly Route[];
  /** Without one every route is public (tests of the kernel alone; embedding behind a trusted proxy). */
  security?: Gatekeeper;
  /** Headers for every response (the security layer's `securityHeaders()`). */
  headers?: Readonly<Record<string, string>>;
}

const PUBLIC_PRINCIPAL: Principal = Object.freeze({ keyId: null, tenant: 'public', scopes: [] }) as Principal;

function clientIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Response headers collected as a flat [name, value, …] list and written with one `writeHead`:
 * `setHeader` validates and stores each header in a map, which on a cache hit costs more than the
 * lookup itself. Paths that hand the response to a handler or an error writer apply the list with
 * `setHeader` first (`apply`).
 */
class HeaderList {
  readonly flat: string[] = [];
  applied = false;

  add(name: string, value: string): void {
    if (this.applied) return;
    this.flat.push(name, value);
  }

  addAll(headers: Readonly<Record<string, string>>): void {
    for (const name in headers) this.add(name, headers[name] as string);
  }

  apply(res: ServerResponse): void {
    if (this.applied || res.headersSent) return;
    this.applied = true;
    const f = this.flat;
    for (let i = 0; i < f.length; i += 2) res.setHeader(f[i] as string, f[i + 1] as string);
  }
}

/** Sends a JSON text body with the collected headers in one `writeHead`. */
function writeJson(
  res: ServerResponse,
  headers: HeaderList,
  status: number,
  text: string,
  extra: string[] = [],
): void {
  if (headers.applied) {
    for (let i = 0; i < extra.length; i += 2) res.setHeader(extra[i] as string, extra[i + 1] as string);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.statusCode = status;
    res.end(text);
    return;
  }
  headers.applied = true;
  res.writeHead(status, [
    ...headers.flat,
    ...extra,
    'Content-Type',
    'application/json; charset=utf-8',
    'Content-Length',
    String(Buffer.byteLength(text)),
  ]);
  res.end(text);
}

export function buildServer(runtime: Runtime, options: ServerOptions | readonly Route[] = {}): JameyServer {
  const o: ServerOptions = Array.isArray(options)
    ? { routes: options as readonly Route[] }
    : (options as ServerOptions);
  const router = new Router(o.routes ?? allRoutes);
  const security = o.security;
  const baseHeaders = o.headers ?? {};
  const cache = o.cache;
  const dataVersion = o.dataVersion ?? (() => 0);

  /**
   * A cacheable route: the key is the tenant (by construction of the cache), the method, path, sorted
   * query, the caller's scopes, the body, and the version of the data the route reads. `X-Cache` says
   * whether the response came from the cache.
   */
  const readMode = (req: IncomingMessage): CacheMode => {
    const h = req.headers;
    return h['cache-control'] === undefined && h.pragma === undefined ? NORMAL_MODE : cacheModeOf(h);
  };

  /** The synchronous L1-hit path of a cacheable GET; false when it is not a hit. */
  const serveHit = (
    route: Route,
    ctx: Parameters<Route['handler']>[0],
    target: RequestTarget,
    headers: HeaderList,
  ): boolean => {
    if (!readMode(ctx.req).read) return false;
    const spec = route.cache as NonNullable<Route['cache']>;
    const key = cacheKey('GET', target, ctx.principal.scopes, undefined, dataVersion(spec.namespace));
    const text = (cache as ResponseCache).get(ctx.principal.tenant, key);
    if (text === undefined) return false;
    writeJson(ctx.res, headers, 200, text, HIT);
    return true;
  };

  const serveCached = async (
    route: Route,
    ctx: Parameters<Route['handler']>[0],
    method: string,
    target: RequestTarget,
    headers: HeaderList,
  ): Promise<void> => {
    const c = cache as ResponseCache;
    const spec = route.cache as NonNullable<Route['cache']>;
    const body =
      method === 'POST' ? await preloadJson(ctx.req, runtime.options.http.maxBodyBytes) : undefined;
    const key = cacheKey(method, target, ctx.principal.scopes, body, dataVersion(spec.namespace));
    const tenant = ctx.principal.tenant;
    const mode = readMode(ctx.req);
    let text = mode.read ? c.get(tenant, key) : undefined;
    let source = 'l1';
    if (text === undefined) {
      const computed = await c.getOrComputeResult(
        tenant,
        key,
        async () => JSON.stringify(await route.handler(ctx)),
        { mode, ...(spec.ttlMs === undefined ? {} : { ttlMs: spec.ttlMs }) },
      );
      text = computed.value;
      source = computed.source;
    }
    writeJson(ctx.res, headers, 200, text, [
      'X-Cache',
      source === 'l1' || source === 'l3' || source === 'shared' ? 'HIT' : 'MISS',
    ]);
  };
  let closing = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    (res as ServerResponse & { [REQUEST]?: string })[REQUEST] = requestId;
    const headers = new HeaderList();
    headers.add('X-Request-Id', requestId);
    headers.addAll(baseHeaders);
    if (closing) {
      headers.apply(res);
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      sendError(res, new JameyError('JAMEY_ERR_SHUTTING_DOWN'));
      return;
    }
    const ip = clientIp(req);
    try {
      const target = splitTarget(req.url);
      const method = req.method ?? 'GET';
      let match: ReturnType<Router['match']>;
      try {
        match = router.match(method, target.pathname);
      } catch (err) {
        // Unknown paths are still rate-limited by address before they are answered.
        if (security !== undefined)
          admitOrThrow(security, headers, {
            ip,
            method,
            route: '(unmatched)',
            scope: null,
            authorization: null,
          });
        throw err;
      }
      const { route, params } = match;
      (res as ServerResponse & { [ROUTE]?: string })[ROUTE] = route.name ?? route.path;
      const principal =
        security === undefined
          ? PUBLIC_PRINCIPAL
          : admitOrThrow(security, headers, {
              ip,
              method,
              route: route.name ?? route.path,
              scope: route.scope ?? null,
              authorization: req.headers.authorization ?? null,
            });
      let url: URL | undefined;
      const ctx = {
        runtime,
        req,
        res,
        requestId,
        // Most requests never look at the parsed URL: build it on first use.
        get url(): URL {
          url ??= requestUrl(req.url);
          return url;
        },
        params,
        principal,
      };
      if (
        route.cache !== undefined &&
        cache !== undefined &&
        (method === 'GET' || (method === 'POST' && route.cache.post))
      ) {
        // A GET that hits L1 is answered without a single await.
        if (method === 'GET' && serveHit(route, ctx, target, headers)) return;
        await serveCached(route, ctx, method, target, headers);
        return;
      }
      // The handler may write the response itself: give it the headers first.
      headers.apply(res);
      const result = await route.handler(ctx);
      if (!res.writableEnded && !res.headersSent) {
        if (result === undefined) {
          res.statusCode = 204;
          res.end();
        } else {
          writeJson(res, headers, 200, JSON.stringify(result));
        }
      }
    } catch (err) {
      headers.apply(res);
      const e = sendError(res, err);
      if (e.code === 'JAMEY_ERR_PAYLOAD_TOO_LARGE') security?.strike(ip, 'payload_too_large');
      if (e.status >= 500) {
        runtime.log.error('request failed', {
          requestId,
          method: req.method,
          code: e.code,
          error: e.message,
        });
      }
    }
  };

  let inFlight = 0;
  let idle: Array<() => void> = [];
  const done = (): void => {
    inFlight--;
    if (inFlight === 0 && idle.length > 0) {
      const waiters = idle;
      idle = [];
      for (const w of waiters) w();
    }
  };
  const http = runtime.options.http;
  const observeRequest = httpMetrics(runtime.metrics.registry);
  const accessLog = runtime.log.enabled('debug');
  const httpServer = createServer(
    {
      maxHeaderSize: http.maxHeaderBytes,
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      keepAliveTimeout: http.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above; its default (30 s) would let a slowloris
      // client hold a connection far past headersTimeout.
      connectionsCheckingInterval: Math.min(1000, http.headersTimeoutMs),
    },
    (req, res) => {
      (req as IncomingMessage & { [BODY_LIMIT]?: number })[BODY_LIMIT] = http.maxBodyBytes;
      inFlight++;
      const t0 = performance.now();
      res.once('close', () => {
        done();
        const route = (res as ServerResponse & { [ROUTE]?: string })[ROUTE] ?? '(unmatched)';
        const seconds = (performance.now() - t0) / 1000;
        observeRequest(route, req.method ?? 'GET', res.statusCode, seconds);
        // The access log is at debug level: a line per request costs more than a cached answer.
        if (accessLog) {
          runtime.log.debug('request', {
            requestId: (res as ServerResponse & { [REQUEST]?: string })[REQUEST],
            method: req.method,
            route,
            status: res.statusCode,
            ms: Math.round(seconds * 1e5) / 100,
          });
        }
      });
      void handle(req, res);
    },
  );
  const server = httpServer as JameyServer;
  if (security !== undefined) {
    server.on('connection', (socket) => {
      const ip = socket.remoteAddress ?? 'unknown';
      if (!security.onConnectionOpen(ip)) {
        socket.destroy();
        return;
      }
      socket.once('close', () => security.onConnectionClose(ip));
    });
  }

  let shutdown: Promise<void> | undefined;
  server.shutdown = (drainTimeoutMs = http.drainTimeoutMs) => {
    shutdown ??= (async () => {
      closing = true;
      // Drain: in-flight requests finish; anything new (on a kept-alive or a new connection) gets
      // 503 + Connection: close, so a load balancer moves on. Then stop listening.
      // Each wait ends when the last request does or at the deadline, whichever comes first: a
      // request that never finishes (a hung upstream) must not hold the shutdown.
      const deadline = Date.now() + drainTimeoutMs;
      while (inFlight > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, deadline - Date.now());
          idle.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        if (inFlight > 0) server.closeAllConnections();
      });
    })();
    return shutdown;
  };
  return server;
}

/** Runs admission; on refusal throws the coded error (its headers already collected), else returns the principal. */
function admitOrThrow(security: Gatekeeper, headers: HeaderList, request: AdmitRequest): Principal {
  const admission = security.admit(request);
  headers.addAll(admission.headers);
  if (!admission.ok) throw admission.error;
  return admission.principal;
}
