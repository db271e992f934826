/**
 * Reading JSON request bodies with a hard size cap: the body is refused (413-class validation error)
 * as soon as it passes the cap, before it is buffered whole; malformed JSON is a 400 naming the
 * problem. The cap is the server's `http.maxBodyBytes` (default 1 MiB) unless a route passes its own.
 */
import type { IncomingMessage } from 'node:http';
import { JameyError } from '../runtime/errors.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Set by the server on each request: the configured body cap (`http.maxBodyBytes`). */
export const BODY_LIMIT = Symbol('jamey.bodyLimit');

export async function readJson(
  req: IncomingMessage,
  limit = (req as IncomingMessage & { [BODY_LIMIT]?: number })[BODY_LIMIT] ?? DEFAULT_BODY_LIMIT,
): Promise<unknown> {
  const preread = (req as IncomingMessage & { [PARSED_BODY]?: { value: unknown } })[PARSED_BODY];
  if (preread !== undefined) return preread.value;
  return parseJson(await readRaw(req, limit));
}

/** Set when the server has read the body already (to build a cache key). */
export const PARSED_BODY = Symbol('jamey.parsedBody');

/** Reads the body as text, with the same checks as readJson, and keeps the parse for the handler. */
export async function preloadJson(req: IncomingMessage, limit: number): Promise<string> {
  const text = await readRaw(req, limit);
  (req as IncomingMessage & { [PARSED_BODY]?: { value: unknown } })[PARSED_BODY] = { value: parseJson(text) };
  return text;
}

async function readRaw(req: IncomingMessage, limit: number): Promise<string> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new JameyError(
      'JAMEY_ERR_UNSUPPORTED_MEDIA_TYPE',
      'the request body must be JSON (Content-Type: application/json)',
      {
        details: [{ path: '', problem: `unsupported content type "${type}"` }],
      },
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.length === 0) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'the request body is empty', {
      details: [{ path: '', problem: 'empty body' }],
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `the request body is not valid JSON: ${(err as Error).message}`,
      {
        details: [{ path: '', problem: 'invalid JSON' }],
      },
    );
  }
}

function tooLarge(limit: number): JameyError {
  return new JameyError('JAMEY_ERR_PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`, {
    details: [{ path: '', problem: `larger than ${limit} bytes` }],
  });
}
