/**
 * Coded errors: one `JameyError` class whose `code` is stable and documented in docs/errors.md.
 * Callers match `err.code`, never the class or the message. Each code maps to the HTTP status the
 * front end answers with. (Pattern after undici `lib/core/errors.js` and fastify `lib/errors.js`.)
 *
 * A test keeps this table, the HTTP mapping and docs/errors.md in step: adding a code means adding
 * a row here and a section in the doc.
 */

interface CodeInfo {
  readonly status: number;
  readonly message: string;
}

export const ERROR_CODES = {
  JAMEY_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  JAMEY_ERR_INVALID_OPTION: { status: 500, message: 'Invalid option' },
  JAMEY_ERR_VALIDATION: { status: 400, message: 'Invalid input' },
  JAMEY_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  JAMEY_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  JAMEY_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'Request body too large' },
  JAMEY_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported media type' },
  JAMEY_ERR_MAILBOX_FULL: { status: 503, message: 'Actor mailbox is full' },
  JAMEY_ERR_ACTOR_STOPPED: { status: 503, message: 'Actor is not running' },
  JAMEY_ERR_ACTOR_NOT_FOUND: { status: 500, message: 'No actor with that name' },
  JAMEY_ERR_ACTOR_CRASHED: { status: 500, message: 'Actor crashed while handling the message' },
  JAMEY_ERR_DEADLINE_EXCEEDED: { status: 504, message: 'Deadline exceeded' },
  JAMEY_ERR_ABORTED: { status: 499, message: 'Aborted by the caller' },
  JAMEY_ERR_SHUTTING_DOWN: { status: 503, message: 'Runtime is shutting down' },
  JAMEY_ERR_ESCALATED: { status: 503, message: 'Supervisor gave up restarting a child and escalated' },
  JAMEY_ERR_NOT_READY: { status: 503, message: 'Runtime is not ready' },
  JAMEY_ERR_POOL_SATURATED: { status: 503, message: 'Worker pool queue is full' },
  JAMEY_ERR_WORKER_CRASHED: { status: 500, message: 'Worker thread failed while running the task' },
  JAMEY_ERR_TASK_FAILED: { status: 500, message: 'Worker task failed' },
  JAMEY_ERR_STATE_UNREACHABLE: { status: 422, message: 'State cannot be reached under the given TPM' },
  JAMEY_ERR_CONFLICT: { status: 409, message: 'Conflicts with stored data' },
  JAMEY_ERR_UPSTREAM: { status: 502, message: 'An upstream service failed' },
  JAMEY_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'An upstream service did not answer in time' },
  JAMEY_ERR_STORAGE_FULL: { status: 507, message: 'The disk is full' },
  JAMEY_ERR_STORE_FAILED: { status: 500, message: 'The database failed' },
  JAMEY_ERR_STORE_VERSION: { status: 500, message: 'The database was written by a newer version' },
  JAMEY_ERR_UNAUTHENTICATED: { status: 401, message: 'Missing or invalid API key' },
  JAMEY_ERR_FORBIDDEN: { status: 403, message: 'The API key lacks the scope for this request' },
  JAMEY_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  JAMEY_ERR_BANNED: { status: 429, message: 'The client address is temporarily banned' },
  JAMEY_ERR_OVERLOADED: { status: 503, message: 'The server is overloaded' },
  JAMEY_ERR_BUDGET_EXCEEDED: { status: 402, message: 'The spending budget for this key is used up' },
  JAMEY_ERR_NO_MODEL: { status: 503, message: 'No model can serve this request' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The wire form of an error: what workers post back and what the HTTP layer sends. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class JameyError extends Error {
  override readonly name = 'JameyError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown }) {
    const info = ERROR_CODES[code];
    super(message ?? info.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = info.status;
    this.details = options?.details;
  }

  toJSON(): ErrorData {
    const data: ErrorData = { code: this.code, message: this.message };
    if (this.details !== undefined) data.details = this.details;
    return data;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function isJameyError(err: unknown, code?: ErrorCode): err is JameyError {
  return err instanceof JameyError && (code === undefined || err.code === code);
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** Turns anything thrown into a JameyError; unknown errors become JAMEY_ERR_INTERNAL with the cause kept. */
export function toJameyError(err: unknown, fallback: ErrorCode = 'JAMEY_ERR_INTERNAL'): JameyError {
  if (err instanceof JameyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new JameyError(fallback, message, { cause: err });
}

/** Rebuilds an error that crossed a thread or process boundary as data (errors lose their class there). */
export function fromErrorData(data: { code?: unknown; message?: unknown; details?: unknown }): JameyError {
  const code = isErrorCode(data.code) ? data.code : 'JAMEY_ERR_INTERNAL';
  const message = typeof data.message === 'string' ? data.message : undefined;
  return new JameyError(code, message, data.details === undefined ? undefined : { details: data.details });
}
