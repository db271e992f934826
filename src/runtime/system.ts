/**
 * The actor system: registry by name, start in dependency order under the root supervisor, and
 * shutdown.
 *
 * - `start()` orders actors so that each starts after the actors it `dependsOn` (a stable
 *   topological sort: otherwise registration order), and waits for each to run before starting the
 *   next. `rest_for_one` uses this order.
 * - `close()` is graceful: intake stops (messages sent to a closed actor become dead letters), then
 *   actors are closed in reverse start order — dependents first, so a draining actor can still
 *   reach what it depends on — and each drains every message it accepted before it stops. Past
 *   `shutdownTimeoutMs` what is left is destroyed. `destroy(err)` fails what is pending at once.
 *   Both are idempotent.
 * - An escalation at the root marks the system not ready, with the reason.
 */
import { ActorHost, type ActorRef, type ActorSpec } from './actor.js';
import type { RandomSource } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { DeadLetters } from './dead-letters.js';
import { JameyError } from './errors.js';
import {
  defaultOptions,
  type MailboxOptions,
  type RetryOptions,
  type SupervisionOptions,
} from './options.js';
import { type ChildInfo, type Escalation, Supervisor } from './supervisor.js';

export type SystemState = 'new' | 'starting' | 'running' | 'closing' | 'closed' | 'destroyed';

export interface SystemOptions {
  clock: Clock;
  random: RandomSource;
  mailbox: MailboxOptions;
  sendRetry: RetryOptions;
  askDeadlineMs: number;
  supervision: SupervisionOptions;
  shutdownTimeoutMs: number;
  onEscalate?: (escalation: Escalation) => void;
  onChildCrash?: (child: string, error: JameyError) => void;
}

/**
 * System options from the runtime defaults (system clock, Math.random, the default mailbox, retry,
 * ask deadline and supervision), with `overrides` on top: for systems built outside a `Runtime`
 * (benchmarks, tests, tools).
 */
export function systemOptions(overrides: Partial<SystemOptions> = {}): SystemOptions {
  const d = defaultOptions();
  return {
    clock: systemClock,
    random: Math.random,
    mailbox: d.mailbox,
    sendRetry: d.sendRetry,
    askDeadlineMs: d.askDeadlineMs,
    supervision: d.supervision,
    shutdownTimeoutMs: d.shutdownTimeoutMs,
    ...overrides,
  };
}

/** Orders specs so each comes after its dependencies; stable otherwise. Throws on unknown names or cycles. */
export function startOrder(specs: readonly Pick<ActorSpec, 'name' | 'dependsOn'>[]): string[] {
  const names = new Set(specs.map((s) => s.name));
  for (const s of specs) {
    for (const d of s.dependsOn ?? []) {
      if (!names.has(d)) {
        throw new JameyError(
          'JAMEY_ERR_INVALID_OPTION',
          `actor "${s.name}" depends on "${d}", which is not registered`,
        );
      }
    }
  }
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < specs.length) {
    const next = specs.find((s) => !done.has(s.name) && (s.dependsOn ?? []).every((d) => done.has(d)));
    if (next === undefined) {
      const left = specs.filter((s) => !done.has(s.name)).map((s) => s.name);
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `actors depend on each other in a cycle: ${left.join(', ')}`,
      );
    }
    done.add(next.name);
    order.push(next.name);
  }
  return order;
}

export class ActorSystem {
  readonly deadLetters = new DeadLetters();
  readonly supervisor: Supervisor;
  state: SystemState = 'new';
  /** Set when the root supervisor escalated: the runtime is not ready. */
  escalation: Escalation | undefined;
  private readonly options: SystemOptions;
  private readonly registry = new Map<string, ActorHost>();
  private readonly specs: ActorSpec[] = [];
  private order: string[] = [];
  private closing: Promise<void> | undefined;
  private readonly lookup = (name: string): ActorRef => this.actor(name);
  private readonly hostListeners: Array<(host: ActorHost) => void> = [];

  constructor(options: SystemOptions) {
    this.options = options;
    this.supervisor = new Supervisor('root', options.supervision, {
      clock: options.clock,
      onEscalate: (e) => {
        this.escalation = e;
        options.onEscalate?.(e);
      },
      ...(options.onChildCrash === undefined ? {} : { onChildCrash: options.onChildCrash }),
    });
  }

  /** Registers an actor; before `start()` only. Returns its ref (usable once started; messages queue until then). */
  spawn<M, R>(spec: ActorSpec<M, R>): ActorRef<M, R> {
    if (this.state !== 'new') {
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `cannot add actor "${spec.name}": the system has already started`,
      );
    }
    if (typeof spec.name !== 'string' || spec.name.length === 0) {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', 'an actor needs a non-empty name');
    }
    if (this.registry.has(spec.name)) {
      throw new JameyError('JAMEY_ERR_INVALID_OPTION', `an actor named "${spec.name}" is already registered`);
    }
    const host = new ActorHost<M, R>(spec, {
      clock: this.options.clock,
      deadLetters: this.deadLetters,
      mailbox: this.options.mailbox,
      sendRetry: this.options.sendRetry,
      askDeadlineMs: this.options.askDeadlineMs,
      random: this.options.random,
      lookup: this.lookup,
    });
    this.registry.set(spec.name, host as unknown as ActorHost);
    this.specs.push(spec as unknown as ActorSpec);
    for (const l of this.hostListeners) l(host as unknown as ActorHost);
    return host;
  }

  /** The actor named `name`; JAMEY_ERR_ACTOR_NOT_FOUND if none. */
  actor<M = unknown, R = unknown>(name: string): ActorRef<M, R> {
    const host = this.registry.get(name);
    if (host === undefined) throw new JameyError('JAMEY_ERR_ACTOR_NOT_FOUND', `no actor named "${name}"`);
    return host as unknown as ActorRef<M, R>;
  }

  host(name: string): ActorHost | undefined {
    return this.registry.get(name);
  }

  hosts(): IterableIterator<ActorHost> {
    return this.registry.values();
  }

  onHost(listener: (host: ActorHost) => void): void {
    this.hostListeners.push(listener);
  }

  /** Start order (dependencies first); empty before `start()`. */
  get startOrder(): readonly string[] {
    return this.order;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    this.order = startOrder(this.specs);
    for (const name of this.order) this.supervisor.add(this.registry.get(name) as ActorHost);
    try {
      await this.supervisor.start();
    } catch (err) {
      if (this.state === 'starting') this.state = 'running';
      throw err;
    }
    if (this.state === 'starting') this.state = 'running';
  }

  isReady(): boolean {
    return this.state === 'running' && this.escalation === undefined;
  }

  /** Why the system is not ready, or undefined when it is. */
  notReadyReason(): string | undefined {
    if (this.escalation !== undefined) return `supervision escalated: ${this.escalation.reason}`;
    if (this.state !== 'running') return `runtime is ${this.state}`;
    return undefined;
  }

  supervision(): ChildInfo[] {
    return this.supervisor.inspect().children;
  }

  /** Graceful shutdown; see the module comment. Idempotent: later calls return the same promise. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.state === 'destroyed') return Promise.resolve();
    this.state = 'closing';
    this.closing = this.closeInOrder();
    return this.closing;
  }

  private async closeInOrder(): Promise<void> {
    const order = this.order.length > 0 ? this.order : [...this.registry.keys()];
    const drain = (async () => {
      for (const name of [...order].reverse()) await this.registry.get(name)?.close();
    })();
    let timer: unknown;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = this.options.clock.setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutMs);
    });
    const outcome = await Promise.race([drain.then(() => 'drained' as const), timeout]);
    this.options.clock.clearTimeout(timer);
    if (outcome === 'timeout') {
      this.destroyHosts(
        new JameyError(
          'JAMEY_ERR_SHUTTING_DOWN',
          `shutdown did not drain within ${this.options.shutdownTimeoutMs} ms`,
        ),
      );
    }
    this.supervisor.stop();
    if (this.state === 'closing') this.state = 'closed';
  }

  /** Immediate shutdown: pending asks fail with `err`, queued tells become dead letters. Idempotent. */
  destroy(err: JameyError = new JameyError('JAMEY_ERR_SHUTTING_DOWN')): void {
    if (this.state === 'destroyed') return;
    this.state = 'destroyed';
    this.destroyHosts(err);
    this.supervisor.stop();
  }

  private destroyHosts(err: JameyError): void {
    const order = this.order.length > 0 ? this.order : [...this.registry.keys()];
    for (const name of [...order].reverse()) this.registry.get(name)?.destroy(err);
  }
}
