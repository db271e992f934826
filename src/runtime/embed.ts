/**
 * Runs a runtime inside a worker thread and hands the host a typed proxy (comlink over
 * `worker_threads`), so the host application's event loop is untouched by the runtime's work.
 *
 * Actors are code, and code does not cross threads: the worker imports a setup module (its URL or
 * path is given) whose exported `setup(runtime)` registers the actors. Errors cross the boundary as
 * data (`{ ok: false, code, message }`) and the proxy rethrows them as `JameyError`s with their codes.
 */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.js';
import { fromErrorData, JameyError } from './errors.js';
import type { Priority } from './mailbox.js';
import type { RuntimeOptionsInput } from './options.js';
import type { Health } from './runtime.js';
import type { TaskResult } from './worker-task.js';

export interface EmbedOptions {
  /** URL (file:) or absolute path of a module exporting `setup(runtime): void | Promise<void>`. */
  setup: string | URL;
  /** Options for the runtime in the worker. */
  options?: RuntimeOptionsInput;
  /** Name of the exported setup function. @default 'setup' */
  exportName?: string;
}

export interface RemoteAskOptions {
  priority?: Priority;
  deadlineMs?: number;
}

/** What the worker exposes; every result is data so that codes survive the thread boundary. */
export interface EmbeddedApi {
  tell(actor: string, message: unknown, priority?: Priority): Promise<TaskResult<boolean>>;
  ask(actor: string, message: unknown, options?: RemoteAskOptions): Promise<TaskResult<unknown>>;
  health(): Promise<Health>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/** The host's handle on a runtime running in a worker thread. */
export interface EmbeddedRuntime {
  tell(actor: string, message: unknown, priority?: Priority): Promise<boolean>;
  ask<R = unknown>(actor: string, message: unknown, options?: RemoteAskOptions): Promise<R>;
  health(): Promise<Health>;
  metrics(): Promise<string>;
  /** Closes the runtime gracefully, then ends the worker. Idempotent. */
  close(): Promise<void>;
  readonly worker: Worker;
}

/** A worker's result as a value, or its coded error rebuilt and thrown. */
export function unwrap<T>(result: TaskResult<T>): T {
  if (result.ok) return result.value;
  throw fromErrorData(result);
}

/**
 * Resolves when a worker that runs a runtime says `jamey:ready`; rejects with its coded error on
 * `jamey:failed`, or with JAMEY_ERR_WORKER_CRASHED if it dies first. `what` names it in messages.
 */
export function workerStarted(worker: Worker, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const msg = m as { type?: string; error?: { code?: unknown; message?: unknown } };
      if (msg?.type === 'jamey:ready') {
        cleanup();
        resolve();
      } else if (msg?.type === 'jamey:failed') {
        cleanup();
        reject(fromErrorData(msg.error ?? {}));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(
        new JameyError('JAMEY_ERR_WORKER_CRASHED', `${what} failed to start: ${err.message}`, {
          cause: err,
        }),
      );
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new JameyError('JAMEY_ERR_WORKER_CRASHED', `${what} exited during start (code ${code})`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

export async function createRuntimeInWorker(options: EmbedOptions): Promise<EmbeddedRuntime> {
  const setup = options.setup instanceof URL ? options.setup.href : options.setup;
  const worker = new Worker(new URL('./embed-worker.js', import.meta.url), {
    workerData: { setup, exportName: options.exportName ?? 'setup', options: options.options ?? {} },
  });
  const started = workerStarted(worker, 'embedded runtime');
  try {
    await started;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const remote = Comlink.wrap<EmbeddedApi>(nodeEndpoint(worker));
  let closing: Promise<void> | undefined;
  return {
    worker,
    tell: async (actor, message, priority) => unwrap(await remote.tell(actor, message, priority)),
    ask: async <R>(actor: string, message: unknown, opts?: RemoteAskOptions) =>
      unwrap(await remote.ask(actor, message, opts)) as R,
    health: () => remote.health(),
    metrics: () => remote.metrics(),
    close() {
      closing ??= (async () => {
        try {
          await remote.close();
        } finally {
          remote[Comlink.releaseProxy]();
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}
