/**
 * The `integrated-info` actor: Φ on request (message `phi`) and the live Φ of the runtime itself.
 *
 * Live Φ: every `tickMs` the actor samples each other actor of the runtime from its host's plain
 * counters (active = processed a message since the last tick, or has a handler running or messages
 * waiting) and records the tick (live-estimator.ts). Every `computeEveryMs` it picks at most
 * `maxNodes` actors whose activity varied, estimates their state-by-node TPM with Laplace smoothing,
 * takes the connectivity as fully connected (or from `connections` when known), and computes big Φ
 * of the current state in the worker pool: exact when the measured worst case for that many nodes
 * fits `liveDeadlineMs` with `liveWorkers` threads, otherwise PyPhi's cut-one approximation (an upper
 * bound of exact Φ; its error on estimated TPMs is measured in bench/phi.ts and docs/phi.md). A smoothed
 * estimate is dense and noisy, close to the worst case, hence the default of 5 nodes.
 *
 * Fallbacks never crash the actor: fewer than 2 varying actors, or fewer than `minTransitions`
 * observed transitions, give Φ = 0 with a `reason`; an unreachable current state (possible only with
 * `smoothing: 0`) gives Φ = 0 with reason `state-unreachable`; a failed computation (deadline, pool)
 * keeps the previous snapshot and records the error in `lastError` and in the metrics. A live
 * computation never starts while the previous one runs.
 *
 * The snapshot and the activity history live in the factory's closure, so they outlive restarts of
 * the actor (they are derived observations, cheap to lose with the process).
 */

import type { ActorSpec, Behavior } from '../../runtime/actor.js';
import { JameyError, toJameyError } from '../../runtime/errors.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { CutJson, SiaResult, SubsystemInput } from './big-phi.js';
import { ActivityHistory, connectivity, estimateTpm } from './live-estimator.js';
import { observed, type PhiMetrics, phiMetrics } from './phi-metrics.js';
import { computePhi, type PhiOutcome, worstMs } from './phi-service.js';

export const INTEGRATED_INFO = 'integrated-info';

/** Longest request deadline the actor and the HTTP route accept (ms). */
export const MAX_REQUEST_DEADLINE_MS = 60_000;

export interface IntegratedInfoOptions {
  /** @default 'integrated-info' */
  name?: string;
  /** Observe and compute live Φ. @default true */
  live?: boolean;
  /** Sampling period of the actors' activity (ms). @default 1000 */
  tickMs?: number;
  /** Period of the live Φ computation (ms). @default 10000 */
  computeEveryMs?: number;
  /** Deadline of one live computation (ms). @default computeEveryMs */
  liveDeadlineMs?: number;
  /** Pool threads a live computation may use at once; the rest stay free for requests. @default 1 */
  liveWorkers?: number;
  /** Most actors taken as nodes (2 to 7). @default 5 */
  maxNodes?: number;
  /** Ticks kept for the estimate. @default 600 */
  window?: number;
  /** Laplace pseudo-count α. @default 1 */
  smoothing?: number;
  /** Transitions needed before a live Φ is computed. @default 10 */
  minTransitions?: number;
  /** Known directed connections between actors (by name); fully connected when omitted. */
  connections?: readonly (readonly [string, string])[];
  /** Deadline of a `phi` request when it gives none (ms). @default 60000 */
  requestDeadlineMs?: number;
  /**
   * Replaces the sampling of the runtime's hosts: returns each observed actor's activity for the
   * tick (tests drive the estimator with it; other sources of activity can too).
   */
  sampler?: () => ReadonlyMap<string, boolean>;
}

export type PhiMethod = 'exact' | 'cut-one';

/** What `/v1/consciousness` reports: the last live Φ. Cut and nodes are actor names. */
export interface PhiSnapshot {
  phi: number;
  cut: { from: string[]; to: string[] } | null;
  nodes: string[];
  state: number[];
  method: PhiMethod;
  /** ISO time on the runtime clock. */
  computedAt: string;
  elapsedMs: number;
  /** Transitions the TPM was estimated from. */
  transitions: number;
  /** Why Φ is 0 without a computation: too-few-nodes, warming-up or state-unreachable. */
  reason?: string;
  /** The last live computation that failed (the snapshot is then from an earlier one). */
  lastError?: { code: string; message: string; at: string };
}

export interface PhiRequest {
  input: SubsystemInput;
  complex?: boolean | undefined;
  deadlineMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export type IntegratedInfoMessage =
  | ({ type: 'phi' } & Omit<PhiRequest, 'signal'>)
  | { type: 'snapshot' }
  /** Samples the actors now and, if due, starts a live computation (tests and manual clocks). */
  | { type: 'tick' };

export type IntegratedInfoReply = PhiOutcome | PhiSnapshot | null;

export interface IntegratedInfoActor extends ActorSpec<IntegratedInfoMessage, IntegratedInfoReply> {
  /** The last live Φ, or null before the first computation. */
  snapshot(): PhiSnapshot | null;
  /** The activity history (read-only use). */
  readonly history: ActivityHistory;
  /** Resolves when the running live computation (if any) has settled. */
  settled(): Promise<void>;
}

interface Resolved {
  live: boolean;
  tickMs: number;
  computeEveryMs: number;
  liveDeadlineMs: number;
  liveWorkers: number;
  maxNodes: number;
  window: number;
  smoothing: number;
  minTransitions: number;
  connections: readonly (readonly [string, string])[] | undefined;
  requestDeadlineMs: number;
}

function option(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    throw new JameyError(
      'JAMEY_ERR_INVALID_OPTION',
      `option "${name}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

function resolve(o: IntegratedInfoOptions): Resolved {
  const tickMs = option('tickMs', o.tickMs, 1000, 1, 3_600_000);
  const computeEveryMs = option('computeEveryMs', o.computeEveryMs, 10_000, tickMs, 86_400_000);
  return {
    live: o.live ?? true,
    tickMs,
    computeEveryMs,
    liveDeadlineMs: option('liveDeadlineMs', o.liveDeadlineMs, computeEveryMs, 1, 3_600_000),
    liveWorkers: option('liveWorkers', o.liveWorkers, 1, 1, 1024, true),
    maxNodes: option('maxNodes', o.maxNodes, 5, 2, 7, true),
    window: option('window', o.window, 600, 2, 1_000_000, true),
    smoothing: option('smoothing', o.smoothing, 1, 0, 1e6),
    minTransitions: option('minTransitions', o.minTransitions, 10, 1, 1_000_000, true),
    connections: o.connections,
    requestDeadlineMs: option(
      'requestDeadlineMs',
      o.requestDeadlineMs,
      MAX_REQUEST_DEADLINE_MS,
      1,
      MAX_REQUEST_DEADLINE_MS,
    ),
  };
}

/** Exact when its worst case fits the deadline, else the cut-one approximation. */
export function liveMethod(k: number, deadlineMs: number, workers: number): PhiMethod {
  return worstMs(k, workers) <= deadlineMs ? 'exact' : 'cut-one';
}

/**
 * Φ on request through the pool, with the request metrics: the one code path of the `phi` message
 * and of the HTTP route when no actor is registered.
 */
export function requestPhi(
  runtime: Runtime,
  request: PhiRequest,
  defaultDeadlineMs = MAX_REQUEST_DEADLINE_MS,
) {
  const metrics = phiMetrics(runtime.metrics.registry);
  return observed(metrics, 'request', () =>
    computePhi(runtime.pool, request.input, {
      complex: request.complex,
      deadlineMs: request.deadlineMs ?? defaultDeadlineMs,
      signal: request.signal,
    }),
  );
}

function namesOf(indices: readonly number[], nodes: readonly string[]): string[] {
  return indices.map((i) => nodes[i]!);
}

function cutNames(cut: CutJson | null, nodes: readonly string[]): PhiSnapshot['cut'] {
  return cut === null ? null : { from: namesOf(cut.from, nodes), to: namesOf(cut.to, nodes) };
}

/** Builds the actor spec; register it with `runtime.spawn(createIntegratedInfoActor(runtime))`. */
export function createIntegratedInfoActor(
  runtime: Runtime,
  options: IntegratedInfoOptions = {},
): IntegratedInfoActor {
  const name = options.name ?? INTEGRATED_INFO;
  const o = resolve(options);
  const metrics: PhiMetrics = phiMetrics(runtime.metrics.registry);
  const history = new ActivityHistory(o.window);
  const lastProcessed = new Map<string, number>();
  const computeEveryTicks = Math.max(1, Math.round(o.computeEveryMs / o.tickMs));
  let ticks = 0;
  let last: PhiSnapshot | null = null;
  let running: Promise<void> | null = null;
  const isoNow = (): string => new Date(runtime.clock.now()).toISOString();

  const sampleHosts = (): ReadonlyMap<string, boolean> => {
    const activity = new Map<string, boolean>();
    for (const host of runtime.system.hosts()) {
      if (host.name === name) continue;
      const before = lastProcessed.get(host.name);
      lastProcessed.set(host.name, host.processed);
      const processed = before === undefined ? false : host.processed > before;
      activity.set(host.name, processed || host.inFlight > 0 || host.mailbox.size > 0);
    }
    return activity;
  };
  const sample = (): void => history.record(options.sampler?.() ?? sampleHosts());

  const publish = (snapshot: PhiSnapshot): void => {
    last = snapshot;
    metrics.phi.set(snapshot.phi);
  };

  const fallback = (nodes: string[], state: number[], transitions: number, reason: string): PhiSnapshot => ({
    phi: 0,
    cut: null,
    nodes,
    state,
    method: 'exact',
    computedAt: isoNow(),
    elapsedMs: 0,
    transitions,
    reason,
  });

  /** One live computation; never throws. */
  const computeLive = async (): Promise<void> => {
    const nodes = history.selectNodes(o.maxNodes);
    const current = history.last();
    const state = nodes.map((n) => (current?.get(n) ? 1 : 0));
    if (nodes.length < 2) {
      publish(fallback(nodes, state, 0, 'too-few-nodes'));
      return;
    }
    const estimate = estimateTpm(history.states(nodes), nodes.length, o.smoothing);
    if (estimate.transitions < o.minTransitions) {
      publish(fallback(nodes, state, estimate.transitions, 'warming-up'));
      return;
    }
    const method = liveMethod(nodes.length, o.liveDeadlineMs, o.liveWorkers);
    const input: SubsystemInput = { tpm: estimate.tpm, cm: connectivity(nodes, o.connections), state };
    try {
      const r: SiaResult & { elapsedMs: number } = await observed(metrics, 'live', () =>
        computePhi(runtime.pool, input, {
          deadlineMs: o.liveDeadlineMs,
          workers: o.liveWorkers,
          cutOneApproximation: method === 'cut-one',
        }),
      );
      publish({
        phi: r.phi,
        cut: cutNames(r.cut, nodes),
        nodes,
        state,
        method,
        computedAt: isoNow(),
        elapsedMs: r.elapsedMs,
        transitions: estimate.transitions,
      });
    } catch (err) {
      const e = toJameyError(err);
      if (e.code === 'JAMEY_ERR_STATE_UNREACHABLE') {
        publish(fallback(nodes, state, estimate.transitions, 'state-unreachable'));
      } else if (last !== null) {
        last = { ...last, lastError: { code: e.code, message: e.message, at: isoNow() } };
      } else {
        last = {
          ...fallback(nodes, state, estimate.transitions, 'failed'),
          lastError: { code: e.code, message: e.message, at: isoNow() },
        };
      }
    }
  };

  const tick = (): void => {
    sample();
    ticks++;
    if (ticks % computeEveryTicks === 0 && running === null) {
      running = computeLive().finally(() => {
        running = null;
      });
    }
  };

  const spec: IntegratedInfoActor = {
    name,
    // Requests wait on the pool, not on this thread: several may run while snapshots are answered.
    concurrency: 8,
    history,
    snapshot: () => last,
    settled: () => running ?? Promise.resolve(),
    start(ctx): Behavior<IntegratedInfoMessage, IntegratedInfoReply> {
      let timer: unknown;
      let stopped = false;
      const schedule = (): void => {
        if (stopped || !o.live) return;
        timer = ctx.clock.setTimeout(() => {
          tick();
          schedule();
        }, o.tickMs);
      };
      schedule();
      return {
        receive(message, ask): Promise<IntegratedInfoReply> | IntegratedInfoReply {
          switch (message?.type) {
            case 'snapshot':
              return last;
            case 'tick':
              tick();
              return last;
            case 'phi':
              return requestPhi(
                runtime,
                {
                  input: message.input,
                  complex: message.complex,
                  deadlineMs: message.deadlineMs ?? o.requestDeadlineMs,
                  signal: ask?.signal,
                },
                o.requestDeadlineMs,
              );
            default:
              throw new JameyError('JAMEY_ERR_VALIDATION', 'unknown message', {
                details: [{ path: 'type', problem: "must be 'phi', 'snapshot' or 'tick'" }],
              });
          }
        },
        stop(): void {
          stopped = true;
          if (timer !== undefined) ctx.clock.clearTimeout(timer);
        },
      };
    },
  };
  return spec;
}
