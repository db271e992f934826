/**
 * The runtime: options, clock, metrics, the actor system under its root supervisor, and the worker
 * pool, with one lifecycle. This kernel knows nothing of the AI domain; subsystems are actors
 * registered with `spawn` before `start()`.
 */
import type { ActorRef, ActorSpec } from './actor.js';
import type { RandomSource } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { JameyError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { RuntimeMetrics } from './metrics.js';
import { type RuntimeOptions, type RuntimeOptionsInput, resolveOptions } from './options.js';
import { TaskPool } from './pool.js';
import type { ChildInfo, Escalation } from './supervisor.js';
import { ActorSystem, type SystemState } from './system.js';

export interface RuntimeDeps {
  /** @default systemClock */
  clock?: Clock;
  /** Jitter source for backoff. @default Math.random */
  random?: RandomSource;
  logger?: Logger;
  /** Collect prom-client's default process metrics. @default true */
  defaultMetrics?: boolean;
}

export interface Health {
  /** The process answers (what /healthz reports). */
  live: boolean;
  /** The runtime can serve (what /readyz reports). */
  ready: boolean;
  state: SystemState;
  /** Why it is not ready. */
  reason?: string;
  escalation?: Escalation;
  actors: ChildInfo[];
}

export class Runtime {
  readonly options: Readonly<RuntimeOptions>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  readonly system: ActorSystem;
  readonly pool: TaskPool;
  private closed: Promise<void> | undefined;

  constructor(input: RuntimeOptionsInput = {}, deps: RuntimeDeps = {}) {
    this.options = resolveOptions(input);
    this.clock = deps.clock ?? systemClock;
    this.log = deps.logger ?? createLogger(this.options.logLevel);
    this.metrics = new RuntimeMetrics({ defaultMetrics: deps.defaultMetrics ?? true });
    this.system = new ActorSystem({
      clock: this.clock,
      random: deps.random ?? Math.random,
      mailbox: this.options.mailbox,
      sendRetry: this.options.sendRetry,
      askDeadlineMs: this.options.askDeadlineMs,
      supervision: this.options.supervision,
      shutdownTimeoutMs: this.options.shutdownTimeoutMs,
      onEscalate: (e) => this.log.error('supervision escalated: runtime not ready', { ...e }),
      onChildCrash: (child, err) =>
        this.log.warn('actor crashed', { actor: child, code: err.code, error: err.message }),
    });
    this.pool = new TaskPool(this.options.pool, this.clock);
    this.metrics.bindSystem({
      hosts: () => this.system.hosts(),
      deadLetters: this.system.deadLetters,
      supervision: () => this.system.supervision(),
      isReady: () => this.system.isReady(),
    });
    this.system.onHost((h) => this.metrics.bindHost(h));
    this.metrics.bindPool(this.pool);
  }

  spawn<M, R>(spec: ActorSpec<M, R>): ActorRef<M, R> {
    return this.system.spawn(spec);
  }

  actor<M = unknown, R = unknown>(name: string): ActorRef<M, R> {
    return this.system.actor<M, R>(name);
  }

  start(): Promise<void> {
    return this.system.start();
  }

  health(): Health {
    const ready = this.system.isReady();
    const h: Health = { live: true, ready, state: this.system.state, actors: this.system.supervision() };
    const reason = this.system.notReadyReason();
    if (reason !== undefined) h.reason = reason;
    if (this.system.escalation !== undefined) h.escalation = this.system.escalation;
    return h;
  }

  /** Graceful: drains every mailbox in reverse start order, then lets pool tasks finish. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.system.close();
      await this.pool.close();
    })();
    return this.closed;
  }

  /** Immediate: fails what is pending with `err`. Idempotent. */
  async destroy(err: JameyError = new JameyError('JAMEY_ERR_SHUTTING_DOWN')): Promise<void> {
    this.system.destroy(err);
    await this.pool.destroy();
  }
}

/** Builds a runtime (not started): register actors with `spawn`, then `start()`. */
export function createRuntime(input?: RuntimeOptionsInput, deps?: RuntimeDeps): Runtime {
  return new Runtime(input, deps);
}
