/**
 * A route is data: method, path pattern and handler. Adding a route is adding one file under
 * routes/ and listing it in routes/index.ts. Patterns are literal segments and `:param` segments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from '../runtime/runtime.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestContext {
  readonly runtime: Runtime;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

/** A handler either writes the response itself or returns a value sent as JSON (200). */
export type Handler = (ctx: RequestContext) => unknown | Promise<unknown>;

/** The permission a route needs; `null` for public routes (health, readiness, metrics). */
export type Scope = 'chat' | 'memory:read' | 'memory:write' | 'admin';

export interface Route {
  readonly method: Method;
  readonly path: string;
  /** @default null (public) */
  readonly scope?: Scope | null;
  /** Bounded label for metrics: the pattern, never the raw path. @default path */
  readonly name?: string;
  readonly handler: Handler;
}

export function defineRoutes(routes: Route[]): readonly Route[] {
  return Object.freeze(routes);
}
