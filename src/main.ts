#!/usr/bin/env node
/**
 * `jamey` service entry: reads options from the environment (JAMEY_HOST, JAMEY_PORT,
 * JAMEY_DATA_DIR, JAMEY_LOG_LEVEL) and the config file (jamey.config.json or JAMEY_CONFIG: LLM
 * providers, routing, budgets), starts the runtime with its subsystems (jamey.ts) and the HTTP
 * server, and shuts down
 * gracefully on SIGTERM/SIGINT (stop accepting, drain mailboxes, finish pool tasks).
 *
 * As a sidecar it serves on a Unix domain socket instead of TCP (`--socket PATH` or JAMEY_SOCKET):
 * the socket file is only reachable by its owner (mode 0600), a stale one left by a crash is
 * replaced, and it is removed on shutdown.
 */
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { loadServiceConfig } from './config-file.js';
import { createJamey, type Jamey } from './jamey.js';
import { isJameyError } from './runtime/errors.js';
import type { RuntimeOptionsInput } from './runtime/options.js';

const USAGE =
  'usage: jamey serve [--config FILE] [--host HOST] [--port N] [--data-dir DIR] [--log-level LEVEL] [--socket PATH]';

interface ServeArgs {
  socket: string | undefined;
  config: string | undefined;
  /** Runtime options from flags (they win over the file and the environment). */
  flags: RuntimeOptionsInput;
}

/** The command line of `jamey serve`; exits 2 on wrong usage. */
function serveArgs(): ServeArgs {
  let parsed: { values: Record<string, string | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        socket: { type: 'string' },
        config: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
      },
      allowPositionals: true,
    }) as typeof parsed;
  } catch (err) {
    process.stderr.write(`jamey: ${err instanceof Error ? err.message : String(err)}; ${USAGE}\n`);
    process.exit(2);
  }
  // `jamey serve` reaches here with its command still in argv.
  const extra = parsed.positionals.filter((p, i) => !(i === 0 && p === 'serve'));
  if (extra.length > 0) {
    process.stderr.write(`jamey: unexpected argument "${extra[0]}"; ${USAGE}\n`);
    process.exit(2);
  }
  const v = parsed.values;
  const flags: Record<string, unknown> = {};
  if (v['host'] !== undefined) flags['host'] = v['host'];
  if (v['port'] !== undefined) flags['port'] = /^\d+$/.test(v['port']) ? Number(v['port']) : v['port'];
  if (v['data-dir'] !== undefined) flags['dataDir'] = v['data-dir'];
  if (v['log-level'] !== undefined) flags['logLevel'] = v['log-level'];
  const path = v['socket'] ?? process.env['JAMEY_SOCKET'];
  return {
    socket: path === undefined || path === '' ? undefined : path,
    config: v['config'],
    flags: flags as RuntimeOptionsInput,
  };
}

/**
 * Clears the way for a new socket at `path`: a socket file nobody answers on is left over from a
 * crash and is removed; a live one, or a file that is not a socket, is never touched.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket`);
  const answered = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw new Error(`another process is serving on ${path}`);
  rmSync(path, { force: true });
}

async function main(): Promise<void> {
  const args = serveArgs();
  const socket = args.socket;
  if (socket !== undefined) {
    try {
      await clearStaleSocket(socket);
    } catch (err) {
      process.stderr.write(
        `jamey: cannot listen on ${socket}: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exit(1);
    }
  }
  let jamey: Jamey;
  try {
    const config = loadServiceConfig(process.env, process.cwd(), args.flags, args.config);
    jamey = createJamey(config.runtime, config.jamey);
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
  const where = socket ?? `${host}:${port}`;
  server.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`jamey: cannot listen on ${where}: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  if (socket === undefined) {
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      runtime.log.info('listening', { url: `http://${host}:${bound}`, dataDir });
    });
  } else {
    // The umask closes the window between bind and chmod in which others could connect.
    const umask = process.umask(0o177);
    try {
      server.listen(socket, () => {
        chmodSync(socket, 0o600);
        runtime.log.info('listening', { socket, dataDir });
      });
    } finally {
      process.umask(umask);
    }
  }

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
    if (socket !== undefined) rmSync(socket, { force: true });
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
