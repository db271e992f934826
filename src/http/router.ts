/**
 * Matches a method and path against the route table. Literal segments win over `:param` segments;
 * a path that exists under another method gives 405 with `Allow`.
 */
import { JameyError } from '../runtime/errors.js';
import type { Method, Route } from './route.js';

interface Compiled {
  route: Route;
  segments: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export class Router {
  private readonly compiled: Compiled[];
  /** Routes without parameters by "METHOD path": one lookup for the common case. */
  private readonly exact = new Map<string, Match>();

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: split(route.path) }));
    // Literal segments first, so /v1/memories/search wins over /v1/memories/:id.
    this.compiled.sort((a, b) => score(b.segments) - score(a.segments));
    for (const c of this.compiled) {
      if (c.segments.some((seg) => seg.startsWith(':'))) continue;
      const path = `/${c.segments.join('/')}`;
      this.exact.set(`${c.route.method} ${path}`, { route: c.route, params: NO_PARAMS });
      if (c.route.method === 'GET') this.exact.set(`HEAD ${path}`, { route: c.route, params: NO_PARAMS });
    }
  }

  match(method: string, pathname: string): Match {
    const hit = this.exact.get(`${method} ${pathname}`);
    if (hit !== undefined) return hit;
    return this.search(method, pathname);
  }

  private search(method: string, pathname: string): Match {
    const parts = split(pathname);
    const allowed = new Set<string>();
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, parts);
      if (params === undefined) continue;
      if (c.route.method === method || (method === 'HEAD' && c.route.method === 'GET'))
        return { route: c.route, params };
      allowed.add(c.route.method);
    }
    if (allowed.size > 0) {
      throw new JameyError('JAMEY_ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}`, {
        details: { allow: [...allowed].sort() as Method[] },
      });
    }
    throw new JameyError('JAMEY_ERR_NOT_FOUND', `no route for ${method} ${pathname}`);
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function score(segments: string[]): number {
  let s = segments.length * 2;
  for (const seg of segments) if (!seg.startsWith(':')) s += 1;
  return s;
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const v = parts[i] as string;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return undefined;
      }
    } else if (p !== v) {
      return undefined;
    }
  }
  return params;
}
