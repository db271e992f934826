/**
 * Shared HTTP plumbing for remote embedding services (OpenAI-compatible and Ollama): one undici Pool per
 * client with keep-alive and timeouts, batching, response validation and coded errors.
 *
 * Errors: bad input is JAMEY_ERR_VALIDATION; an aborted caller signal is JAMEY_ERR_ABORTED; everything
 * that goes wrong upstream (connection refused, timeout, non-2xx status, malformed body, wrong vector
 * length) is JAMEY_ERR_UPSTREAM (a timeout: JAMEY_ERR_UPSTREAM_TIMEOUT) with `details` =
 * { provider, url, status?, reason, body? }.
 */
import { Pool } from 'undici';
import { JameyError } from '../../../runtime/errors.js';
import type { EmbeddingProvider } from './provider.js';
import { l2Normalise } from './provider.js';

export interface RemoteEmbedderOptions {
  /** Service address, e.g. "http://127.0.0.1:11434" or "https://api.openai.com/v1". */
  readonly baseUrl: string;
  readonly model: string;
  /** Length of the vectors the model returns; responses of another length are rejected. */
  readonly dimensions: number;
  /** Deadline for one HTTP request (connect, headers and body), in ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** Texts per request. Default 64. */
  readonly batchSize?: number;
  /** Pool connections. Default 4. */
  readonly connections?: number;
  /** Idle keep-alive of pooled connections, in ms. Default 30 000. */
  readonly keepAliveMs?: number;
  /** Provider id stored with vectors. Default "<kind>:<model>". */
  readonly id?: string;
}

export interface UpstreamErrorDetails {
  readonly provider: string;
  readonly url: string;
  readonly reason: 'status' | 'timeout' | 'network' | 'bad-response';
  readonly status?: number;
  readonly body?: string;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new JameyError('JAMEY_ERR_INVALID_OPTION', `${name} must be a positive integer`, {
      details: { [name]: value },
    });
  }
  return v;
}

export abstract class RemoteEmbedder implements EmbeddingProvider {
  readonly id: string;
  readonly dimensions: number;
  readonly model: string;
  readonly timeoutMs: number;
  readonly batchSize: number;
  protected readonly origin: string;
  protected readonly path: string;
  #pool: Pool;

  protected constructor(kind: string, path: string, options: RemoteEmbedderOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch (err) {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'baseUrl must be an absolute http(s) URL', {
        cause: err,
        details: { baseUrl: options.baseUrl },
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'baseUrl must use http or https', {
        details: { baseUrl: options.baseUrl },
      });
    }
    if (typeof options.model !== 'string' || options.model.length === 0) {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'model must be a non-empty string');
    }
    this.dimensions = positiveInt('dimensions', options.dimensions, 0);
    this.timeoutMs = positiveInt('timeoutMs', options.timeoutMs, 30_000);
    this.batchSize = positiveInt('batchSize', options.batchSize, 64);
    const keepAlive = positiveInt('keepAliveMs', options.keepAliveMs, 30_000);
    this.model = options.model;
    this.id = options.id ?? `${kind}:${options.model}`;
    this.origin = url.origin;
    this.path = url.pathname.replace(/\/+$/, '') + path;
    this.#pool = new Pool(url.origin, {
      connections: positiveInt('connections', options.connections, 4),
      keepAliveTimeout: keepAlive,
      keepAliveMaxTimeout: keepAlive,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { timeout: this.timeoutMs },
    });
  }

  protected abstract requestBody(texts: string[]): unknown;
  /** Extracts one vector per input text, in input order, from a parsed response body. */
  protected abstract parseVectors(body: unknown, expected: number): unknown[] | undefined;
  protected headers(): Record<string, string> {
    return {};
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'texts must be an array of strings');
    }
    const out = new Array<Float32Array>(texts.length);
    // Services reject empty input; an empty text embeds to the zero vector, as with the built-in embedder.
    const todo: number[] = [];
    texts.forEach((t, i) => {
      if (t.trim().length === 0) out[i] = new Float32Array(this.dimensions);
      else todo.push(i);
    });
    for (let start = 0; start < todo.length; start += this.batchSize) {
      const idx = todo.slice(start, start + this.batchSize);
      const vectors = await this.#post(
        idx.map((i) => texts[i]!),
        signal,
      );
      idx.forEach((i, j) => {
        out[i] = vectors[j]!;
      });
    }
    return out;
  }

  /** Closes pooled connections; later calls fail. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  #fail(
    reason: UpstreamErrorDetails['reason'],
    message: string,
    extra: Partial<UpstreamErrorDetails> = {},
    cause?: unknown,
  ) {
    const details: UpstreamErrorDetails = {
      provider: this.id,
      url: this.origin + this.path,
      reason,
      ...extra,
    };
    return new JameyError(
      reason === 'timeout' ? 'JAMEY_ERR_UPSTREAM_TIMEOUT' : 'JAMEY_ERR_UPSTREAM',
      message,
      cause === undefined ? { details } : { cause, details },
    );
  }

  async #post(batch: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    if (signal?.aborted) throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
    let status: number;
    let text: string;
    try {
      const res = await this.#pool.request({
        path: this.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...this.headers() },
        body: JSON.stringify(this.requestBody(batch)),
        signal: combined,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal?.aborted) throw new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason });
      const code = (err as { code?: unknown }).code;
      if (deadline.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
        throw this.#fail('timeout', `Embedding service did not answer within ${this.timeoutMs} ms`, {}, err);
      }
      throw this.#fail('network', `Embedding service unreachable: ${(err as Error).message}`, {}, err);
    }
    if (status < 200 || status >= 300) {
      throw this.#fail('status', `Embedding service answered ${status}`, {
        status,
        body: text.slice(0, 500),
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw this.#fail(
        'bad-response',
        'Embedding service sent invalid JSON',
        { status, body: text.slice(0, 500) },
        err,
      );
    }
    const rows = this.parseVectors(parsed, batch.length);
    if (rows === undefined || rows.length !== batch.length) {
      throw this.#fail('bad-response', `Expected ${batch.length} embeddings in the response`, { status });
    }
    return rows.map((row) => {
      if (!Array.isArray(row) || row.length !== this.dimensions || !row.every((x) => Number.isFinite(x))) {
        throw this.#fail('bad-response', `Expected embeddings of ${this.dimensions} finite numbers`, {
          status,
        });
      }
      return l2Normalise(Float32Array.from(row as number[]));
    });
  }
}
