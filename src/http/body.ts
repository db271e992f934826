/**
 * Reading JSON request bodies with a hard size cap: the body is refused (413-class validation error)
 * as soon as it passes the cap, before it is buffered whole; malformed JSON is a 400 naming the
 * problem. The cap is the server's `http.maxBodyBytes` (default 1 MiB) unless a route passes its own.
 *
 * What counts as JSON here is I-JSON (RFC 7493), which the handlers can store and echo verbatim:
 * - the bytes must be UTF-8 (RFC 8259 section 8.1); invalid sequences, overlong forms and encoded
 *   surrogates are a 400 rather than being replaced by U+FFFD, which would change the text stored;
 * - a leading byte order mark is ignored (RFC 8259 section 8.1 allows it);
 * - a string or name holding a lone surrogate (`"\ud800"`) is a 400 naming the field: it has no
 *   UTF-8 form, so SQLite would store U+FFFD instead (RFC 7493 section 2.1);
 * - a number too large for a double (`1e400`, which `JSON.parse` makes Infinity and JSON.stringify
 *   writes back as null) is a 400 naming the field (RFC 7493 section 2.2);
 * - containers nest at most `MAX_JSON_DEPTH` levels;
 * - of duplicate names in an object the last one wins (as `JSON.parse`; RFC 8259 leaves it open),
 *   and validation and the handler see the same parsed object.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { JameyError } from '../runtime/errors.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Deepest nesting of arrays and objects accepted (the top-level container is level 1). `JSON.parse`
 * itself does not recurse, but what comes after it does (JSON.stringify into SQLite, structured
 * clone to a worker), and a 1 MiB body can nest 500 000 levels: enough to overflow the stack inside
 * an actor and crash it. 64 is far more than any field of the API needs (.NET's default as well).
 */
export const MAX_JSON_DEPTH = 64;

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
  return decodeUtf8(await readBytes(req, limit));
}

/**
 * The body's bytes, refused past `limit` bytes. A refused body is read on and dropped rather than
 * left unread: the connection then stays usable and the client reads the 413 (leaving a for-await
 * loop early would destroy the request, and with it the socket under the answer). Node drops a
 * body refused by its Content-Length the same way. The request timeout bounds both.
 */
function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err: JameyError | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      if (err === undefined)
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      settle(tooLarge(limit));
      req.resume();
    };
    const onEnd = (): void => settle(undefined);
    // The client went away before the whole body arrived: nothing to answer, and not a server error.
    const onGone = (): void =>
      settle(new JameyError('JAMEY_ERR_ABORTED', 'the client closed the connection before sending the body'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onGone);
  });
}

/** The body as text: strict UTF-8 (no replacement characters), a leading byte order mark dropped. */
function decodeUtf8(bytes: Buffer): string {
  if (!isUtf8(bytes)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'the request body is not valid UTF-8', {
      details: [{ path: '', problem: 'invalid UTF-8' }],
    });
  }
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJson(text: string): unknown {
  if (text.length === 0) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'the request body is empty', {
      details: [{ path: '', problem: 'empty body' }],
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `the request body is not valid JSON: ${(err as Error).message}`,
      {
        details: [{ path: '', problem: 'invalid JSON' }],
      },
    );
  }
  // Valid UTF-8 cannot hold a surrogate, so only a \uD800-\uDFFF escape can make a lone one.
  checkStructure(value, SURROGATE_ESCAPE.test(text));
  return value;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Walks the parsed value without recursion (a stack of containers with their JSON Pointers):
 * refuses nesting past `MAX_JSON_DEPTH`, numbers that overflowed to ±Infinity and, when `strings` is
 * set, names and strings holding a lone surrogate. A JSON Pointer is built only for containers and
 * for the value at fault.
 */
function checkStructure(root: unknown, strings: boolean): void {
  if (typeof root !== 'object' || root === null) {
    checkLeaf(root, strings, '');
    return;
  }
  const values: object[] = [root];
  const pointers: string[] = [''];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop() as object;
    const pointer = pointers.pop() as string;
    const depth = depths.pop() as number;
    if (depth > MAX_JSON_DEPTH) throw tooDeep(pointer);
    const isArray = Array.isArray(value);
    const names = isArray ? undefined : Object.keys(value);
    const n = isArray ? value.length : (names as string[]).length;
    for (let i = 0; i < n; i++) {
      const name = isArray ? i : (names as string[])[i]!;
      const child = (value as Record<string | number, unknown>)[name];
      if (strings && typeof name === 'string' && LONE_SURROGATE.test(name)) {
        throw loneSurrogate(`${pointer}/${escapePointer(name)}`, 'name');
      }
      if (typeof child === 'object' && child !== null) {
        values.push(child);
        pointers.push(`${pointer}/${typeof name === 'number' ? name : escapePointer(name)}`);
        depths.push(depth + 1);
      } else if (typeof child === 'number' ? !Number.isFinite(child) : strings) {
        checkLeaf(child, strings, `${pointer}/${typeof name === 'number' ? name : escapePointer(name)}`);
      }
    }
  }
}

function checkLeaf(value: unknown, strings: boolean, pointer: string): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'a number in the request body is too large', {
      details: [{ path: pointer || '/', problem: 'is too large for a double-precision number' }],
    });
  }
  if (strings && typeof value === 'string' && LONE_SURROGATE.test(value)) throw loneSurrogate(pointer || '/');
}

/** RFC 6901: `~` and `/` in a name are escaped in a JSON Pointer. */
function escapePointer(name: string): string {
  return name.includes('~') || name.includes('/') ? name.replaceAll('~', '~0').replaceAll('/', '~1') : name;
}

function tooDeep(pointer: string): JameyError {
  // The pointer of the offending container is up to 64 names long: the top-level field names it.
  const second = pointer.indexOf('/', 1);
  const field = second < 0 ? pointer : pointer.slice(0, second);
  return new JameyError(
    'JAMEY_ERR_VALIDATION',
    `the request body nests deeper than ${MAX_JSON_DEPTH} levels`,
    {
      details: [
        { path: field || '/', problem: `nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels` },
      ],
    },
  );
}

function loneSurrogate(pointer: string, what: 'name' | 'string' = 'string'): JameyError {
  return new JameyError('JAMEY_ERR_VALIDATION', `a ${what} in the request body holds a lone surrogate`, {
    details: [{ path: pointer, problem: `the ${what} holds a lone surrogate (not Unicode text)` }],
  });
}

function tooLarge(limit: number): JameyError {
  return new JameyError('JAMEY_ERR_PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`, {
    details: [{ path: '', problem: `larger than ${limit} bytes` }],
  });
}
