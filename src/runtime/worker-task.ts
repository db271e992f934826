/**
 * The worker side of the pool contract. An `Error` subclass loses its class and `code` through
 * `postMessage`, so a task never throws across the thread boundary: it returns
 * `{ ok: true, value }` or `{ ok: false, code, message, details }` and the host rebuilds the
 * `JameyError` (after piscina `src/worker.ts`). Usable in any module loaded into a worker.
 */
import { type ErrorCode, isErrorCode } from './errors.js';
import { yieldToEventLoop } from './thread-priority.js';

// Every pool task module imports this one: the pool's threads give way to the event loop.
yieldToEventLoop('pool');

export type TaskResult<T> =
  | { ok: true; value: T }
  | { ok: false; code: ErrorCode; message: string; details?: unknown };

/** Wraps a task function so that what it throws comes back as data. */
export function defineTask<P, T>(fn: (payload: P) => T | Promise<T>): (payload: P) => Promise<TaskResult<T>> {
  return async (payload: P): Promise<TaskResult<T>> => {
    try {
      return { ok: true, value: await fn(payload) };
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown; details?: unknown };
      const result: TaskResult<T> = {
        ok: false,
        code: isErrorCode(e?.code) ? e.code : 'JAMEY_ERR_TASK_FAILED',
        message: typeof e?.message === 'string' ? e.message : String(err),
      };
      if (e?.details !== undefined) result.details = e.details;
      return result;
    }
  };
}
