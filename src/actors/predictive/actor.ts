/**
 * The `predictive` actor: the one owner of the predictive models' learning, and the place their
 * prediction errors are scored and combined.
 *
 * State (bounded):
 * - one global TextModel (`globalModelBytes`, 16 MiB by default) that learns every text;
 * - per entity, a small TextModel (`entityModelBytes`, 256 KiB), a ContentModel (one vector of
 *   the embedding's dimension) and a TimingModel (a few numbers). At most `maxEntities` entities
 *   are in memory; the least recently used one is saved and dropped, and reloaded on its next
 *   message;
 * - one SurpriseCombiner (global), so every entity's surprise is on the same scale.
 *
 * Scoring and snapshots: the text level is scored in the worker pool against a read-only copy of
 * the global model (a SharedArrayBuffer snapshot) published every `snapshotEveryMessages` learned
 * messages or `snapshotEveryMs` ms, whichever comes first — copying 16 MiB costs milliseconds, too
 * much per message. Every score message the actor receives in one turn (`receiveBatch`) goes to
 * the pool as ONE `scoreBatch` task, since a pool round trip costs about as much as scoring a short
 * message. A reported `bits` is the code length of the text under the arithmetic coder driven by
 * the snapshot it names (`text.snapshot`); two scores against one snapshot never see each other's
 * learning. The per-entity text figure (`text.entityBpc`) is scored on the actor thread: the
 * entity model is small (a 91-byte message scores in ~41 µs on 256 KiB, less than a pool round
 * trip) and its learning runs there anyway.
 *
 * Learning (score with `learn`, the default, and `learn` messages) runs on the actor thread after
 * scoring: text into the global and the entity model, the embedding into the entity's content
 * model, the time into its timing model and the levels' errors into the combiner.
 *
 * Persistence: the global model (with the combiner) and each changed entity are saved through the
 * store (`predictive.save`) every `saveIntervalMs`, on eviction and when the actor stops; the
 * global model is loaded at start, entities on demand. A crash loses at most one save interval.
 */

import { fileURLToPath } from 'node:url';
import type { ActorContext, ActorRef, ActorSpec, BatchResult, Behavior } from '../../runtime/actor.js';
import type { Clock, TimerHandle } from '../../runtime/clock.js';
import { JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import type { TaskPool } from '../../runtime/pool.js';
import type { Store } from '../store/store.js';
import { ContentModel, type ContentModelJson, type ContentModelOptions } from './content-model.js';
import {
  entityScope,
  GLOBAL_SCOPE,
  type ModelKind,
  PREDICTIVE_QUERIES,
  packModel,
  type SavedModel,
  unpackModel,
} from './persistence.js';
import type { ScoreBatchPayload, ScoredText } from './predict-task.js';
import { type Level, SurpriseCombiner, type SurpriseJson, type SurpriseOptions } from './surprise.js';
import { TEXT_MODEL_MIN_BYTES, TextModel } from './text-model.js';
import { TimingModel, type TimingModelJson, type TimingModelOptions } from './timing-model.js';

export const PREDICTIVE_ACTOR = 'predictive';

/** Learning time (ms) after which a turn yields to the event loop. */
const YIELD_AFTER_MS = 10;

// The worker module (index.ts names it too; importing index here would make the import cyclic).
const PREDICT_TASK_FILE = fileURLToPath(new URL('./predict-task.js', import.meta.url));

/** Longest text the actor scores or learns, in UTF-16 code units (the route's limit too). */
export const MAX_PREDICT_CHARS = 32_768;
/** Longest entity id. */
export const MAX_ENTITY_CHARS = 256;

export interface PredictiveOptions {
  /** Size of the global text model. @default 16 MiB */
  globalModelBytes?: number;
  /** Size of each entity's text model. @default 256 KiB */
  entityModelBytes?: number;
  /** Entities kept in memory; the least recently used beyond this are saved and dropped. @default 256 */
  maxEntities?: number;
  /** Learned messages after which a new snapshot is published for scoring. @default 1024 */
  snapshotEveryMessages?: number;
  /** Time after which a changed model is published for scoring anyway (ms). @default 5000 */
  snapshotEveryMs?: number;
  /** Period of the saves of changed models (ms); 0 saves only on eviction and stop. @default 60000 */
  saveIntervalMs?: number;
  /** Deadline of one pool scoring task (ms). @default 10000 */
  scoreDeadlineMs?: number;
  surprise?: SurpriseOptions;
  content?: ContentModelOptions;
  timing?: TimingModelOptions;
}

interface Resolved {
  globalModelBytes: number;
  entityModelBytes: number;
  maxEntities: number;
  snapshotEveryMessages: number;
  snapshotEveryMs: number;
  saveIntervalMs: number;
  scoreDeadlineMs: number;
}

export interface PredictInput {
  text: string;
  entity?: string;
  /** The text's embedding; computed with `embed` when absent and an entity is given. */
  embedding?: Float32Array | number[];
  /** Time of the message on the runtime clock (ms). @default now */
  at?: number;
  /** Learn the message after scoring it. @default true */
  learn?: boolean;
}

export interface PredictResult {
  text: {
    /** Code length in bits under the global model's snapshot `snapshot`. */
    bits: number;
    bpc: number;
    /** UTF-8 bytes. */
    chars: number;
    /** Version of the snapshot scored against. */
    snapshot: number;
    /** Bits per char under the entity's own model; null without an entity. */
    entityBpc: number | null;
  };
  content: { distance: number } | null;
  timing: { intervalMs: number; bits: number } | null;
  surprise: { score: number; energy: number; levels: Partial<Record<Level, number>> };
}

export interface PredictiveStats {
  snapshot: number;
  /** Snapshot buffers allocated since start (they are reused: this stays small). */
  snapshotBuffers: number;
  learnedMessages: number;
  learnedBytes: number;
  entitiesInMemory: number;
  /** Pool tasks run for scoring since start. */
  poolTasks: number;
  scored: number;
  saves: number;
}

export type PredictiveMessage =
  | { type: 'score'; input: PredictInput }
  | { type: 'learn'; text: string; entity?: string }
  | { type: 'stats' }
  /** The current snapshot of the global model (read-only use). */
  | { type: 'snapshot' }
  /** Saves the changed models now. */
  | { type: 'flush' };

export type PredictiveReply = PredictResult | PredictiveStats | SnapshotInfo | number | undefined;

export interface SnapshotInfo {
  version: number;
  buffer: SharedArrayBuffer;
}

/** What the metrics bind to. */
export interface PredictiveObserver {
  scored?(result: PredictResult): void;
  learned?(bytes: number): void;
}

export interface PredictiveDeps {
  pool: TaskPool;
  store?: Store;
  clock: Clock;
  log?: Logger;
  /** Embeds texts for the content level; without it the content level needs given embeddings. */
  embed?: (texts: string[]) => Promise<Float32Array[]>;
  options?: PredictiveOptions;
}

export interface PredictiveActor extends ActorSpec<PredictiveMessage, PredictiveReply> {
  observer: PredictiveObserver;
  /** Text models in memory by scope (for the gauge). */
  modelCounts(): { global: number; entity: number };
}

function intOption(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `option "predictive.${name}" must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

function resolve(o: PredictiveOptions): Resolved {
  return {
    globalModelBytes: intOption(
      'globalModelBytes',
      o.globalModelBytes,
      16 << 20,
      TEXT_MODEL_MIN_BYTES,
      2 ** 30,
    ),
    entityModelBytes: intOption(
      'entityModelBytes',
      o.entityModelBytes,
      256 << 10,
      TEXT_MODEL_MIN_BYTES,
      64 << 20,
    ),
    maxEntities: intOption('maxEntities', o.maxEntities, 256, 1, 100_000),
    snapshotEveryMessages: intOption('snapshotEveryMessages', o.snapshotEveryMessages, 1024, 1, 1_000_000),
    snapshotEveryMs: intOption('snapshotEveryMs', o.snapshotEveryMs, 5000, 0, 86_400_000),
    saveIntervalMs: intOption('saveIntervalMs', o.saveIntervalMs, 60_000, 0, 86_400_000),
    scoreDeadlineMs: intOption('scoreDeadlineMs', o.scoreDeadlineMs, 10_000, 1, 600_000),
  };
}

interface EntityState {
  readonly id: string;
  readonly text: TextModel;
  content: ContentModel;
  timing: TimingModel;
  dirty: boolean;
}

function checkText(text: unknown, path: string): string {
  if (typeof text !== 'string' || text.length > MAX_PREDICT_CHARS) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `${path} must be a string of at most ${MAX_PREDICT_CHARS} chars`,
      {
        details: [{ path, problem: `must be a string of at most ${MAX_PREDICT_CHARS} chars` }],
      },
    );
  }
  return text;
}

function checkEntity(entity: unknown): string | undefined {
  if (entity === undefined) return undefined;
  if (typeof entity !== 'string' || entity.length === 0 || entity.length > MAX_ENTITY_CHARS) {
    throw new JameyError('JAMEY_ERR_VALIDATION', `entity must be 1..${MAX_ENTITY_CHARS} chars`, {
      details: [{ path: '/entity', problem: `must be a string of 1..${MAX_ENTITY_CHARS} chars` }],
    });
  }
  return entity;
}

export function createPredictiveActor(deps: PredictiveDeps): PredictiveActor {
  const o = resolve(deps.options ?? {});
  const surpriseOptions = deps.options?.surprise ?? {};
  const contentOptions = deps.options?.content ?? {};
  const timingOptions = deps.options?.timing ?? {};
  const { pool, store, clock, log, embed } = deps;
  // Live in the factory so that the gauge reads them between incarnations too.
  let globalModel: TextModel | undefined;
  const entities = new Map<string, EntityState>();
  // The buffer size a model of the configured size has (its layout rounds the size asked for).
  let entityTotal = 0;
  const entityTotalBytes = (): number => {
    if (entityTotal === 0) entityTotal = new TextModel({ sizeBytes: o.entityModelBytes }).sizeBytes;
    return entityTotal;
  };

  const spec: PredictiveActor = {
    name: PREDICTIVE_ACTOR,
    dependsOn: store === undefined ? [] : ['store'],
    mailbox: { capacity: 10_000 },
    maxBatch: 256,
    observer: {},
    modelCounts: () => ({ global: globalModel === undefined ? 0 : 1, entity: entities.size }),
    start(ctx: ActorContext): Behavior<PredictiveMessage, PredictiveReply> {
      const self = ctx.actor<PredictiveMessage, PredictiveReply>(PREDICTIVE_ACTOR);
      let combiner = new SurpriseCombiner(surpriseOptions);
      entities.clear();
      // Entities on their way to the store after eviction: reloaded from here until the write commits.
      const evicting = new Map<string, EntityState>();
      const pendingWrites = new Set<Promise<unknown>>();
      // Shared memory, so that the snapshot copy runs in the pool (publish).
      let global = new TextModel({ sizeBytes: o.globalModelBytes, shared: true });
      let globalDirty = false;
      const stats: PredictiveStats = {
        snapshot: 0,
        snapshotBuffers: 1,
        learnedMessages: 0,
        learnedBytes: 0,
        entitiesInMemory: 0,
        poolTasks: 0,
        scored: 0,
        saves: 0,
      };

      if (store !== undefined) {
        const row = store.reader.statement(PREDICTIVE_QUERIES.load).get(GLOBAL_SCOPE) as
          | { kind: string; data: Uint8Array }
          | undefined;
        if (row !== undefined) {
          try {
            const packed = unpackModel(row.data);
            const loaded = TextModel.deserialize(packed.text, { shared: true });
            if (loaded.sizeBytes === global.sizeBytes) global = loaded;
            else log?.warn('predictive: saved global model has another size; starting afresh');
            combiner = SurpriseCombiner.fromJSON((packed.json as { surprise: SurpriseJson }).surprise);
          } catch (err) {
            log?.error('predictive: saved global model unreadable; starting afresh', { err });
          }
        }
      }
      globalModel = global;
      let snapshot: SnapshotInfo = { version: stats.snapshot, buffer: global.snapshot() };

      // Snapshot buffers are reused. A worker that has seen a SharedArrayBuffer keeps it until its own
      // collector runs, and V8 does not count shared memory towards a worker's collection pressure
      // (nodejs/node#34703): a new 16 MiB buffer per publish piled up in the workers by hundreds of
      // MB. So a retired snapshot that no task reads any more (scoring, saving) is copied into at the
      // next publish; one handed out through the `snapshot` message is never reused.
      const readers = new Map<SharedArrayBuffer, number>();
      const retired = new Set<SharedArrayBuffer>();
      const handedOut = new WeakSet<SharedArrayBuffer>();
      const spare: SharedArrayBuffer[] = [];
      const recycle = (b: SharedArrayBuffer): void => {
        if (!handedOut.has(b) && spare.length < 2 && b.byteLength === global.buffer.byteLength) spare.push(b);
      };
      const hold = (b: SharedArrayBuffer): void => {
        readers.set(b, (readers.get(b) ?? 0) + 1);
      };
      const release = (b: SharedArrayBuffer): void => {
        const n = (readers.get(b) ?? 1) - 1;
        if (n > 0) {
          readers.set(b, n);
          return;
        }
        readers.delete(b);
        if (retired.delete(b)) recycle(b);
      };
      const retire = (b: SharedArrayBuffer): void => {
        if (readers.has(b)) retired.add(b);
        else recycle(b);
      };
      let learnedSinceSnapshot = 0;
      let snapshotAt = clock.now();

      /**
       * Publishes a new snapshot when enough was learned. The copy is a pool task: the caller awaits
       * it, and since the actor handles one batch at a time nothing is learned until it is back.
       * Should the pool fail, the copy is made here.
       */
      async function publish(force: boolean): Promise<void> {
        if (learnedSinceSnapshot === 0) return;
        if (
          !force &&
          learnedSinceSnapshot < o.snapshotEveryMessages &&
          clock.now() - snapshotAt < o.snapshotEveryMs
        )
          return;
        const version = ++stats.snapshot;
        learnedSinceSnapshot = 0;
        snapshotAt = clock.now();
        let into = spare.pop();
        if (into === undefined) {
          into = new SharedArrayBuffer(global.buffer.byteLength);
          stats.snapshotBuffers++;
        }
        let buffer: SharedArrayBuffer;
        try {
          buffer = await pool.run<SharedArrayBuffer>(
            { filename: PREDICT_TASK_FILE, name: 'copyModel', label: 'predict.copyModel' },
            { model: global.buffer, into },
            { deadlineMs: o.scoreDeadlineMs },
          );
        } catch (err) {
          log?.warn('predictive: snapshot copied on the event loop, the pool failed', { err });
          // The task may still be writing `into` (a deadline passed): it is not reused.
          buffer = global.snapshot();
          stats.snapshotBuffers++;
        }
        const old = snapshot.buffer;
        snapshot = { version, buffer };
        retire(old);
      }

      function track(p: Promise<unknown>): void {
        const t = p.catch((err: unknown) => {
          log?.error('predictive: model not saved', { err });
        });
        pendingWrites.add(t);
        void t.finally(() => pendingWrites.delete(t));
      }

      function save(scope: string, kind: ModelKind, text: TextModel, json: unknown): Promise<unknown> {
        if (store === undefined) return Promise.resolve();
        const args: SavedModel = {
          scope,
          kind,
          data: packModel(text.serialize(), json),
          messages: text.learnedMessages,
        };
        stats.saves++;
        return store.write('predictive.save', args);
      }

      function entityJson(e: EntityState): { content: ContentModelJson; timing: TimingModelJson } {
        return { content: e.content.toJSON(), timing: e.timing.toJSON() };
      }

      function saveEntity(e: EntityState): Promise<unknown> {
        e.dirty = false;
        return save(entityScope(e.id), 'entity', e.text, entityJson(e));
      }

      /** The global model is saved from its snapshot, brought up to date first (see SavedModel). */
      async function saveGlobal(): Promise<unknown> {
        await publish(true);
        if (store === undefined) return;
        stats.saves++;
        const args: SavedModel = {
          scope: GLOBAL_SCOPE,
          kind: 'global',
          text: new Uint8Array(snapshot.buffer),
          json: { surprise: combiner.toJSON() },
          messages: global.learnedMessages,
        };
        // The writer thread reads the buffer until the write commits.
        const b = snapshot.buffer;
        hold(b);
        return store.write('predictive.save', args).finally(() => release(b));
      }

      async function flush(): Promise<unknown> {
        if (globalDirty) {
          globalDirty = false;
          track(saveGlobal());
        }
        for (const e of entities.values()) if (e.dirty) track(saveEntity(e));
        return Promise.all([...pendingWrites]);
      }

      function loadEntity(id: string): EntityState {
        const inFlight = evicting.get(id);
        if (inFlight !== undefined) return inFlight;
        if (store !== undefined) {
          const row = store.reader.statement(PREDICTIVE_QUERIES.load).get(entityScope(id)) as
            | { data: Uint8Array }
            | undefined;
          if (row !== undefined) {
            try {
              const packed = unpackModel(row.data);
              const json = packed.json as { content: ContentModelJson; timing: TimingModelJson };
              const text = TextModel.deserialize(packed.text);
              if (text.sizeBytes === entityTotalBytes()) {
                return {
                  id,
                  text,
                  content: ContentModel.fromJSON(json.content),
                  timing: TimingModel.fromJSON(json.timing),
                  dirty: false,
                };
              }
            } catch (err) {
              log?.error('predictive: saved entity model unreadable; starting afresh', { err });
            }
          }
        }
        return {
          id,
          text: new TextModel({ sizeBytes: o.entityModelBytes }),
          content: new ContentModel(contentOptions),
          timing: new TimingModel(timingOptions),
          dirty: false,
        };
      }

      function entity(id: string): EntityState {
        let e = entities.get(id);
        if (e !== undefined) {
          // Map order is recency order: move to the back.
          entities.delete(id);
          entities.set(id, e);
          return e;
        }
        e = loadEntity(id);
        entities.set(id, e);
        while (entities.size > o.maxEntities) {
          const [oldId, old] = entities.entries().next().value as [string, EntityState];
          entities.delete(oldId);
          if (!old.dirty || store === undefined) continue;
          evicting.set(oldId, old);
          const p = saveEntity(old).finally(() => {
            if (evicting.get(oldId) === old) evicting.delete(oldId);
          });
          track(p);
        }
        stats.entitiesInMemory = entities.size;
        return e;
      }

      function learnText(text: string, e: EntityState | undefined): void {
        global.learn(text);
        globalDirty = true;
        learnedSinceSnapshot++;
        const bytes = Buffer.byteLength(text, 'utf8');
        stats.learnedMessages++;
        stats.learnedBytes += bytes;
        if (e !== undefined) {
          e.text.learn(text);
          e.dirty = true;
        }
        spec.observer.learned?.(bytes);
      }

      function finishScore(
        input: PredictInput,
        scored: ScoredText,
        version: number,
        embedding: ArrayLike<number> | undefined,
        now: number,
      ): PredictResult {
        const id = input.entity;
        const e = id === undefined ? undefined : entity(id);
        const learn = input.learn !== false;
        let distance: number | undefined;
        let entityBpc: number | null = null;
        let timing: PredictResult['timing'] = null;
        if (e !== undefined) {
          entityBpc = e.text.score(input.text).bpc;
          if (embedding !== undefined && embedding.length > 0) {
            if (e.content.dimension !== undefined && e.content.dimension !== embedding.length) {
              // A new embedder: its vectors are not comparable with the old mean.
              e.content = new ContentModel(contentOptions);
            }
            distance = learn ? e.content.observe(embedding) : e.content.error(embedding);
          }
          const at = input.at ?? now;
          const last = e.timing.lastMs;
          if (learn) {
            const t = e.timing.observe(at);
            if (t.intervalMs !== undefined && t.bits !== undefined)
              timing = { intervalMs: t.intervalMs, bits: t.bits };
          } else if (last !== undefined) {
            const intervalMs = Math.max(0, at - last);
            const bits = e.timing.surprisal(intervalMs);
            if (bits !== undefined) timing = { intervalMs, bits };
          }
        }
        const errors = { text: scored.bpc, content: distance, timing: timing?.bits };
        const s = learn ? combiner.observe(errors) : combiner.score(errors);
        if (learn) {
          learnText(input.text, e);
        }
        const result: PredictResult = {
          text: { bits: scored.bits, bpc: scored.bpc, chars: scored.chars, snapshot: version, entityBpc },
          content: distance === undefined ? null : { distance },
          timing,
          surprise: { score: s.surprise, energy: s.energy, levels: s.z },
        };
        stats.scored++;
        spec.observer.scored?.(result);
        return result;
      }

      async function scoreAll(inputs: PredictInput[]): Promise<{
        scored: ScoredText[];
        version: number;
        embeddings: Array<ArrayLike<number> | undefined>;
      }> {
        const snap = snapshot;
        const payload: ScoreBatchPayload = { model: snap.buffer, texts: inputs.map((i) => i.text) };
        stats.poolTasks++;
        hold(snap.buffer);
        const task = pool
          .run<ScoredText[]>(
            { filename: PREDICT_TASK_FILE, name: 'scoreBatch', label: 'predict.scoreBatch' },
            payload,
            {
              deadlineMs: o.scoreDeadlineMs,
            },
          )
          .finally(() => release(snap.buffer));
        const embeddings: Array<ArrayLike<number> | undefined> = inputs.map((i) => i.embedding);
        const toEmbed: number[] = [];
        if (embed !== undefined) {
          inputs.forEach((i, k) => {
            if (i.entity !== undefined && i.embedding === undefined) toEmbed.push(k);
          });
        }
        const [scored, vectors] = await Promise.all([
          task,
          toEmbed.length === 0 || embed === undefined
            ? Promise.resolve([] as Float32Array[])
            : embed(toEmbed.map((k) => inputs[k]!.text)),
        ]);
        toEmbed.forEach((k, j) => {
          embeddings[k] = vectors[j];
        });
        return { scored, version: snap.version, embeddings };
      }

      let timer: TimerHandle | undefined;
      const schedule = (): void => {
        if (o.saveIntervalMs === 0) return;
        timer = clock.setTimeout(() => {
          self.tell({ type: 'flush' }, { priority: 'low' });
          schedule();
        }, o.saveIntervalMs);
      };
      schedule();

      return {
        async receiveBatch(messages): Promise<ReadonlyArray<BatchResult<PredictiveReply>>> {
          const now = clock.now();
          await publish(false);
          const results: Array<BatchResult<PredictiveReply> | undefined> = new Array(messages.length);
          const inputs: PredictInput[] = [];
          const at: number[] = [];
          messages.forEach((m, k) => {
            if (m.type !== 'score') return;
            try {
              const input = m.input;
              checkText(input?.text, '/text');
              checkEntity(input.entity);
              inputs.push(input);
              at.push(k);
            } catch (error) {
              results[k] = { ok: false, error };
            }
          });
          let batch: Awaited<ReturnType<typeof scoreAll>> | undefined;
          let batchError: unknown;
          if (inputs.length > 0) {
            try {
              batch = await scoreAll(inputs);
            } catch (error) {
              batchError = error;
            }
          }
          // In arrival order, so a learn between two scores is learned after both were scored.
          let next = 0;
          let slice = performance.now();
          for (let k = 0; k < messages.length; k++) {
            if (results[k] !== undefined) continue;
            const m = messages[k]!;
            // Learning runs on the event loop: a turn of many long messages gives way now and then,
            // so other actors and the HTTP server are not held up. No snapshot is published here.
            if (performance.now() - slice > YIELD_AFTER_MS) {
              await new Promise<void>((resolve) => setImmediate(resolve));
              slice = performance.now();
            }
            try {
              switch (m.type) {
                case 'score': {
                  const j = next++;
                  if (batch === undefined) throw batchError;
                  results[k] = {
                    ok: true,
                    value: finishScore(inputs[j]!, batch.scored[j]!, batch.version, batch.embeddings[j], now),
                  };
                  break;
                }
                case 'learn': {
                  const text = checkText(m.text, '/text');
                  const id = checkEntity(m.entity);
                  learnText(text, id === undefined ? undefined : entity(id));
                  results[k] = { ok: true, value: undefined };
                  break;
                }
                case 'stats':
                  results[k] = {
                    ok: true,
                    value: {
                      ...stats,
                      entitiesInMemory: entities.size,
                      learnedMessages: global.learnedMessages,
                      learnedBytes: global.learnedBytes,
                    },
                  };
                  break;
                case 'snapshot':
                  await publish(true);
                  handedOut.add(snapshot.buffer);
                  results[k] = { ok: true, value: snapshot };
                  break;
                case 'flush':
                  await flush();
                  results[k] = { ok: true, value: stats.saves };
                  break;
                default:
                  throw new JameyError('JAMEY_ERR_VALIDATION', 'unknown predictive message');
              }
            } catch (error) {
              results[k] = { ok: false, error };
            }
          }
          await publish(false);
          stats.entitiesInMemory = entities.size;
          return results as Array<BatchResult<PredictiveReply>>;
        },
        async stop() {
          if (timer !== undefined) clock.clearTimeout(timer);
          await flush();
        },
      };
    },
  };
  return spec;
}

/** Typed access to the predictive actor. */
export class PredictiveClient {
  constructor(private readonly ref: ActorRef<PredictiveMessage, unknown>) {}

  score(
    input: PredictInput,
    options?: { signal?: AbortSignal; deadlineMs?: number },
  ): Promise<PredictResult> {
    return this.ref.ask({ type: 'score', input }, options) as Promise<PredictResult>;
  }

  /**
   * Learns a text without scoring it: a fire-and-forget tell, false when it was not queued (a full
   * mailbox included), so a broadcast that outpaces learning loses texts instead of failing.
   */
  learn(text: string, entity?: string): boolean {
    try {
      return this.ref.tell(entity === undefined ? { type: 'learn', text } : { type: 'learn', text, entity });
    } catch (err) {
      if (err instanceof JameyError && err.code === 'JAMEY_ERR_MAILBOX_FULL') return false;
      throw err;
    }
  }

  stats(): Promise<PredictiveStats> {
    return this.ref.ask({ type: 'stats' }) as Promise<PredictiveStats>;
  }

  /** The latest snapshot of the global model, published now if the model changed since the last. */
  snapshot(): Promise<SnapshotInfo> {
    return this.ref.ask({ type: 'snapshot' }) as Promise<SnapshotInfo>;
  }

  /** Saves the changed models; resolves once committed. */
  flush(): Promise<number> {
    return this.ref.ask({ type: 'flush' }) as Promise<number>;
  }
}
