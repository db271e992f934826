/**
 * The `workspace` actor: the global workspace of Baars' theory with LIDA's cognitive cycle (sources
 * in competition.ts). Specialists post candidates (a cheap `tell`); every `cycleMs` on the injected
 * clock, and on demand, the candidates compete; a winner above the ignition threshold is broadcast
 * to every subscriber and appended to the persisted history.
 *
 * Broadcast fan-out never waits for a subscriber: each delivery is a `tell`. A subscription has its
 * own bounded queue (drop-oldest): a broadcast the subscriber's mailbox refuses waits there and is
 * offered again on the next cycle; when the queue is full the oldest waiting broadcast is dropped
 * and counted for that subscriber. A subscriber whose actor is absent or stopped is skipped and
 * counted. So one slow specialist loses its own oldest broadcasts and delays nobody else.
 *
 * The history write goes to the store actor without being awaited on the cycle's path (group
 * commit); a failed write is logged and counted. Candidates and the refractory memory belong to the
 * incarnation (a restart starts with an empty workspace); subscriptions, counters and the recent
 * broadcasts live in the factory, and the history is reloaded from SQLite at start.
 */
import { randomUUID } from 'node:crypto';
import { FixedDeque } from 'mnemonist';
import type { ActorContext, ActorRef, ActorSpec, Behavior } from '../../runtime/actor.js';
import { JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import type { Store } from '../store/store.js';
import {
  type Candidate,
  Competition,
  type CompetitionOptions,
  DEFAULT_COMPETITION_OPTIONS,
  type RemovalReason,
  type Salience,
  type Scored,
} from './competition.js';
import { type BroadcastRow, DEFAULT_RETENTION_MS, HISTORY_QUERIES } from './history.js';
import { CycleTimer } from './lifecycle.js';

export const WORKSPACE_ACTOR = 'workspace';

export interface WorkspaceOptions extends Partial<CompetitionOptions> {
  /** Period of the competition while candidates wait. @default 100 */
  cycleMs?: number;
  /** Broadcasts kept in memory (and reloaded at start) for `state`. @default 50 */
  recent?: number;
  /** Age after which persisted broadcasts are pruned. @default 604800000 (7 days) */
  retentionMs?: number;
  /** Broadcasts waiting per subscriber at most (drop-oldest). @default 64 */
  subscriberQueue?: number;
  /** Actors subscribed from the start. @default ['memory'] */
  subscribers?: readonly string[];
  /**
   * Mailbox capacity. Drop-oldest: under a flood of posts the oldest message goes first. Posts and
   * the client's asks share the normal lane, so a `cycle` sees every post sent before it.
   * @default 1024
   */
  mailboxCapacity?: number;
}

/**
 * What a specialist posts. A `postedAt` sent along is ignored: the workspace stamps candidates with
 * its own clock, so decay never depends on a poster's clock.
 */
export interface PostInput {
  /** @default a random UUID */
  id?: string;
  source: string;
  content: string;
  entity?: string;
  salience?: Salience;
  embedding?: ArrayLike<number>;
}

export interface Broadcast {
  /** Broadcast number, increasing over restarts (the history's primary key). */
  seq: number;
  /** Milliseconds on the workspace clock. */
  at: number;
  id: string;
  source: string;
  entity: string | null;
  content: string;
  activation: number;
  competitors: number;
}

/** How a broadcast becomes a message for a subscribing actor. */
export type BroadcastFormat = (broadcast: Broadcast) => unknown;

export type WorkspaceMessage =
  | { type: 'post'; candidate: PostInput }
  | { type: 'cycle' }
  /**
   * Subscribes the actor `name` (messages built by `format`, or the built-in format for `memory`
   * and `predictive`, else `{type:'broadcast', broadcast}`), or a callback when `deliver` is given.
   */
  | {
      type: 'subscribe';
      name: string;
      /** Tells subscriptions of the same name apart (callbacks). @default name */
      key?: string;
      deliver?: (broadcast: Broadcast) => void;
      format?: BroadcastFormat;
    }
  | { type: 'unsubscribe'; key: string }
  | { type: 'state' }
  /** The cycle timer's own message. */
  | { type: 'tick' };

export interface CycleReport {
  /** The strongest eligible candidate (broadcast only when `broadcast` is true). */
  winner: { id: string; source: string; content: string; entity: string | null; activation: number } | null;
  broadcast: boolean;
  competitors: number;
  activations: readonly Scored[];
  /** Subscribers the broadcast was handed or queued to. */
  broadcastTo: string[];
}

export type DropReason = RemovalReason | 'subscriber-overflow' | 'subscriber-absent';
export const DROP_REASONS: readonly DropReason[] = [
  'capacity',
  'faded',
  'blocked',
  'subscriber-overflow',
  'subscriber-absent',
];

/** Plain counters, read by the metrics at scrape time. */
export interface WorkspaceCounters {
  posted: number;
  cycles: number;
  broadcasts: number;
  /** Cycles with candidates but none at or above the threshold. */
  ignitionFailures: number;
  dropped: Record<DropReason, number>;
  historyWriteFailures: number;
  callbackFailures: number;
}

export interface SubscriberStatus {
  name: string;
  kind: 'actor' | 'callback';
  pending: number;
  delivered: number;
  dropped: number;
}

export interface WorkspaceState {
  focus: Broadcast | null;
  /** The surprise of the latest candidate posted with one (the predictive actor's combined z-score). */
  lastSurprise: number | null;
  /** Newest first. */
  broadcasts: Broadcast[];
  cycleMs: number;
  capacity: number;
  threshold: number;
  candidates: number;
  counters: WorkspaceCounters;
  subscribers: SubscriberStatus[];
}

export interface WorkspaceObserver {
  /** Called per broadcast with the winner's activation. */
  broadcast(activation: number): void;
}

interface Subscription {
  readonly key: string;
  readonly name: string;
  readonly deliver: ((b: Broadcast) => void) | undefined;
  readonly format: BroadcastFormat;
  readonly queue: FixedDeque<Broadcast>;
  delivered: number;
  dropped: number;
}

export interface WorkspaceDeps {
  /** Persists the history when given (the `workspace` writers must be registered). */
  store?: Store;
  log?: Logger;
  /** Whether an actor of that name runs now (absent or stopped subscribers are skipped). */
  isRunning: (name: string) => boolean;
  options?: WorkspaceOptions;
}

export interface WorkspaceActor extends ActorSpec<WorkspaceMessage, unknown> {
  readonly counters: WorkspaceCounters;
  /** Dropped broadcasts per subscriber name. */
  subscriberDrops(): ReadonlyMap<string, number>;
  /** Candidates waiting now. */
  candidates(): number;
  observer: WorkspaceObserver | undefined;
  readonly cycleMs: number;
}

export const BUILTIN_FORMATS: Readonly<Record<string, BroadcastFormat>> = Object.freeze({
  memory: (b: Broadcast) => ({
    op: 'store',
    input: { layer: 'episodic', content: b.content, entityId: b.entity, source: 'workspace' },
  }),
  predictive: (b: Broadcast) =>
    b.entity === null
      ? { type: 'learn', text: b.content }
      : { type: 'learn', text: b.content, entity: b.entity },
});

const defaultFormat: BroadcastFormat = (broadcast) => ({ type: 'broadcast', broadcast });

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `option "${name}" must be a positive integer, got ${String(value)}`,
    );
  return value;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `option "${name}" must be a positive number, got ${String(value)}`,
    );
  return value;
}

export interface ResolvedWorkspaceOptions {
  competition: CompetitionOptions;
  cycleMs: number;
  recent: number;
  retentionMs: number;
  subscriberQueue: number;
  subscribers: readonly string[];
  mailboxCapacity: number;
}

/** Checks every option once; the message names the option and what was given. */
export function resolveWorkspaceOptions(o: WorkspaceOptions = {}): Readonly<ResolvedWorkspaceOptions> {
  const d = DEFAULT_COMPETITION_OPTIONS;
  const threshold = o.threshold ?? d.threshold;
  if (!(threshold >= 0 && threshold <= 1))
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `option "threshold" must be from 0 to 1, got ${String(threshold)}`,
    );
  const competition: CompetitionOptions = {
    weights: { ...d.weights, ...o.weights },
    gain: positive('gain', o.gain, d.gain),
    midpoint: o.midpoint ?? d.midpoint,
    surpriseScale: positive('surpriseScale', o.surpriseScale, d.surpriseScale),
    halfLifeMs: positive('halfLifeMs', o.halfLifeMs, d.halfLifeMs),
    threshold,
    capacity: positiveInt('capacity', o.capacity, d.capacity),
    refractoryMs: o.refractoryMs ?? d.refractoryMs,
    minActivation: o.minActivation ?? d.minActivation,
  };
  for (const [k, w] of Object.entries(competition.weights))
    if (!(w >= 0))
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `option "weights.${k}" must be at least 0, got ${String(w)}`,
      );
  return Object.freeze({
    competition,
    cycleMs: positive('cycleMs', o.cycleMs, 100),
    recent: positiveInt('recent', o.recent, 50),
    retentionMs: positive('retentionMs', o.retentionMs, DEFAULT_RETENTION_MS),
    subscriberQueue: positiveInt('subscriberQueue', o.subscriberQueue, 64),
    subscribers: o.subscribers ?? ['memory'],
    mailboxCapacity: positiveInt('mailboxCapacity', o.mailboxCapacity, 1024),
  });
}

/** Whether the actor `name` of a system runs (absent, stopped and failed ones do not). */
export function isActorRunning(
  system: { host(name: string): { readonly status: string } | undefined },
  name: string,
): boolean {
  const status = system.host(name)?.status;
  return status !== undefined && status !== 'stopped' && status !== 'failed';
}

function checkPost(c: PostInput): void {
  const problems: string[] = [];
  if (typeof c?.source !== 'string' || c.source.length === 0)
    problems.push('/source must be a non-empty string');
  if (typeof c?.content !== 'string' || c.content.trim().length === 0)
    problems.push('/content must be a non-empty string');
  if (problems.length > 0)
    throw new JameyError('JAMEY_ERR_VALIDATION', `invalid candidate: ${problems.join('; ')}`);
}

function fromRow(r: BroadcastRow): Broadcast {
  return {
    seq: r.seq,
    at: r.at,
    id: `broadcast-${r.seq}`,
    source: r.source,
    entity: r.entity_id,
    content: r.content,
    activation: r.activation,
    competitors: r.competitors,
  };
}

/** Builds the actor spec; register it with `runtime.spawn(createWorkspaceActor(deps))`. */
export function createWorkspaceActor(deps: WorkspaceDeps): WorkspaceActor {
  const o = resolveWorkspaceOptions(deps.options);
  const counters: WorkspaceCounters = {
    posted: 0,
    cycles: 0,
    broadcasts: 0,
    ignitionFailures: 0,
    dropped: { capacity: 0, faded: 0, blocked: 0, 'subscriber-overflow': 0, 'subscriber-absent': 0 },
    historyWriteFailures: 0,
    callbackFailures: 0,
  };
  const subscriptions = new Map<string, Subscription>();
  const drops = new Map<string, number>();
  /** Newest last. */
  let recent: Broadcast[] = [];
  let seq = 0;
  let lastSurprise: number | null = null;
  let loaded = false;
  let competition: Competition | undefined;

  const subscribe = (
    key: string,
    name: string,
    deliver?: (b: Broadcast) => void,
    format?: BroadcastFormat,
  ) => {
    if (subscriptions.has(key)) return;
    subscriptions.set(key, {
      key,
      name,
      deliver,
      format: format ?? BUILTIN_FORMATS[name] ?? defaultFormat,
      queue: new FixedDeque<Broadcast>(Array, o.subscriberQueue),
      delivered: 0,
      dropped: 0,
    });
  };
  for (const name of o.subscribers) subscribe(name, name);

  const dropFor = (s: Subscription, reason: 'subscriber-overflow' | 'subscriber-absent', n = 1): void => {
    counters.dropped[reason] += n;
    s.dropped += n;
    drops.set(s.name, (drops.get(s.name) ?? 0) + n);
  };

  /** Offers the waiting broadcasts in order until the subscriber's mailbox refuses one. */
  const flush = (s: Subscription, ref: ActorRef): void => {
    while (s.queue.size > 0) {
      const b = s.queue.peekFirst() as Broadcast;
      let accepted: boolean;
      try {
        accepted = ref.tell(s.format(b), { priority: 'low' });
      } catch (err) {
        if (err instanceof JameyError && err.code === 'JAMEY_ERR_MAILBOX_FULL') return;
        accepted = false;
      }
      s.queue.shift();
      if (accepted) s.delivered++;
      else dropFor(s, 'subscriber-overflow');
    }
  };

  const enqueue = (s: Subscription, b: Broadcast): void => {
    if (s.queue.size >= o.subscriberQueue) {
      s.queue.shift();
      dropFor(s, 'subscriber-overflow');
    }
    s.queue.push(b);
  };

  const pending = (): boolean => {
    for (const s of subscriptions.values()) if (s.queue.size > 0) return true;
    return false;
  };

  const spec: WorkspaceActor = {
    name: WORKSPACE_ACTOR,
    ...(deps.store === undefined ? {} : { dependsOn: ['store'] }),
    mailbox: { capacity: o.mailboxCapacity, overflow: 'drop-oldest' },
    counters,
    observer: undefined,
    cycleMs: o.cycleMs,
    subscriberDrops: () => drops,
    candidates: () => competition?.size ?? 0,
    start(ctx: ActorContext): Behavior<WorkspaceMessage, unknown> {
      const clock = ctx.clock;
      const c = new Competition(o.competition);
      competition = c;
      if (!loaded && deps.store !== undefined) {
        const rows = deps.store.reader.statement(HISTORY_QUERIES.recent).all(o.recent) as BroadcastRow[];
        recent = rows.reverse().map(fromRow);
        loaded = true;
      }
      const last = recent.at(-1);
      if (last !== undefined) {
        seq = Math.max(seq, last.seq);
        c.focus = { content: last.content };
      }
      let timer: unknown;
      const self = ctx.actor<WorkspaceMessage>(ctx.name);
      const cycleTimer = new CycleTimer(
        () => {
          timer = clock.setTimeout(() => {
            timer = undefined;
            try {
              self.tell({ type: 'tick' }, { priority: 'high' });
            } catch {
              // Closing: the workspace stops with its mailbox.
            }
          }, o.cycleMs);
        },
        () => {
          if (timer !== undefined) clock.clearTimeout(timer);
          timer = undefined;
        },
      );

      const fanOut = (b: Broadcast): string[] => {
        const to: string[] = [];
        for (const s of subscriptions.values()) {
          if (s.deliver !== undefined) {
            const deliver = s.deliver;
            s.delivered++;
            to.push(s.name);
            // A callback runs after the cycle, so a throwing one cannot break the broadcast.
            queueMicrotask(() => {
              try {
                deliver(b);
              } catch (err) {
                counters.callbackFailures++;
                deps.log?.warn('workspace subscriber failed', { subscriber: s.name, error: String(err) });
              }
            });
            continue;
          }
          if (!deps.isRunning(s.name)) {
            dropFor(s, 'subscriber-absent', 1 + s.queue.size);
            s.queue.clear();
            continue;
          }
          enqueue(s, b);
          flush(s, ctx.actor(s.name));
          to.push(s.name);
        }
        return to;
      };

      const persist = (b: Broadcast): void => {
        const store = deps.store;
        if (store === undefined) return;
        const row: BroadcastRow = {
          seq: b.seq,
          at: b.at,
          source: b.source,
          entity_id: b.entity,
          content: b.content,
          activation: b.activation,
          competitors: b.competitors,
        };
        store.write('workspace.record', row).catch((err: unknown) => {
          counters.historyWriteFailures++;
          deps.log?.warn('workspace history write failed', {
            code: (err as { code?: string }).code,
            error: String((err as Error).message ?? err),
          });
        });
      };

      const runCycle = (): CycleReport => {
        const now = clock.now();
        // Waiting broadcasts first, so each subscriber receives them in order.
        for (const s of subscriptions.values()) {
          if (s.queue.size === 0 || s.deliver !== undefined) continue;
          if (deps.isRunning(s.name)) flush(s, ctx.actor(s.name));
          else {
            dropFor(s, 'subscriber-absent', s.queue.size);
            s.queue.clear();
          }
        }
        const outcome = c.cycle(now);
        counters.dropped.faded += outcome.faded;
        if (outcome.competitors > 0) counters.cycles++;
        const w = outcome.winner;
        let broadcastTo: string[] = [];
        if (outcome.ignited && w !== null) {
          const b: Broadcast = {
            seq: ++seq,
            at: now,
            id: w.candidate.id,
            source: w.candidate.source,
            entity: w.candidate.entity ?? null,
            content: w.candidate.content,
            activation: w.activation,
            competitors: outcome.competitors,
          };
          recent.push(b);
          if (recent.length > o.recent) recent.shift();
          counters.broadcasts++;
          spec.observer?.broadcast(w.activation);
          broadcastTo = fanOut(b);
          persist(b);
        } else if (outcome.competitors > 0) {
          counters.ignitionFailures++;
        }
        cycleTimer.cycled(c.size > 0 || pending());
        return {
          winner:
            w === null
              ? null
              : {
                  id: w.candidate.id,
                  source: w.candidate.source,
                  content: w.candidate.content,
                  entity: w.candidate.entity ?? null,
                  activation: w.activation,
                },
          broadcast: outcome.ignited,
          competitors: outcome.competitors,
          activations: outcome.activations,
          broadcastTo,
        };
      };

      const state = (): WorkspaceState => ({
        focus: recent.at(-1) ?? null,
        lastSurprise,
        broadcasts: recent.slice().reverse(),
        cycleMs: o.cycleMs,
        capacity: o.competition.capacity,
        threshold: o.competition.threshold,
        candidates: c.size,
        counters: structuredClone(counters),
        subscribers: [...subscriptions.values()].map((s) => ({
          name: s.name,
          kind: s.deliver === undefined ? 'actor' : 'callback',
          pending: s.queue.size,
          delivered: s.delivered,
          dropped: s.dropped,
        })),
      });

      return {
        receive(msg) {
          switch (msg.type) {
            case 'post': {
              const input = msg.candidate;
              checkPost(input);
              const candidate: Candidate = {
                id: input.id ?? randomUUID(),
                source: input.source,
                content: input.content,
                salience: input.salience ?? {},
                postedAt: clock.now(),
                ...(input.entity === undefined ? {} : { entity: input.entity }),
                ...(input.embedding === undefined ? {} : { embedding: input.embedding }),
              };
              counters.posted++;
              const surprise = candidate.salience.surprise;
              if (typeof surprise === 'number' && Number.isFinite(surprise)) lastSurprise = surprise;
              const { reason } = c.post(candidate, clock.now());
              if (reason !== null) counters.dropped[reason]++;
              if (c.size > 0) cycleTimer.work();
              return candidate.id;
            }
            case 'cycle':
            case 'tick':
              return runCycle();
            case 'subscribe':
              if (typeof msg.name !== 'string' || msg.name.length === 0)
                throw new JameyError('JAMEY_ERR_VALIDATION', 'a subscription needs a name');
              subscribe(msg.key ?? msg.name, msg.name, msg.deliver, msg.format);
              return true;
            case 'unsubscribe':
              return subscriptions.delete(msg.key);
            case 'state':
              return state();
            default:
              throw new JameyError(
                'JAMEY_ERR_VALIDATION',
                `unknown workspace message "${String((msg as { type?: unknown }).type)}"`,
              );
          }
        },
        stop() {
          cycleTimer.stop();
          competition = undefined;
        },
      };
    },
  };
  return spec;
}

let callbackIds = 0;

/** The library's face of the workspace. */
export class WorkspaceClient {
  constructor(private readonly ref: ActorRef<WorkspaceMessage, unknown>) {}

  /** Posts a candidate (a tell: never waits); returns its id. */
  post(input: PostInput): string {
    const id = input.id ?? randomUUID();
    this.ref.tell({ type: 'post', candidate: { ...input, id } });
    return id;
  }

  /** Runs one competition now. */
  cycle(): Promise<CycleReport> {
    return this.ref.ask({ type: 'cycle' }) as Promise<CycleReport>;
  }

  state(): Promise<WorkspaceState> {
    return this.ref.ask({ type: 'state' }) as Promise<WorkspaceState>;
  }

  /**
   * Calls `callback` with every broadcast from now on; returns the function that ends the
   * subscription. `name` labels the subscriber in the state and the metrics.
   */
  subscribe(callback: (broadcast: Broadcast) => void, name = 'callback'): () => void {
    const key = `${name}#${++callbackIds}`;
    this.ref.tell({ type: 'subscribe', name, key, deliver: callback });
    return () => {
      this.ref.tell({ type: 'unsubscribe', key });
    };
  }
}
