/**
 * The thin HTTP front end: `buildServer(runtime)` returns a `node:http` server that is not yet
 * listening (tests start it on port 0; main listens on the configured host and port). Every
 * response carries `X-Request-Id` (the client's, if it sent a sane one). While closing, new requests
 * get 503 with `Connection: close` until the in-flight ones have finished. (After fastify's "build apart from
 * listen" testing guide.)
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { JameyError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { BODY_LIMIT } from './body.js';
import { sendError, sendJson } from './respond.js';
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

export function buildServer(runtime: Runtime, routes: readonly Route[] = allRoutes): JameyServer {
  const router = new Router(routes);
  let closing = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    if (closing) {
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      sendError(res, new JameyError('JAMEY_ERR_SHUTTING_DOWN'));
      return;
    }
    try {
      const url = requestUrl(req.url);
      const { route, params } = router.match(req.method ?? 'GET', url.pathname);
      const result = await route.handler({ runtime, req, res, requestId, url, params });
      if (!res.writableEnded && !res.headersSent) {
        if (result === undefined) {
          res.statusCode = 204;
          res.end();
        } else {
          sendJson(res, 200, result);
        }
      }
    } catch (err) {
      const e = sendError(res, err);
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
  const server = createServer(
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
      res.once('close', done);
      void handle(req, res);
    },
  ) as JameyServer;

  let shutdown: Promise<void> | undefined;
  server.shutdown = (drainTimeoutMs = http.drainTimeoutMs) => {
    shutdown ??= (async () => {
      closing = true;
      // Drain: in-flight requests finish; anything new (on a kept-alive or a new connection) gets
      // 503 + Connection: close, so a load balancer moves on. Then stop listening.
      const deadline = Date.now() + drainTimeoutMs;
      while (inFlight > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => idle.push(resolve));
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
