/**
 * Worker-thread entry of `createRuntimeInWorker`: builds a runtime, lets the setup module register
 * its actors, starts it, and exposes it over comlink.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlink-node.js';
import type { EmbeddedApi, RemoteAskOptions } from './embed.js';
import { toJameyError } from './errors.js';
import type { Priority } from './mailbox.js';
import type { RuntimeOptionsInput } from './options.js';
import { createRuntime, type Runtime } from './runtime.js';
import { defineTask } from './worker-task.js';

interface EmbedWorkerData {
  setup: string;
  exportName: string;
  options: RuntimeOptionsInput;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('embed-worker must run in a worker thread');
  const data = workerData as EmbedWorkerData;
  let runtime: Runtime;
  try {
    runtime = createRuntime(data.options);
    const specifier = data.setup.startsWith('file:') ? data.setup : new URL(`file://${data.setup}`).href;
    const mod = (await import(specifier)) as Record<string, unknown>;
    const setup = mod[data.exportName];
    if (typeof setup !== 'function') {
      throw new Error(`setup module ${data.setup} does not export a function "${data.exportName}"`);
    }
    await (setup as (r: Runtime) => unknown)(runtime);
    await runtime.start();
  } catch (err) {
    const e = toJameyError(err);
    port.postMessage({ type: 'jamey:failed', error: { code: e.code, message: e.message } });
    return;
  }
  const tell = defineTask(
    ({ actor, message, priority }: { actor: string; message: unknown; priority?: Priority }) =>
      runtime.actor(actor).tell(message, priority === undefined ? undefined : { priority }),
  );
  const ask = defineTask(
    ({ actor, message, options }: { actor: string; message: unknown; options?: RemoteAskOptions }) =>
      runtime.actor(actor).ask(message, options),
  );
  const api: EmbeddedApi = {
    tell: (actor, message, priority) =>
      tell(priority === undefined ? { actor, message } : { actor, message, priority }),
    ask: (actor, message, options) =>
      ask(options === undefined ? { actor, message } : { actor, message, options }),
    health: async () => runtime.health(),
    metrics: () => runtime.metrics.render(),
    close: () => runtime.close(),
  };
  Comlink.expose(api, nodeEndpoint(port));
  port.postMessage({ type: 'jamey:ready' });
}

void main();
