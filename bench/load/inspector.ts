/**
 * A minimal client of the V8 inspector protocol (Chrome DevTools Protocol over a WebSocket) for a
 * process started with `--inspect=127.0.0.1:0`: enough to write heap snapshots of it, to compare in
 * the DevTools Memory panel (its "Comparison" view lists what was allocated between two and kept).
 */
import { createWriteStream } from 'node:fs';
import { WebSocket } from 'undici';

/** The address a process prints on stderr when its inspector listens. */
export const INSPECTOR_URL = /Debugger listening on (ws:\/\/\S+)/;

interface Reply {
  id?: number;
  method?: string;
  params?: { chunk?: string };
  result?: unknown;
  error?: { message: string };
}

export class Inspector {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  #next = 0;
  #onChunk: ((chunk: string) => void) | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (e) => this.#receive(JSON.parse(String(e.data)) as Reply));
    ws.addEventListener('close', () => this.#failAll(new Error('inspector connection closed')));
  }

  static async connect(url: string): Promise<Inspector> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${url}`)), {
        once: true,
      });
    });
    return new Inspector(ws);
  }

  #receive(m: Reply): void {
    if (m.method === 'HeapProfiler.addHeapSnapshotChunk' && m.params?.chunk !== undefined) {
      this.#onChunk?.(m.params.chunk);
      return;
    }
    if (m.id === undefined) return;
    const w = this.#waiting.get(m.id);
    if (w === undefined) return;
    this.#waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(m.error.message));
    else w.resolve(m.result);
  }

  #failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Writes a heap snapshot (`.heapsnapshot`, loadable in Chrome DevTools) to `file`. */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.#onChunk = (chunk) => out.write(chunk);
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.#onChunk = null;
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
  }

  close(): void {
    this.#ws.close();
  }
}
