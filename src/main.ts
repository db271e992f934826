#!/usr/bin/env node
/**
 * `jamey` service entry: reads options from the environment (JAMEY_HOST, JAMEY_PORT,
 * JAMEY_DATA_DIR, JAMEY_LOG_LEVEL) and the config file (jamey.config.json or JAMEY_CONFIG: LLM
 * providers, routing, budgets), starts the runtime with its subsystems (jamey.ts) and the HTTP
 * server, and shuts down
 * gracefully on SIGTERM/SIGINT (stop accepting, drain mailboxes, finish pool tasks).
 */
import { loadConfigFile } from './config-file.js';
import { createJamey, type Jamey } from './jamey.js';
import { isJameyError } from './runtime/errors.js';
import { optionsFromEnv } from './runtime/options.js';

async function main(): Promise<void> {
  let jamey: Jamey;
  try {
    jamey = createJamey(optionsFromEnv(process.env), loadConfigFile(process.env));
  } catch (err) {
    process.stderr.write(`jamey: ${isJameyError(err) ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const runtime = jamey.runtime;
  const { host, port, dataDir } = runtime.options;
  try {
    await jamey.start();
  } catch (err) {
    process.stderr.write(`jamey: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const admin = jamey.adminKey;
  if (admin !== undefined) {
    // Shown once, on the first start only; the file is the only other copy (mode 0600).
    process.stdout.write(
      `\nAdmin API key (shown once; also in ${admin.file}, mode 0600):\n  ${admin.token}\n\n`,
    );
  }
  const server = jamey.server();
  server.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`jamey: cannot listen on ${host}:${port}: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address.port : port;
    runtime.log.info('listening', { url: `http://${host}:${bound}`, dataDir });
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    runtime.log.info('shutting down', { signal });
    const hard = setTimeout(() => {
      runtime.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, runtime.options.shutdownTimeoutMs + 5_000);
    hard.unref();
    await server.shutdown();
    await jamey.close();
    runtime.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`jamey: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
