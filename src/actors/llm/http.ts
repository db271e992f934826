/**
 * HTTP plumbing shared by the LLM provider clients: one undici Pool per provider, JSON POST, response
 * bodies as Server-Sent Events (WHATWG HTML Living Standard, "Server-sent events", parsed with
 * eventsource-parser) or newline-delimited JSON (ndjson-spec 1.0), and the mapping of every failure to
 * a coded error with `details: UpstreamFailure`.
 *
 * The API key lives only in the prebuilt request headers; upstream text copied into an error (an error
 * body, a transport message) has the key replaced, since some proxies echo request headers back.
 */
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { type Dispatcher, Pool } from 'undici';
import { JameyError } from '../../runtime/errors.js';
import type { ChatChunk, ToolCallDelta, UpstreamFailure } from './types.js';

/** Options every provider takes; each provider adds its own. */
export interface ProviderOptions {
  /** The provider's name in the registry; errors name it. */
  readonly name: string;
  /**
   * Service address, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:11434". A trailing API version
   * segment ("/v1") is not repeated in request paths.
   */
  readonly baseUrl: string;
  /** Credential sent in the provider's auth header; never copied into errors. */
  readonly apiKey?: string;
  /**
   * Deadline, in ms, for the response headers and for each gap between body chunks. A non-streaming
   * answer arrives only when generation ends, so this bounds the whole generation there. Deadlines
   * above one second fire up to about a second late (undici checks them on a coarse timer, which keeps
   * per-request timers off the hot path); a caller needing a sharp total deadline passes a signal.
   * @default 120000
   */
  readonly timeoutMs?: number;
  /**
   * Deadline for opening a connection (TCP and TLS), in ms.
   * @default the smaller of timeoutMs and 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * Deadline for the response headers, in ms.
   * @default timeoutMs
   */
  readonly headersTimeoutMs?: number;
  /**
   * Longest silence between two body chunks, in ms.
   * @default timeoutMs
   */
  readonly bodyTimeoutMs?: number;
  /**
   * Concurrent connections to the service.
   * @default 8
   */
  readonly connections?: number;
  /**
   * How long an idle pooled connection is kept open, in ms.
   * @default 30000
   */
  readonly keepAliveMs?: number;
}

export type UpstreamReason = UpstreamFailure['reason'];

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const BODY_EXCERPT = 500;
const REDACTED = '[redacted]';

/** Throws JAMEY_ERR_INVALID_OPTION unless `value` (or the fallback) is a positive integer. */
export function positiveIntOption(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw invalidOption(name, 'a positive integer', value);
  return v;
}

/** JAMEY_ERR_INVALID_OPTION naming the option, what it must be and what was given. */
export function invalidOption(name: string, expected: string, value: unknown): JameyError {
  return new JameyError('JAMEY_ERR_INVALID_OPTION', `${name} must be ${expected}, got ${String(value)}`, {
    details: { option: name, value },
  });
}

function nonEmptyStringOption(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new JameyError('JAMEY_ERR_INVALID_OPTION', `${name} must be a non-empty string`, {
      details: { option: name },
    });
  }
  return value;
}

/** Whether an HTTP status means another attempt may succeed (RFC 9110: 408, 409, 429 and server errors). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Whether another attempt (the same or the next model) may succeed after `err`: upstream network
 * failures, timeouts, broken streams, malformed answers and 408/409/429/5xx. A caller's abort, a
 * rejected request (other 4xx) and anything that is not an upstream error are not.
 */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof JameyError)) return false;
  if (err.code !== 'JAMEY_ERR_UPSTREAM' && err.code !== 'JAMEY_ERR_UPSTREAM_TIMEOUT') return false;
  const details = err.details as Partial<UpstreamFailure> | undefined;
  return details?.retryable ?? err.code === 'JAMEY_ERR_UPSTREAM_TIMEOUT';
}

/** Parsed `data` of a streamed SSE event; undefined when the line is not JSON. */
/** A stream delta with whichever of text and tool-call pieces arrived; undefined when neither did. */
export function deltaChunk(
  content: string | undefined,
  toolCalls: readonly ToolCallDelta[] | undefined,
): ChatChunk | undefined {
  if (toolCalls !== undefined) {
    return content === undefined ? { type: 'delta', toolCalls } : { type: 'delta', content, toolCalls };
  }
  return content === undefined ? undefined : { type: 'delta', content };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Incremental SSE decoding of raw body chunks: `feed()` returns the events a chunk completes. The
 * returned array is reused by the next call, so one stream allocates one parser and one array, not
 * one per chunk. UTF-8 is decoded here because a character may straddle two chunks.
 */
export class SseDecoder {
  readonly #events: EventSourceMessage[] = [];
  readonly #parser: EventSourceParser;
  readonly #utf8 = new StringDecoder('utf8');

  constructor() {
    const events = this.#events;
    this.#parser = createParser({ onEvent: (event) => events.push(event) });
  }

  feed(chunk: Buffer): readonly EventSourceMessage[] {
    this.#events.length = 0;
    this.#parser.feed(this.#utf8.write(chunk));
    return this.#events;
  }
}

/**
 * Incremental NDJSON decoding of raw body chunks: `feed()` returns the complete non-blank lines a chunk
 * finishes; the returned array is reused by the next call.
 */
export class NdjsonDecoder {
  readonly #lines: string[] = [];
  readonly #utf8 = new StringDecoder('utf8');
  #rest = '';

  feed(chunk: Buffer): readonly string[] {
    const lines = this.#lines;
    lines.length = 0;
    const decoded = this.#utf8.write(chunk);
    let text = this.#rest.length === 0 ? decoded : this.#rest + decoded;
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      const line = text.slice(start, text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      if (line.trim().length > 0) lines.push(line);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    text = text.slice(start);
    this.#rest = text;
    return lines;
  }

  /** The last line when the body ended without a newline after it; the array is reused. */
  end(): readonly string[] {
    const lines = this.#lines;
    lines.length = 0;
    const rest = this.#rest + this.#utf8.end();
    this.#rest = '';
    if (rest.trim().length > 0) lines.push(rest);
    return lines;
  }
}

/**
 * A provider's connection to its service: the pool, the resolved options and the error mapping.
 * Providers build their headers once and pass them with every call.
 */
export class UpstreamHttp {
  /** The provider name errors carry. */
  readonly provider: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly connections: number;
  readonly keepAliveMs: number;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #apiKey: string | undefined;
  readonly #pool: Pool;
  #closing: Promise<void> | undefined;

  constructor(options: ProviderOptions) {
    if (options === null || typeof options !== 'object') {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'provider options must be an object');
    }
    this.provider = nonEmptyStringOption('name', options.name);
    let url: URL;
    try {
      url = new URL(nonEmptyStringOption('baseUrl', options.baseUrl));
    } catch (err) {
      if (err instanceof JameyError) throw err;
      // The given value is not echoed: a mistyped URL may carry a credential.
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'baseUrl must be an absolute http(s) URL', {
        details: { option: 'baseUrl' },
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `baseUrl must use http or https, got ${url.protocol}`,
        {
          details: { option: 'baseUrl' },
        },
      );
    }
    if (options.apiKey !== undefined) nonEmptyStringOption('apiKey', options.apiKey);
    this.#apiKey = options.apiKey;
    this.timeoutMs = positiveIntOption('timeoutMs', options.timeoutMs, 120_000);
    this.connectTimeoutMs = positiveIntOption(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      Math.min(this.timeoutMs, 10_000),
    );
    this.headersTimeoutMs = positiveIntOption('headersTimeoutMs', options.headersTimeoutMs, this.timeoutMs);
    this.bodyTimeoutMs = positiveIntOption('bodyTimeoutMs', options.bodyTimeoutMs, this.timeoutMs);
    this.connections = positiveIntOption('connections', options.connections, 8);
    this.keepAliveMs = positiveIntOption('keepAliveMs', options.keepAliveMs, 30_000);
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#pool = new Pool(url.origin, {
      connections: this.connections,
      keepAliveTimeout: this.keepAliveMs,
      keepAliveMaxTimeout: this.keepAliveMs,
      headersTimeout: this.headersTimeoutMs,
      bodyTimeout: this.bodyTimeoutMs,
      connect: { timeout: this.connectTimeoutMs },
    });
  }

  /**
   * The request path for an endpoint under an API version, e.g. ("/v1", "/chat/completions"): a base
   * URL that already ends in the version keeps it once.
   */
  versionedPath(version: string, endpoint: string): string {
    const base = this.#basePath.endsWith(version) ? this.#basePath : this.#basePath + version;
    return base + endpoint;
  }

  /** The request path for an endpoint directly under the base URL. */
  plainPath(endpoint: string): string {
    return this.#basePath + endpoint;
  }

  /** POSTs JSON and returns the parsed 2xx answer; anything else throws coded. */
  async postJson(
    path: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const res = await this.#send(path, headers, body, signal);
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.mapError(err, path, signal, 'network');
    }
    if (res.statusCode < 200 || res.statusCode >= 300) throw this.statusError(path, res.statusCode, text);
    try {
      return JSON.parse(text);
    } catch {
      throw this.fail('bad-response', path, 'answered with a body that is not JSON', {
        status: res.statusCode,
        body: text,
      });
    }
  }

  /**
   * POSTs JSON and returns the 2xx response body as raw chunks, for SseDecoder or NdjsonDecoder. Read
   * it inside try/catch and pass failures through `mapError(…, 'stream-broken')`.
   */
  async openStream(
    path: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<AsyncIterable<Buffer>> {
    const res = await this.#send(path, headers, body, signal);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      let text = '';
      try {
        text = await res.body.text();
      } catch (err) {
        throw this.mapError(err, path, signal, 'network');
      }
      throw this.statusError(path, res.statusCode, text);
    }
    return res.body;
  }

  /**
   * One streamed unit (an SSE event's data, an NDJSON line) as a JSON object: text that is not a JSON
   * object is a bad response; with `errorField`, an object carrying an `error` means the provider
   * reported a failure inside its stream (OpenAI, Ollama).
   */
  streamedObject(
    path: string,
    text: string,
    unit: 'event' | 'line',
    errorField = false,
  ): Record<string, unknown> {
    const data = parseJson(text);
    if (data === null || typeof data !== 'object') {
      throw this.fail(
        'bad-response',
        path,
        `streamed ${unit === 'event' ? 'an event' : 'a line'} that is not JSON`,
        {
          status: 200,
          body: text,
        },
      );
    }
    if (errorField && (data as { error?: unknown }).error !== undefined) {
      throw this.fail('stream-broken', path, 'reported an error inside its stream', { body: text });
    }
    return data as Record<string, unknown>;
  }

  /** A coded error for a failure the provider detected itself (a malformed answer, a cut stream). */
  fail(
    reason: UpstreamReason,
    path: string,
    problem: string,
    extra: { status?: number; body?: string; retryable?: boolean } = {},
    cause?: unknown,
  ): JameyError {
    let retryable = extra.retryable;
    if (retryable === undefined) {
      retryable = reason === 'status' && extra.status !== undefined ? isRetryableStatus(extra.status) : true;
    }
    const details: UpstreamFailure = {
      provider: this.provider,
      url: this.#origin + path,
      reason,
      ...(extra.status === undefined ? {} : { status: extra.status }),
      // Redacted before the cut, so that a key straddling the cut cannot leave half of itself behind.
      ...(extra.body === undefined ? {} : { body: this.redact(extra.body).slice(0, BODY_EXCERPT) }),
      retryable,
    };
    return new JameyError(
      reason === 'timeout' ? 'JAMEY_ERR_UPSTREAM_TIMEOUT' : 'JAMEY_ERR_UPSTREAM',
      `LLM provider ${this.provider} ${this.redact(problem)}`,
      cause === undefined ? { details } : { cause, details },
    );
  }

  /** A non-2xx answer. */
  statusError(path: string, status: number, body: string): JameyError {
    return this.fail('status', path, `answered ${status}`, { status, body });
  }

  /**
   * Maps anything thrown while talking to the service: the caller's abort wins, then undici's timeouts;
   * other transport failures get `otherwise` ('network' before the answer, 'stream-broken' inside one).
   */
  mapError(
    err: unknown,
    path: string,
    signal: AbortSignal | undefined,
    otherwise: 'network' | 'stream-broken',
  ): JameyError {
    if (signal?.aborted) return abortedError(signal);
    if (err instanceof JameyError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const message = err instanceof Error ? err.message : String(err);
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      const ms =
        code === 'UND_ERR_CONNECT_TIMEOUT'
          ? this.connectTimeoutMs
          : code === 'UND_ERR_HEADERS_TIMEOUT'
            ? this.headersTimeoutMs
            : this.bodyTimeoutMs;
      return this.fail('timeout', path, `did not answer within ${ms} ms (${code})`, {}, err);
    }
    if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return this.closedError(path);
    const problem = otherwise === 'network' ? 'is unreachable' : 'broke off its answer';
    return this.fail(otherwise, path, `${problem}: ${message}`, {}, err);
  }

  /** A stream that ended without its terminal event. */
  brokenStream(path: string): JameyError {
    return this.fail('stream-broken', path, 'ended its stream before the final event');
  }

  /** Replaces the API key wherever upstream text might have echoed it. */
  redact(text: string): string {
    const key = this.#apiKey;
    return key !== undefined && text.includes(key) ? text.replaceAll(key, REDACTED) : text;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Lets in-flight requests finish, then closes the connections; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.close();
    return this.#closing;
  }

  closedError(path: string): JameyError {
    return this.fail('network', path, 'is closed', { retryable: false });
  }

  async #send(
    path: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> {
    if (signal?.aborted) throw abortedError(signal);
    if (this.#closing !== undefined) throw this.closedError(path);
    try {
      return await this.#pool.request({
        path,
        method: 'POST',
        headers,
        body,
        signal: signal ?? null,
      });
    } catch (err) {
      throw this.mapError(err, path, signal, 'network');
    }
  }
}

export function abortedError(signal: AbortSignal): JameyError {
  return new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
}
