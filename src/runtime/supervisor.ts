/**
 * Supervision with Erlang/OTP semantics, as an XState v5 statechart.
 *
 * Each child incarnation runs as a `fromPromise` actor spawned by the supervisor machine; its
 * failure reaches the machine as an `xstate.error.actor.<id>` event, and the machine decides
 * (OTP design principles, "Supervisor Behaviour"):
 * - strategy `one_for_one` restarts the failed child, `one_for_all` every child, `rest_for_one` the
 *   failed child and the children started after it (in start order; the others are stopped first,
 *   in reverse start order, and restarted in start order);
 * - restart intensity: more than `maxRestarts` restarts within `withinMs` and the supervisor gives
 *   up: it stops every child, fails them, and escalates to its parent (its own incarnation fails);
 *   at the root, escalation is reported to `onEscalate` (the runtime then reports not ready);
 * - between restarts a backoff, doubling per restart in the window, capped.
 *
 * Delays use the injected clock (XState's `clock` option), so tests drive them with a ManualClock.
 * (Supervision in the parent machine: xstate `createActor.ts`; OTP `supervisor.erl`.)
 */
import { type AnyActorRef, createActor, enqueueActions, fromPromise, setup } from 'xstate';
import type { Clock } from './clock.js';
import { JameyError, toJameyError } from './errors.js';
import type { SupervisionOptions } from './options.js';

export interface SupervisedChild {
  readonly name: string;
  /** One incarnation: rejects when it crashes, resolves when stopped (signal) or closed. */
  run(signal: AbortSignal): Promise<void>;
  /** Resolves when first running; rejects if it fails before. */
  whenReady(): Promise<void>;
  /** Supervision gave up: stay down, fail what is pending. */
  fail(err: JameyError): void;
}

export type ChildStatus = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export interface ChildInfo {
  name: string;
  status: ChildStatus;
  restarts: number;
  lastError?: string;
}

export interface Escalation {
  supervisor: string;
  child: string;
  reason: string;
  at: number;
}

interface SupervisorContext {
  order: string[];
  status: Record<string, ChildStatus>;
  generation: Record<string, number>;
  restartCount: Record<string, number>;
  lastError: Record<string, string>;
  /** Times of the restarts inside the intensity window. */
  window: number[];
  escalation: Escalation | undefined;
}

type SupervisorEvent =
  | { type: 'ADD_CHILD'; name: string }
  | { type: 'RESTART'; names: string[] }
  | { type: 'STOP' }
  | { type: `xstate.error.actor.${string}`; error: unknown }
  | { type: `xstate.done.actor.${string}`; output?: unknown };

export interface SupervisorDeps {
  clock: Clock;
  /** Called once when this supervisor gives up. */
  onEscalate?: (escalation: Escalation) => void;
  /** Called on every child crash (before the restart decision), for logs and metrics. */
  onChildCrash?: (child: string, error: JameyError) => void;
}

const childId = (name: string, generation: number): string => `${name}#${generation}`;

function parseChildId(type: string, prefix: string): { name: string; generation: number } | undefined {
  const id = type.slice(prefix.length);
  const hash = id.lastIndexOf('#');
  if (hash < 0) return undefined;
  return { name: id.slice(0, hash), generation: Number(id.slice(hash + 1)) };
}

const ERROR_PREFIX = 'xstate.error.actor.';
const DONE_PREFIX = 'xstate.done.actor.';

/** Which children a crash of `failed` restarts, in start order. */
export function childrenToRestart(
  strategy: SupervisionOptions['strategy'],
  order: readonly string[],
  status: Readonly<Record<string, ChildStatus>>,
  failed: string,
): string[] {
  const live = (n: string): boolean => n === failed || status[n] === 'running' || status[n] === 'starting';
  if (strategy === 'one_for_one') return [failed];
  if (strategy === 'one_for_all') return order.filter(live);
  const index = order.indexOf(failed);
  return order.slice(index).filter(live);
}

export function createSupervisorMachine(
  name: string,
  options: SupervisionOptions,
  children: ReadonlyMap<string, SupervisedChild>,
  deps: SupervisorDeps,
) {
  const incarnation = fromPromise<void, { child: SupervisedChild }>(({ input, signal }) =>
    input.child.run(signal),
  );

  return setup({
    types: {
      context: {} as SupervisorContext,
      events: {} as SupervisorEvent,
    },
    actors: { incarnation },
    guards: {
      stale: ({ context, event }) => {
        const parsed = parseChildId(event.type, ERROR_PREFIX);
        if (parsed === undefined) return true;
        const s = context.status[parsed.name];
        return context.generation[parsed.name] !== parsed.generation || (s !== 'running' && s !== 'starting');
      },
      intensityExceeded: ({ context }) => {
        const now = deps.clock.now();
        const recent = context.window.filter((t) => now - t < options.withinMs);
        return recent.length >= options.maxRestarts;
      },
    },
    actions: {
      addChild: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ADD_CHILD') return;
        const child = children.get(event.name);
        if (child === undefined) return;
        const generation = (context.generation[event.name] ?? -1) + 1;
        enqueue.assign({
          order: context.order.includes(event.name) ? context.order : [...context.order, event.name],
          status: { ...context.status, [event.name]: 'running' },
          generation: { ...context.generation, [event.name]: generation },
          restartCount: { ...context.restartCount, [event.name]: context.restartCount[event.name] ?? 0 },
        });
        enqueue.spawnChild('incarnation', { id: childId(event.name, generation), input: { child } });
      }),
      recordCrash: enqueueActions(({ context, event, enqueue }) => {
        const parsed = parseChildId(event.type, ERROR_PREFIX);
        if (parsed === undefined) return;
        const error = toJameyError((event as { error?: unknown }).error, 'JAMEY_ERR_ACTOR_CRASHED');
        deps.onChildCrash?.(parsed.name, error);
        enqueue.assign({
          lastError: { ...context.lastError, [parsed.name]: error.message },
          status: { ...context.status, [parsed.name]: 'restarting' },
        });
      }),
      planRestart: enqueueActions(({ context, event, enqueue }) => {
        const parsed = parseChildId(event.type, ERROR_PREFIX);
        if (parsed === undefined) return;
        const now = deps.clock.now();
        const window = [...context.window.filter((t) => now - t < options.withinMs), now];
        const names = childrenToRestart(options.strategy, context.order, context.status, parsed.name);
        const status = { ...context.status };
        const restartCount = { ...context.restartCount };
        // Stop the affected siblings in reverse start order; the failed one has already ended.
        for (const n of [...names].reverse()) {
          if (n !== parsed.name && (status[n] === 'running' || status[n] === 'starting')) {
            enqueue.stopChild(childId(n, context.generation[n] ?? 0));
          }
          status[n] = 'restarting';
          restartCount[n] = (restartCount[n] ?? 0) + 1;
        }
        enqueue.assign({ window, status, restartCount });
        const delay = Math.min(options.backoffMaxMs, options.backoffInitialMs * 2 ** (window.length - 1));
        enqueue.raise({ type: 'RESTART', names }, { delay });
      }),
      respawn: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'RESTART') return;
        const status = { ...context.status };
        const generation = { ...context.generation };
        for (const n of event.names) {
          const child = children.get(n);
          if (child === undefined || status[n] !== 'restarting') continue;
          generation[n] = (generation[n] ?? 0) + 1;
          status[n] = 'running';
          enqueue.spawnChild('incarnation', { id: childId(n, generation[n]), input: { child } });
        }
        enqueue.assign({ status, generation });
      }),
      markDone: enqueueActions(({ context, event, enqueue }) => {
        const parsed = parseChildId(event.type, DONE_PREFIX);
        if (parsed === undefined || context.generation[parsed.name] !== parsed.generation) return;
        enqueue.assign({ status: { ...context.status, [parsed.name]: 'stopped' } });
      }),
      escalate: enqueueActions(({ context, event, enqueue }) => {
        const parsed = parseChildId(event.type, ERROR_PREFIX);
        const child = parsed?.name ?? '?';
        const reason = `${context.window.length + 1} restarts within ${options.withinMs} ms (limit ${options.maxRestarts}); last: ${child}: ${context.lastError[child] ?? 'crashed'}`;
        const escalation: Escalation = { supervisor: name, child, reason, at: deps.clock.now() };
        const status = { ...context.status };
        for (const n of [...context.order].reverse()) {
          if (status[n] === 'running' || status[n] === 'starting') {
            enqueue.stopChild(childId(n, context.generation[n] ?? 0));
          }
          status[n] = 'failed';
        }
        enqueue.assign({ status, escalation });
        enqueue(() => deps.onEscalate?.(escalation));
      }),
      stopAll: enqueueActions(({ context, enqueue }) => {
        const status = { ...context.status };
        for (const n of [...context.order].reverse()) {
          if (status[n] === 'running' || status[n] === 'starting') {
            enqueue.stopChild(childId(n, context.generation[n] ?? 0));
          }
          if (status[n] !== 'failed') status[n] = 'stopped';
        }
        enqueue.assign({ status });
      }),
    },
  }).createMachine({
    id: name,
    context: {
      order: [],
      status: {},
      generation: {},
      restartCount: {},
      lastError: {},
      window: [],
      escalation: undefined,
    },
    initial: 'running',
    states: {
      running: {
        on: {
          ADD_CHILD: { actions: 'addChild' },
          'xstate.error.actor.*': [
            { guard: 'stale' },
            { guard: 'intensityExceeded', target: 'escalated', actions: ['recordCrash', 'escalate'] },
            { actions: ['recordCrash', 'planRestart'] },
          ],
          'xstate.done.actor.*': { actions: 'markDone' },
          RESTART: { actions: 'respawn' },
          STOP: 'stopped',
        },
      },
      escalated: {
        on: { STOP: 'stopped' },
      },
      stopped: {
        type: 'final',
        entry: 'stopAll',
      },
    },
  });
}

export type SupervisorMachine = ReturnType<typeof createSupervisorMachine>;

/**
 * A supervisor: owns its children, runs the statechart, and can itself be supervised (it is a
 * `SupervisedChild`: when it escalates, its incarnation fails and its parent decides).
 */
export class Supervisor implements SupervisedChild {
  readonly name: string;
  readonly options: SupervisionOptions;
  private readonly deps: SupervisorDeps;
  private readonly children = new Map<string, SupervisedChild>();
  private readonly order: string[] = [];
  private actor: ReturnType<typeof createActor<SupervisorMachine>> | undefined;
  private escalation: Escalation | undefined;
  private escalationListeners: Array<(e: Escalation) => void> = [];
  private ready: Promise<void> | undefined;
  private failed: JameyError | undefined;
  private nested = false;

  constructor(name: string, options: SupervisionOptions, deps: SupervisorDeps) {
    this.name = name;
    this.options = options;
    this.deps = deps;
  }

  /** Adds a child; children start in the order they were added. */
  add(child: SupervisedChild): void {
    if (this.children.has(child.name)) {
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `supervisor "${this.name}" already has a child "${child.name}"`,
      );
    }
    this.children.set(child.name, child);
    this.order.push(child.name);
  }

  /** Starts the statechart and every child in order, each once the previous is running. */
  start(): Promise<void> {
    if (this.ready !== undefined) return this.ready;
    this.escalation = undefined;
    const machine = createSupervisorMachine(this.name, this.options, this.children, {
      ...this.deps,
      onEscalate: (e) => this.escalated(e),
    });
    const actor = createActor(machine, { clock: this.deps.clock as never });
    // Every root actor has an error observer: an error inside the machine itself is an escalation.
    actor.subscribe({
      error: (err) =>
        this.escalated({
          supervisor: this.name,
          child: '(supervisor)',
          reason: toJameyError(err).message,
          at: this.deps.clock.now(),
        }),
    });
    this.actor = actor;
    actor.start();
    this.ready = (async () => {
      for (const name of this.order) {
        actor.send({ type: 'ADD_CHILD', name });
        await (this.children.get(name) as SupervisedChild).whenReady();
      }
    })();
    return this.ready;
  }

  /**
   * Under a parent, escalating ends this incarnation (the machine has stopped the children) and the
   * parent decides. At the root there is no one to decide: the children fail for good.
   */
  private escalated(e: Escalation): void {
    this.escalation = e;
    if (!this.nested) {
      const err = new JameyError('JAMEY_ERR_ESCALATED', `supervisor "${this.name}" escalated: ${e.reason}`, {
        details: e,
      });
      for (const n of [...this.order].reverse()) this.children.get(n)?.fail(err);
    }
    this.deps.onEscalate?.(e);
    for (const l of this.escalationListeners.splice(0)) l(e);
  }

  whenReady(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return this.ready ?? new Promise<void>(() => undefined);
  }

  /** As a child of another supervisor: one incarnation of this whole subtree. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.failed !== undefined) return;
    this.nested = true;
    this.ready = undefined;
    const escalated = new Promise<never>((_, reject) => {
      this.escalationListeners.push((e) =>
        reject(
          new JameyError('JAMEY_ERR_ESCALATED', `supervisor "${this.name}" escalated: ${e.reason}`, {
            details: e,
          }),
        ),
      );
    });
    escalated.catch(() => undefined);
    const stopped = new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    const ready = this.start();
    ready.catch(() => undefined);
    await Promise.race([escalated, stopped]);
    this.stop();
  }

  fail(err: JameyError): void {
    this.failed = err;
    for (const name of [...this.order].reverse()) this.children.get(name)?.fail(err);
    this.stop();
  }

  /** Stops the statechart and every child incarnation (it does not drain: see ActorSystem.close). */
  stop(): void {
    const actor = this.actor;
    if (actor === undefined) return;
    this.actor = undefined;
    actor.send({ type: 'STOP' });
    actor.stop();
  }

  /** Supervision state of every child, in start order. */
  inspect(): {
    state: 'idle' | 'running' | 'escalated' | 'stopped';
    children: ChildInfo[];
    escalation?: Escalation;
  } {
    const snap = this.actor?.getSnapshot();
    const ctx = snap?.context;
    const children: ChildInfo[] = this.order.map((name) => {
      const info: ChildInfo = {
        name,
        status: ctx?.status[name] ?? (this.failed ? 'failed' : 'stopped'),
        restarts: ctx?.restartCount[name] ?? 0,
      };
      const lastError = ctx?.lastError[name];
      if (lastError !== undefined) info.lastError = lastError;
      return info;
    });
    const state =
      snap === undefined
        ? this.escalation
          ? 'escalated'
          : 'idle'
        : (snap.value as 'running' | 'escalated' | 'stopped');
    const out: ReturnType<Supervisor['inspect']> = { state, children };
    if (this.escalation !== undefined) out.escalation = this.escalation;
    return out;
  }

  /** The XState actor, for inspection in tests and tools. */
  get machineActor(): AnyActorRef | undefined {
    return this.actor;
  }
}
