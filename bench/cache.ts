/**
 * Cache tier benchmarks, each against the raw mnemonist structure measured in the same run
 * (alternating rounds, medians): get (all hits) and set (half of them evicting) on
 * 1. L1, `TieredCache` without a store (tenant-scoped key, TTL/TTI bookkeeping, clock read), and
 * 2. L2, `EmbeddingTier` (tenant + model + text key, Float32Array values),
 * vs a bare `LRUMap` of the same capacity keyed by the same request key / text, and vs that LRUMap
 * keyed by the tenant-scoped string built per operation (what the tier itself must do).
 * The bare map's keys are interned strings whose hash V8 has cached, so its lookup never hashes;
 * building the scoped key (a concatenation, flattened and hashed on lookup) is most of the tier's
 * extra cost, the rest is the expiry check and a clock read. The HTTP layer's keys are fresh
 * strings per request anyway (a SHA-256 of the request), so the scoped baseline is the fair one.
 * Goal: ≥ 1 M ops/s and ≥ 0.5 of the bare map with the scoped key.
 */
import { LRUMap } from 'mnemonist';
import { EmbeddingTier } from '../src/actors/cache/embedding-tier.js';
import { TieredCache } from '../src/actors/cache/tiered-cache.js';
import { compareRounds, type Row } from './lib.js';

const CAPACITY = 10_000;
const BATCH = 1000;
const TENANT = 'key_0123456789';
const MODEL = 'builtin-v1';

const requestKeys = Array.from(
  { length: 2 * CAPACITY },
  (_, i) => `GET /v1/memories?entity=user-${i}&limit=20`,
);
const texts = Array.from({ length: 2 * CAPACITY }, (_, i) => `what did I say about topic ${i}?`);

const SEP = '\u0000';

/** Two rows per measure: against the bare map with the same key, and with the scoped key. */
function rows(name: string, result: { ops: Record<string, number>; ratio: number }, subject: string): Row[] {
  const value = (result.ops[subject] ?? 0) * BATCH;
  const raw = (result.ops['raw'] ?? 0) * BATCH;
  const scoped = (result.ops['rawScoped'] ?? 0) * BATCH;
  const scopedRatio = scoped > 0 ? value / scoped : 0;
  return [
    {
      suite: 'cache',
      name: `${name}, ops/s`,
      value,
      unit: 'ops/s',
      baseline: raw,
      baselineName: 'bare LRUMap, same key',
      ratio: result.ratio,
      goal: '≥ 1 M/s (ratio informative)',
      met: value >= 1e6,
    },
    {
      suite: 'cache',
      name: `${name} vs scoped key, ops/s`,
      value,
      unit: 'ops/s',
      baseline: scoped,
      baselineName: 'bare LRUMap, tenant-scoped key',
      ratio: scopedRatio,
      goal: '≥ 0.5 of the scoped baseline',
      met: scopedRatio >= 0.5,
    },
  ];
}

export async function cacheTiers(time?: number): Promise<Row[]> {
  const opts = time === undefined ? {} : { time };
  let sink = 0;
  const response = { status: 200, body: 'x' };
  const vector = new Float32Array(384);
  const scopedL1 = (k: string) => TENANT + SEP + k;
  const scopedL2 = (t: string) => TENANT + SEP + MODEL + SEP + t;

  // L1 get: every key present.
  const l1 = new TieredCache<typeof response>();
  const rawL1 = new LRUMap<string, typeof response>(CAPACITY);
  const rawL1Scoped = new LRUMap<string, typeof response>(CAPACITY);
  for (let i = 0; i < CAPACITY; i++) {
    const k = requestKeys[i] as string;
    l1.set(TENANT, k, response);
    rawL1.set(k, response);
    rawL1Scoped.set(scopedL1(k), response);
  }
  let g = 0;
  const l1Get = await compareRounds(
    {
      raw: () => {
        for (let i = 0; i < BATCH; i++) if (rawL1.get(requestKeys[g++ % CAPACITY] as string)) sink++;
      },
      rawScoped: () => {
        for (let i = 0; i < BATCH; i++)
          if (rawL1Scoped.get(scopedL1(requestKeys[g++ % CAPACITY] as string))) sink++;
      },
      l1: () => {
        for (let i = 0; i < BATCH; i++) if (l1.get(TENANT, requestKeys[g++ % CAPACITY] as string)) sink++;
      },
    },
    'l1',
    'raw',
    opts,
  );

  // Set over twice the capacity: once full, every new key evicts one.
  let s = 0;
  const l1Set = await compareRounds(
    {
      raw: () => {
        for (let i = 0; i < BATCH; i++) rawL1.set(requestKeys[s++ % requestKeys.length] as string, response);
      },
      rawScoped: () => {
        for (let i = 0; i < BATCH; i++)
          rawL1Scoped.set(scopedL1(requestKeys[s++ % requestKeys.length] as string), response);
      },
      l1: () => {
        for (let i = 0; i < BATCH; i++)
          l1.set(TENANT, requestKeys[s++ % requestKeys.length] as string, response);
      },
    },
    'l1',
    'raw',
    opts,
  );

  const l2 = new EmbeddingTier();
  const rawL2 = new LRUMap<string, Float32Array>(CAPACITY);
  const rawL2Scoped = new LRUMap<string, Float32Array>(CAPACITY);
  for (let i = 0; i < CAPACITY; i++) {
    const t = texts[i] as string;
    l2.set(TENANT, MODEL, t, vector);
    rawL2.set(t, vector);
    rawL2Scoped.set(scopedL2(t), vector);
  }
  const l2Get = await compareRounds(
    {
      raw: () => {
        for (let i = 0; i < BATCH; i++) if (rawL2.get(texts[g++ % CAPACITY] as string)) sink++;
      },
      rawScoped: () => {
        for (let i = 0; i < BATCH; i++)
          if (rawL2Scoped.get(scopedL2(texts[g++ % CAPACITY] as string))) sink++;
      },
      l2: () => {
        for (let i = 0; i < BATCH; i++) if (l2.get(TENANT, MODEL, texts[g++ % CAPACITY] as string)) sink++;
      },
    },
    'l2',
    'raw',
    opts,
  );
  const l2Set = await compareRounds(
    {
      raw: () => {
        for (let i = 0; i < BATCH; i++) rawL2.set(texts[s++ % texts.length] as string, vector);
      },
      rawScoped: () => {
        for (let i = 0; i < BATCH; i++)
          rawL2Scoped.set(scopedL2(texts[s++ % texts.length] as string), vector);
      },
      l2: () => {
        for (let i = 0; i < BATCH; i++) l2.set(TENANT, MODEL, texts[s++ % texts.length] as string, vector);
      },
    },
    'l2',
    'raw',
    opts,
  );
  if (sink < 0) console.log(sink);
  return [
    ...rows('L1 get (hits)', l1Get, 'l1'),
    ...rows('L1 set (evicting)', l1Set, 'l1'),
    ...rows('L2 get (hits)', l2Get, 'l2'),
    ...rows('L2 set (evicting)', l2Set, 'l2'),
  ];
}
