/**
 * A route is data: method, path pattern and handler. Adding a route is adding one file under
 * routes/ and listing it in routes/index.ts. Patterns are literal segments and `:param` segments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SchemaObject } from 'ajv';
import type { Principal } from '../actors/security/index.js';
import type { Runtime } from '../runtime/runtime.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  readonly runtime: Runtime;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  /** Who is calling (the public principal when the server has no security layer). */
  readonly principal: Principal;
}

/** A handler either writes the response itself or returns a value sent as JSON (200). */
export type Handler = (ctx: RequestContext) => unknown | Promise<unknown>;

/** The permission a route needs; `null` for public routes (health, readiness, metrics). */
export type { Scope } from '../actors/security/index.js';

import type { Scope } from '../actors/security/index.js';

export interface Route {
  readonly method: Method;
  readonly path: string;
  /** @default null (public) */
  readonly scope?: Scope | null;
  /**
   * Responses may be served from the L1 response cache (per tenant). The handler must return its
   * value (not write the response). `namespace` names the data the response depends on: its version
   * is part of the cache key, so a write to that data makes every older entry unreachable. `post`
   * allows caching a POST (a search: a read with a body).
   */
  readonly cache?: { readonly namespace: string; readonly post?: boolean; readonly ttlMs?: number };
  /**
   * The JSON Schemas the handler validates its body and query string with, declared here too so
   * that tools can read a route's input from the table (the input fuzzing derives bodies from them).
   */
  readonly body?: SchemaObject;
  readonly query?: SchemaObject;
  /** Bounded label for metrics: the pattern, never the raw path. @default path */
  readonly name?: string;
  readonly handler: Handler;
}

export function defineRoutes(routes: Route[]): readonly Route[] {
  return Object.freeze(routes);
}
