/** Public API of the `jamey` package. */
export { buildServer, type JameyServer } from './http/server.js';
export * from './runtime/index.js';
