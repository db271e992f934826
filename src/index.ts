/** Public API of the `jamey` package. */
export { buildServer, type JameyServer, type ServerOptions } from './http/server.js';
export { createJamey, DATABASE_FILE, type Jamey, type JameyOptions } from './jamey.js';
export {
  type ChatCaller,
  type ChatCompletion,
  createJameyInWorker,
  type JameyWorker,
  type JameyWorkerOptions,
  type WorkerJameyOptions,
} from './jamey-worker.js';
export * from './runtime/index.js';
