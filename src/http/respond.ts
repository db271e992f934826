/** Writing JSON bodies and coded errors. Error body: `{"error":{"code","message","details"}}`. */
import type { ServerResponse } from 'node:http';
import { type JameyError, toJameyError } from '../runtime/errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): JameyError {
  const e = toJameyError(err);
  if (e.code === 'JAMEY_ERR_METHOD_NOT_ALLOWED') {
    const allow = (e.details as { allow?: string[] } | undefined)?.allow;
    if (allow !== undefined) res.setHeader('Allow', allow.join(', '));
  }
  // Internal errors do not leak their message to clients.
  const body =
    e.status >= 500 && e.code === 'JAMEY_ERR_INTERNAL'
      ? { code: e.code, message: 'Internal error' }
      : e.toJSON();
  if (!res.headersSent) sendJson(res, e.status, { error: body });
  else res.destroy();
  return e;
}
