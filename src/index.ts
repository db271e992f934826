/**
 * Public API of the `jamey` package.
 *
 * `createRuntime` starts the whole Jamey runtime in-process (the same as `createJamey`: every
 * subsystem, the same defaults as the service) and `createRuntimeInWorker` the same in a worker
 * thread behind a typed proxy. The bare actor kernel underneath is `createKernel` /
 * `createKernelInWorker` (actors of your own, no AI subsystems).
 */
export { buildServer, type JameyServer, type ServerOptions } from './http/server.js';
export {
  createJamey,
  createJamey as createRuntime,
  DATABASE_FILE,
  type Jamey,
  type JameyOptions,
} from './jamey.js';
export {
  type ChatCaller,
  type ChatCompletion,
  createJameyInWorker,
  createJameyInWorker as createRuntimeInWorker,
  type JameyWorker,
  type JameyWorkerOptions,
  type WorkerJameyOptions,
} from './jamey-worker.js';
export { createRuntimeInWorker as createKernelInWorker } from './runtime/embed.js';
export * from './runtime/index.js';
export { createRuntime as createKernel } from './runtime/runtime.js';
