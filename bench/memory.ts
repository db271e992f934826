/**
 * Store and memory benchmarks:
 * 1. acknowledged writes/s through the store actor (many writers, group commit) against a raw
 *    better-sqlite3 loop inserting the same rows in 1000-row transactions, same run; goal ≥ 70 %;
 * 2. recall latency p50/p99 at 10 000 and 100 000 memories, with the longest event-loop block seen
 *    during the recalls; goal p99 < 20 ms at 100 000 and no block over 5 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { BuiltinEmbedder } from '../src/actors/memory/embedding/builtin.js';
import { loadWordVectors } from '../src/actors/memory/embedding/word-vectors.js';
import { MemoryClient, type MemoryMessage, memoryActorSpec } from '../src/actors/memory/memory.js';
import { type InsertArgs, memoryWriters } from '../src/actors/memory/repository.js';
import { openWriterConnection, Store } from '../src/actors/store/store.js';
import { systemClock } from '../src/runtime/clock.js';
import { defaultOptions } from '../src/runtime/options.js';
import { TaskPool } from '../src/runtime/pool.js';
import { ActorSystem, systemOptions } from '../src/runtime/system.js';
import { compareRounds, median, type Row } from './lib.js';

function newSystem(): ActorSystem {
  return new ActorSystem(
    systemOptions({
      mailbox: { capacity: 20_000, overflow: 'reject' },
      askDeadlineMs: 60_000,
      shutdownTimeoutMs: 30_000,
    }),
  );
}

/**
 * A seeded generator of English-like text: 8 to 20 words drawn from the word-vector vocabulary
 * (ordered by corpus frequency) with Zipf's law (p ∝ 1/rank), so common words are common and
 * posting lists have realistic lengths.
 */
export function corpus(seed: number): () => string {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const words = loadWordVectors()
    .words.filter((w) => /^[a-z]+$/.test(w))
    .slice(0, 50_000);
  const n = words.length;
  const h = Math.log(n);
  return () => {
    const len = 8 + Math.floor(rnd() * 13);
    const out: string[] = [];
    for (let i = 0; i < len; i++) {
      // Inverse of the harmonic CDF, approximately: rank ≈ exp(u · H_n).
      const rank = Math.min(n - 1, Math.floor(Math.exp(rnd() * h)) - 1);
      out.push(words[Math.max(0, rank)] as string);
    }
    return `${out.join(' ')}.`;
  };
}

function row(i: number, text: string, embedding: Float32Array | null): InsertArgs {
  return {
    id: `mem_b${i}_${Math.random().toString(36).slice(2, 10)}`,
    layer: 'long-term',
    entityId: `user-${i % 20}`,
    content: text,
    contentHash: `h${i}_${Math.random()}`,
    embedding,
    embeddingModel: embedding === null ? null : 'bench',
    salience: 0.5,
    provider: null,
    preferredModel: null,
    source: 'bench',
    metadata: null,
    createdAt: Date.now(),
    expiresAt: null,
  };
}

export async function storeWrites(time?: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'jamey-bench-'));
  const next = corpus(7);
  const embedding = new Float32Array(356).fill(0.05);
  const BATCH = 1000;
  try {
    // Raw baseline: the same rows, one prepared statement, 1000-row transactions.
    const raw = openWriterConnection(join(dir, 'raw.db'));
    const insert = memoryWriters(raw)['insert'] as (a: unknown, now: number) => unknown;
    const rawBatch = raw.transaction((rows: InsertArgs[]) => {
      for (const r of rows) insert(r, 0);
    });
    let i = 0;
    const store = new Store({
      file: join(dir, 'store.db'),
      maintenanceIntervalMs: 0,
      writers: { memory: memoryWriters },
    });
    // The service's store: the same writes on the store's own writer thread.
    const repository = new URL('../src/actors/memory/repository.js', import.meta.url).href;
    const threaded = new Store({
      file: join(dir, 'threaded.db'),
      maintenanceIntervalMs: 0,
      thread: { writers: { memory: { module: repository, export: 'memoryWriters' } } },
    });
    const system = newSystem();
    store.register(system);
    await system.start();
    const threadSystem = newSystem();
    threaded.register(threadSystem);
    await threadSystem.start();
    const { ops, ratio } = await compareRounds(
      {
        'raw better-sqlite3': () => {
          const rows = new Array<InsertArgs>(BATCH);
          for (let k = 0; k < BATCH; k++) rows[k] = row(i++, next(), embedding);
          rawBatch(rows);
        },
        'store actor': async () => {
          const ps = new Array<Promise<unknown>>(BATCH);
          for (let k = 0; k < BATCH; k++) ps[k] = store.write('memory.insert', row(i++, next(), embedding));
          await Promise.all(ps);
        },
        'store actor, writer thread': async () => {
          const ps = new Array<Promise<unknown>>(BATCH);
          for (let k = 0; k < BATCH; k++)
            ps[k] = threaded.write('memory.insert', row(i++, next(), embedding));
          await Promise.all(ps);
        },
      },
      'store actor',
      'raw better-sqlite3',
      { rounds: 5, ...(time === undefined ? {} : { time }) },
    );
    raw.close();
    await system.close();
    await threadSystem.close();
    const value = (ops['store actor'] ?? 0) * BATCH;
    const baseline = (ops['raw better-sqlite3'] ?? 0) * BATCH;
    const threadValue = (ops['store actor, writer thread'] ?? 0) * BATCH;
    const threadRatio = baseline > 0 ? threadValue / baseline : 0;
    return [
      {
        suite: 'store',
        name: 'acknowledged writes/s through the writer thread (as the service runs it; same rows)',
        value: threadValue,
        unit: 'writes/s',
        baseline,
        baselineName: 'raw better-sqlite3, 1000-row transactions',
        ratio: threadRatio,
        goal: '≥ 0.70 of raw',
        met: threadRatio >= 0.7,
      },
      {
        suite: 'store',
        name: 'acknowledged writes/s on the event loop (memory rows with FTS5 and a 356-d vector)',
        value,
        unit: 'writes/s',
        baseline,
        baselineName: 'raw better-sqlite3, 1000-row transactions',
        ratio,
        goal: '≥ 0.70 of raw',
        met: ratio >= 0.7,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `PerformanceEntry.detail.kind` of a GC entry (perf_hooks.constants.NODE_PERFORMANCE_GC_*). */
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

async function recallAt(
  size: number,
  queries: number,
): Promise<{
  p50: number;
  p99: number;
  maxBlockMs: number;
  p99BlockMs: number;
  maxGcMs: number;
  maxGcKind: string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'jamey-bench-'));
  const file = join(dir, 'recall.db');
  const embedder = new BuiltinEmbedder();
  const next = corpus(11);
  try {
    // Fill the file directly (what is measured is recall, not loading).
    const db = openWriterConnection(file);
    const insert = memoryWriters(db)['insert'] as (a: unknown, now: number) => unknown;
    const CHUNK = 5000;
    for (let start = 0; start < size; start += CHUNK) {
      const texts = Array.from({ length: Math.min(CHUNK, size - start) }, () => next());
      const vectors = await embedder.embed(texts);
      db.transaction(() => {
        texts.forEach((t, k) => {
          const r = row(start + k, t, vectors[k] as Float32Array);
          r.embeddingModel = embedder.id;
          insert(r, 0);
        });
      })();
    }
    db.close();
    const pool = new TaskPool({ ...defaultOptions().pool, maxThreads: 2 }, systemClock);
    // The store as the service runs it: the writer (the recalls' rehearsal writes) on its thread.
    const store = new Store({
      file,
      maintenanceIntervalMs: 0,
      thread: {
        writers: {
          memory: {
            module: new URL('../src/actors/memory/repository.js', import.meta.url).href,
            export: 'memoryWriters',
          },
        },
      },
    });
    const system = newSystem();
    store.register(system);
    const ref = system.spawn<MemoryMessage, unknown>(
      memoryActorSpec({ store, embedder, pool, clock: systemClock }),
    );
    await system.start();
    const memory = new MemoryClient(ref);
    const qs = Array.from({ length: queries }, () => next().split(' ').slice(0, 8).join(' '));
    // Let the collector clear what filling the database left behind, as a service that has been
    // up for a while would have, before measuring.
    await new Promise((r) => setTimeout(r, 2000));
    // Warm-up: every pool thread opens its read connection and loads its task modules once.
    for (const q of qs.slice(0, 60))
      await memory.recall({ query: q, entityId: `user-${q.length % 20}`, limit: 5 });
    // The longest gap between ticks of a 1 ms interval timer: how long the event loop was held.
    let last = performance.now();
    let maxGap = 0;
    const gaps: number[] = [];
    const probe = setInterval(() => {
      const now = performance.now();
      const gap = now - last;
      maxGap = Math.max(maxGap, gap);
      gaps.push(gap);
      last = now;
    }, 1);
    // GC pauses during the recalls, to tell the runtime's own blocking from the collector's.
    let maxGc = 0;
    let maxGcKind = '';
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration <= maxGc) continue;
        maxGc = e.duration;
        maxGcKind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      }
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const times: number[] = [];
    for (const q of qs) {
      // One recall per turn of the event loop, as requests arrive at a server.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const t0 = performance.now();
      await memory.recall({ query: q, entityId: `user-${times.length % 20}`, limit: 5 });
      times.push(performance.now() - t0);
    }
    clearInterval(probe);
    gcObserver.disconnect();
    await system.close();
    await pool.destroy();
    times.sort((a, b) => a - b);
    return {
      p50: median(times),
      p99: times[Math.floor(times.length * 0.99)] as number,
      maxBlockMs: maxGap,
      p99BlockMs: gaps.sort((a, b) => a - b)[Math.floor(gaps.length * 0.99)] ?? 0,
      maxGcMs: maxGc,
      maxGcKind,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function recallLatency(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of [10_000, 100_000]) {
    const r = await recallAt(size, 500);
    rows.push(
      {
        suite: 'recall',
        name: `p50 / p99 latency at ${size.toLocaleString('en')} memories (ms)`,
        value: r.p99,
        unit: `ms p99 (p50 ${r.p50.toFixed(2)} ms)`,
        goal: size === 100_000 ? 'p99 < 20 ms' : '(reported)',
        met: size !== 100_000 || r.p99 < 20,
      },
      {
        suite: 'recall',
        name: `longest event-loop block during recalls at ${size.toLocaleString('en')} (ms; 1 ms probe timer)`,
        value: r.maxBlockMs,
        unit: `ms (p99 of probe gaps ${r.p99BlockMs.toFixed(2)} ms; longest GC pause ${r.maxGcMs.toFixed(2)} ms${r.maxGcKind === '' ? '' : `, ${r.maxGcKind}`})`,
        goal: '≤ 5 ms',
        met: r.maxBlockMs <= 5,
      },
    );
  }
  return rows;
}
