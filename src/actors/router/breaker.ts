/**
 * Health of one model as a circuit breaker (Nygard, "Release It!", ch. 5; the closed → open →
 * half-open cycle as in resilience4j and opossum), described as an XState statechart.
 *
 * - closed: requests pass; `threshold` consecutive retryable failures open the breaker.
 * - open: requests are refused until `cooldownMs` has passed since it opened; then the next request
 *   is let through as the probe and the breaker is half-open.
 * - half-open: only the probe is in flight; its success closes the breaker, its failure opens it
 *   again with the cooldown doubled (up to `maxCooldownMs`), so a model that stays down is probed
 *   less and less often.
 *
 * Time comes in with the events (the router's injected clock), so the machine has no timers and a
 * test moves it with a manual clock. Events cost a few microseconds; a success in the closed state
 * with no failures counted sends none.
 */
import { type ActorRefFrom, assign, createActor, setup } from 'xstate';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 5 */
  readonly threshold: number;
  /** Time open before a probe. @default 30000 */
  readonly cooldownMs: number;
  /** Longest cooldown after repeated failed probes. @default 300000 */
  readonly maxCooldownMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: Readonly<BreakerOptions> = Object.freeze({
  threshold: 5,
  cooldownMs: 30_000,
  maxCooldownMs: 300_000,
});

interface BreakerContext {
  failures: number;
  openedAt: number;
  cooldownMs: number;
  readonly options: BreakerOptions;
}

type BreakerEvent =
  | { type: 'SUCCESS' }
  | { type: 'FAILURE'; now: number }
  | { type: 'TRY'; now: number }
  | { type: 'RELEASE' };

export const breakerMachine = setup({
  types: {
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
    input: {} as BreakerOptions,
  },
  guards: {
    tripped: ({ context }) => context.failures + 1 >= context.options.threshold,
    cooled: ({ context, event }) =>
      event.type === 'TRY' && event.now - context.openedAt >= context.cooldownMs,
  },
  actions: {
    countFailure: assign({ failures: ({ context }) => context.failures + 1 }),
    reset: assign({
      failures: 0,
      cooldownMs: ({ context }) => context.options.cooldownMs,
    }),
    open: assign({
      failures: ({ context }) => context.failures + 1,
      openedAt: ({ event }) => (event.type === 'FAILURE' ? event.now : 0),
    }),
    reopen: assign({
      openedAt: ({ event }) => (event.type === 'FAILURE' ? event.now : 0),
      cooldownMs: ({ context }) => Math.min(context.cooldownMs * 2, context.options.maxCooldownMs),
    }),
  },
}).createMachine({
  id: 'breaker',
  initial: 'closed',
  context: ({ input }) => ({ failures: 0, openedAt: 0, cooldownMs: input.cooldownMs, options: input }),
  states: {
    closed: {
      on: {
        SUCCESS: { actions: 'reset' },
        FAILURE: [{ guard: 'tripped', target: 'open', actions: 'open' }, { actions: 'countFailure' }],
      },
    },
    open: {
      on: { TRY: { guard: 'cooled', target: 'halfOpen' } },
    },
    halfOpen: {
      on: {
        SUCCESS: { target: 'closed', actions: 'reset' },
        FAILURE: { target: 'open', actions: 'reopen' },
        // The probe ended without a verdict (the caller went away): the next request probes again.
        RELEASE: { target: 'open' },
      },
    },
  },
});

export class CircuitBreaker {
  readonly #actor: ActorRefFrom<typeof breakerMachine>;

  constructor(options: BreakerOptions = DEFAULT_BREAKER_OPTIONS) {
    this.#actor = createActor(breakerMachine, { input: options });
    this.#actor.start();
  }

  get state(): BreakerState {
    const v = this.#actor.getSnapshot().value;
    return v === 'halfOpen' ? 'half-open' : v;
  }

  /** Consecutive failures counted so far. */
  get failures(): number {
    return this.#actor.getSnapshot().context.failures;
  }

  /** When an open breaker lets its next probe through. */
  get retryAt(): number | undefined {
    const s = this.#actor.getSnapshot();
    return s.value === 'open' ? s.context.openedAt + s.context.cooldownMs : undefined;
  }

  /**
   * Whether a request may go to the model now. An open breaker whose cooldown has passed turns
   * half-open and lets this one request through as its probe.
   */
  tryAcquire(now: number): boolean {
    const s = this.#actor.getSnapshot();
    if (s.value === 'closed') return true;
    if (s.value === 'halfOpen') return false;
    this.#actor.send({ type: 'TRY', now });
    return this.#actor.getSnapshot().value === 'halfOpen';
  }

  /** Whether the model could be tried now (without taking the probe). */
  available(now: number): boolean {
    const s = this.#actor.getSnapshot();
    if (s.value === 'closed') return true;
    if (s.value === 'halfOpen') return false;
    return now - s.context.openedAt >= s.context.cooldownMs;
  }

  success(): void {
    const s = this.#actor.getSnapshot();
    if (s.value === 'closed' && s.context.failures === 0) return;
    this.#actor.send({ type: 'SUCCESS' });
  }

  /** The probe (if one is out) ended without telling success from failure. */
  release(): void {
    if (this.#actor.getSnapshot().value === 'halfOpen') this.#actor.send({ type: 'RELEASE' });
  }

  failure(now: number): void {
    this.#actor.send({ type: 'FAILURE', now });
  }

  stop(): void {
    this.#actor.stop();
  }
}
