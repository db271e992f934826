/**
 * The actor host: a bounded priority mailbox drained one message at a time (or up to a declared
 * concurrency for I/O-bound actors) into the actor's `receive` function.
 *
 * - `tell` is synchronous: true when queued, false when the message went to dead letters or was
 *   dropped by a drop policy; a full mailbox under the `reject` policy throws JAMEY_ERR_MAILBOX_FULL.
 * - `send` is `tell` with retry on a full mailbox: exponential backoff with jitter (initial 50 ms,
 *   max 500 ms, factor 2, 3 retries by default), then the error.
 * - `ask` returns the handler's result. It has a deadline (default 30 s) and an optional AbortSignal;
 *   a reply that arrives after either is dropped and counted (`lateReplies`), never delivered twice.
 *   An ask that expires while still queued is skipped without running the handler.
 *
 * Failure semantics (Erlang/OTP's "let it crash"): a handler that throws a `JameyError` has refused
 * that one message (the asker gets the error; the actor carries on). Anything else thrown is a crash:
 * the asker gets JAMEY_ERR_ACTOR_CRASHED, the incarnation ends and the supervisor decides. The mailbox
 * outlives incarnations, so accepted messages wait for the restarted actor instead of being lost;
 * state that must survive a restart belongs in SQLite.
 *
 * The hot path allocates nothing for `tell`: messages are stored as they are, the drain function is
 * bound once, and metrics are plain counters read at scrape time. Processing time is sampled.
 */
import { backoffDelay, type RandomSource } from './backoff.js';
import type { Clock } from './clock.js';
import { sleep } from './clock.js';
import type { DeadLetterReason, DeadLetters } from './dead-letters.js';
import { type Deadlined, DeadlineTracker } from './deadlines.js';
import { JameyError, toJameyError } from './errors.js';
import { ACCEPTED, type DropReason, LANE, Mailbox, type Priority, REJECTED } from './mailbox.js';
import type { MailboxOptions, RetryOptions } from './options.js';

export interface TellOptions {
  /** @default 'normal' */
  priority?: Priority;
}

export interface SendOptions extends TellOptions {
  /** Gives up waiting for room when aborted. */
  signal?: AbortSignal;
}

export interface AskOptions extends TellOptions {
  /** Milliseconds until the ask fails with JAMEY_ERR_DEADLINE_EXCEEDED; Infinity for none. @default runtime askDeadlineMs */
  deadlineMs?: number;
  /** Aborting fails the ask with JAMEY_ERR_ABORTED. */
  signal?: AbortSignal;
  /** Retry with backoff while the mailbox is full (within the deadline). @default true */
  retry?: boolean;
}

/** What other code holds to talk to an actor. */
export interface ActorRef<M = unknown, R = unknown> {
  readonly name: string;
  tell(message: M, options?: TellOptions): boolean;
  send(message: M, options?: SendOptions): Promise<boolean>;
  ask(message: M, options?: AskOptions): Promise<R>;
}

/** Handed to an actor's `start`. */
export interface ActorContext {
  readonly name: string;
  readonly clock: Clock;
  /** Which incarnation this is: 0 for the first start, then one more per restart. */
  readonly incarnation: number;
  /** Looks up another actor of the same system by name. */
  actor<M = unknown, R = unknown>(name: string): ActorRef<M, R>;
}

/** What a handler knows about an ask it is answering (tells have none). */
export interface AskContext {
  /** Aborted when the asker gives up (deadline or abort); created on first access. */
  readonly signal: AbortSignal;
  /** Absolute deadline on the runtime clock (Infinity for none). */
  readonly deadline: number;
}

/** The outcome of one message of a batch. */
export type BatchResult<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * One incarnation of an actor: its message handler and optional clean-up. An actor defines
 * `receive` (one message at a time) or `receiveBatch` (everything queued, up to `maxBatch`, in one
 * call — for group commit); with both, `receiveBatch` is used.
 */
export interface Behavior<M, R> {
  /** `ask` is set when the message is an ask; tells get undefined. */
  receive?(message: M, ask: AskContext | undefined): R | Promise<R>;
  /**
   * Handles the queued messages at once and returns one result per message, in order. An error
   * result answers only its own ask (and counts as refused when it is a JameyError); a throw fails
   * the whole batch (a crash unless it is a JameyError).
   */
  receiveBatch?(
    messages: readonly M[],
    asks: ReadonlyArray<AskContext | undefined>,
  ): ReadonlyArray<BatchResult<R>> | Promise<ReadonlyArray<BatchResult<R>>>;
  /** Called when the incarnation ends: 'close' (drained), 'restart', 'crash', 'destroy', 'fail'. */
  stop?(reason: StopReason): void | Promise<void>;
}

export type StopReason = 'close' | 'restart' | 'crash' | 'destroy' | 'fail';

export interface ActorSpec<M = unknown, R = unknown> {
  readonly name: string;
  /** Actors that must be running before this one starts (and stop after it). */
  readonly dependsOn?: readonly string[];
  /** Builds an incarnation; called again on every restart. A throw here is a crash. */
  start(ctx: ActorContext): Behavior<M, R> | Promise<Behavior<M, R>>;
  /** Overrides the runtime's default mailbox. */
  readonly mailbox?: Partial<MailboxOptions>;
  /** Messages handled at once; more than 1 only for I/O-bound actors. @default 1 */
  readonly concurrency?: number;
  /** Most messages handed to `receiveBatch` in one call. @default 1000 */
  readonly maxBatch?: number;
}

export type HostStatus = 'new' | 'starting' | 'running' | 'suspended' | 'stopped' | 'failed';

export interface HostDeps {
  clock: Clock;
  deadLetters: DeadLetters;
  mailbox: MailboxOptions;
  sendRetry: RetryOptions;
  askDeadlineMs: number;
  random: RandomSource;
  lookup: (name: string) => ActorRef;
}

/** One in every this many messages has its processing time measured. */
const TIMING_SAMPLE_EVERY = 16;
/** Messages handled per turn before yielding to I/O with setImmediate. */
const DRAIN_BUDGET = 4096;

class Ask<M, R> implements Deadlined, AskContext {
  readonly message: M;
  readonly deadline: number;
  settled = false;
  started = false;
  private readonly host: ActorHost<M, R>;
  private readonly resolveFn: (value: R) => void;
  private readonly rejectFn: (err: unknown) => void;
  private controller: AbortController | undefined;
  readonly callerSignal: AbortSignal | undefined;
  private readonly onCallerAbort: (() => void) | undefined;

  constructor(
    host: ActorHost<M, R>,
    message: M,
    deadline: number,
    signal: AbortSignal | undefined,
    resolve: (value: R) => void,
    reject: (err: unknown) => void,
  ) {
    this.host = host;
    this.message = message;
    this.deadline = deadline;
    this.resolveFn = resolve;
    this.rejectFn = reject;
    this.callerSignal = signal;
    if (signal !== undefined) {
      this.onCallerAbort = () =>
        this.fail(new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason }));
      signal.addEventListener('abort', this.onCallerAbort, { once: true });
    } else {
      this.onCallerAbort = undefined;
    }
  }

  /** Lazily made: most handlers never look, and an AbortController costs more than the whole ask. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.settled) this.controller.abort(new JameyError('JAMEY_ERR_DEADLINE_EXCEEDED'));
    }
    return this.controller.signal;
  }

  /** Called by the deadline tracker, which has already marked the ask settled. */
  expire(): void {
    const err = new JameyError(
      'JAMEY_ERR_DEADLINE_EXCEEDED',
      `ask to "${this.host.name}" exceeded its deadline`,
    );
    this.removeAbortListener();
    this.controller?.abort(err);
    this.rejectFn(err);
  }

  /** Delivers the handler's result; false when the ask was already settled (a late reply). */
  succeed(value: R): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.cleanup();
    this.resolveFn(value);
    return true;
  }

  fail(err: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.cleanup();
    this.controller?.abort(err);
    this.rejectFn(err);
    return true;
  }

  private cleanup(): void {
    this.removeAbortListener();
    this.host.deadlineSettled();
  }

  private removeAbortListener(): void {
    if (this.onCallerAbort !== undefined) this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}

/**
 * Hosts one actor: owns its mailbox across incarnations and runs incarnations when the supervisor
 * asks (`run`). Public counters are read by the metrics registry at scrape time.
 */
export class ActorHost<M = unknown, R = unknown> implements ActorRef<M, R> {
  readonly name: string;
  readonly spec: ActorSpec<M, R>;
  readonly concurrency: number;
  readonly mailbox: Mailbox<M | Ask<M, R>>;
  status: HostStatus = 'new';
  /** False once close/destroy/fail began: new messages go to dead letters. */
  accepting = true;
  /** Handler calls completed (successfully or with a refusal). */
  processed = 0;
  /** Handler calls that threw a JameyError (the message was refused, the actor carried on). */
  refused = 0;
  /** Handler calls that crashed the incarnation. */
  crashes = 0;
  /** Incarnations started after the first. */
  restarts = 0;
  /** Replies that arrived after their ask's deadline or abort, and were dropped. */
  lateReplies = 0;
  /** Asks that expired or were aborted while still queued, skipped without running. */
  expired = 0;
  /** Handler calls running now. */
  inFlight = 0;
  /** Sampled processing time in seconds; set by the metrics registry. */
  observeProcessing: ((seconds: number) => void) | undefined;

  private readonly deps: HostDeps;
  private readonly deadlines: DeadlineTracker;
  private behavior: Behavior<M, R> | undefined;
  private incarnations = 0;
  /** The current behavior handles batches. */
  private batched = false;
  readonly maxBatch: number;
  private everRan = false;
  private scheduled = false;
  private sampleCounter = 0;
  private endIncarnation: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  private readyWaiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private idleWaiters: Array<() => void> = [];
  private readonly drainBound = (): void => this.drain();
  private readonly asyncTellDone = (): void => {
    this.inFlight--;
    this.processed++;
    this.afterAsync();
  };
  private readonly asyncTellFailed = (err: unknown): void => {
    this.inFlight--;
    this.handlerError(err, undefined);
    this.afterAsync();
  };
  private readonly ctx: ActorContext;

  constructor(spec: ActorSpec<M, R>, deps: HostDeps) {
    this.name = spec.name;
    this.spec = spec;
    this.deps = deps;
    this.concurrency = spec.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `option "concurrency" of actor "${spec.name}" must be an integer of at least 1, got ${String(spec.concurrency)}`,
      );
    }
    this.maxBatch = spec.maxBatch ?? 1000;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new JameyError(
        'JAMEY_ERR_INVALID_OPTION',
        `option "maxBatch" of actor "${spec.name}" must be an integer of at least 1, got ${String(spec.maxBatch)}`,
      );
    }
    const capacity = spec.mailbox?.capacity ?? deps.mailbox.capacity;
    const overflow = spec.mailbox?.overflow ?? deps.mailbox.overflow;
    this.mailbox = new Mailbox<M | Ask<M, R>>(capacity, overflow, (m, reason) => this.dropped(m, reason));
    this.deadlines = new DeadlineTracker(deps.clock);
    const host = this;
    this.ctx = {
      name: spec.name,
      clock: deps.clock,
      get incarnation() {
        return host.incarnations - 1;
      },
      actor: deps.lookup as ActorContext['actor'],
    };
  }

  // ---- sending -------------------------------------------------------------------------------

  tell(message: M, options?: TellOptions): boolean {
    if (!this.accepting) {
      this.deadLetter(message, this.closedReason());
      return false;
    }
    const result = this.mailbox.offer(
      message,
      options?.priority === undefined ? LANE.normal : LANE[options.priority],
    );
    if (result !== ACCEPTED) {
      if (result === REJECTED) throw this.fullError();
      return false;
    }
    if (!this.scheduled && this.status === 'running') this.schedule();
    return true;
  }

  async send(message: M, options?: SendOptions): Promise<boolean> {
    const retry = this.deps.sendRetry;
    for (let attempt = 0; ; attempt++) {
      try {
        return this.tell(message, options);
      } catch (err) {
        if (
          !(err instanceof JameyError) ||
          err.code !== 'JAMEY_ERR_MAILBOX_FULL' ||
          attempt >= retry.maxRetries
        )
          throw err;
      }
      await this.backoff(attempt, options?.signal);
    }
  }

  ask(message: M, options?: AskOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) {
        reject(new JameyError('JAMEY_ERR_ABORTED', undefined, { cause: signal.reason }));
        return;
      }
      if (!this.accepting) {
        this.deadLetter(message, this.closedReason());
        reject(this.notAcceptingError());
        return;
      }
      const deadlineMs = options?.deadlineMs ?? this.deps.askDeadlineMs;
      const deadline =
        deadlineMs === Number.POSITIVE_INFINITY ? deadlineMs : this.deps.clock.now() + deadlineMs;
      const ask = new Ask<M, R>(this, message, deadline, signal, resolve, reject);
      const lane = options?.priority === undefined ? LANE.normal : LANE[options.priority];
      const result = this.mailbox.offer(ask, lane);
      if (result === REJECTED) {
        if (options?.retry === false || this.deps.sendRetry.maxRetries === 0) {
          ask.fail(this.fullError());
          return;
        }
        this.deadlines.add(ask);
        void this.retryAsk(ask, lane);
        return;
      }
      if (result === ACCEPTED) {
        this.deadlines.add(ask);
        if (!this.scheduled && this.status === 'running') this.schedule();
      }
      // DROPPED: `dropped()` has already failed the ask.
    });
  }

  private async retryAsk(ask: Ask<M, R>, lane: number): Promise<void> {
    const retry = this.deps.sendRetry;
    for (let attempt = 0; attempt < retry.maxRetries; attempt++) {
      try {
        await this.backoff(attempt, ask.callerSignal);
      } catch {
        return; // aborted: the ask's own listener has failed it
      }
      if (ask.settled) return;
      if (!this.accepting) {
        this.deadLetter(ask.message, this.closedReason());
        ask.fail(this.notAcceptingError());
        return;
      }
      const result = this.mailbox.offer(ask, lane);
      if (result === ACCEPTED) {
        if (!this.scheduled && this.status === 'running') this.schedule();
        return;
      }
      if (result !== REJECTED) return;
    }
    ask.fail(this.fullError());
  }

  private backoff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
    return sleep(this.deps.clock, backoffDelay(this.deps.sendRetry, attempt, this.deps.random), signal);
  }

  private fullError(): JameyError {
    return new JameyError(
      'JAMEY_ERR_MAILBOX_FULL',
      `mailbox of actor "${this.name}" is full (${this.mailbox.capacity})`,
      {
        details: { actor: this.name, capacity: this.mailbox.capacity },
      },
    );
  }

  private notAcceptingError(): JameyError {
    if (this.status === 'failed') {
      return new JameyError(
        'JAMEY_ERR_ACTOR_STOPPED',
        `actor "${this.name}" has failed and is not restarted`,
      );
    }
    return new JameyError(
      'JAMEY_ERR_ACTOR_STOPPED',
      `actor "${this.name}" is ${this.status === 'stopped' ? 'stopped' : 'closing'}`,
    );
  }

  private closedReason(): DeadLetterReason {
    return this.status === 'failed' ? 'failed' : this.status === 'stopped' ? 'stopped' : 'closed';
  }

  private deadLetter(message: unknown, reason: DeadLetterReason): void {
    this.deps.deadLetters.record(this.name, reason, message, this.deps.clock.now());
  }

  private dropped(item: M | Ask<M, R>, reason: DropReason): void {
    if (item instanceof Ask) {
      this.deadLetter(item.message, reason);
      item.fail(this.fullError());
    } else {
      this.deadLetter(item, reason);
    }
  }

  /** Called by an Ask when it settles. */
  deadlineSettled(): void {
    this.deadlines.settled();
  }

  // ---- draining ------------------------------------------------------------------------------

  private schedule(): void {
    this.scheduled = true;
    queueMicrotask(this.drainBound);
  }

  private drain(): void {
    this.scheduled = false;
    const mailbox = this.mailbox;
    let budget = DRAIN_BUDGET;
    while (this.status === 'running' && mailbox.size > 0 && this.inFlight < this.concurrency) {
      if (budget-- === 0) {
        this.scheduled = true;
        setImmediate(this.drainBound);
        return;
      }
      if (this.batched) {
        this.deliverBatch();
        continue;
      }
      const item = mailbox.shift() as M | Ask<M, R>;
      if (item instanceof Ask) this.deliverAsk(item);
      else this.deliverTell(item);
    }
    if (mailbox.size === 0 && this.inFlight === 0) this.notifyIdle();
  }

  private deliverBatch(): void {
    const behavior = this.behavior as Behavior<M, R>;
    const mailbox = this.mailbox;
    const messages: M[] = [];
    const asks: Array<Ask<M, R> | undefined> = [];
    while (mailbox.size > 0 && messages.length < this.maxBatch) {
      const item = mailbox.shift() as M | Ask<M, R>;
      if (item instanceof Ask) {
        if (item.settled) {
          this.expired++;
          continue;
        }
        item.started = true;
        messages.push(item.message);
        asks.push(item);
      } else {
        messages.push(item);
        asks.push(undefined);
      }
    }
    if (messages.length === 0) return;
    const t0 = this.observeProcessing === undefined ? 0 : performance.now();
    let results: ReadonlyArray<BatchResult<R>> | Promise<ReadonlyArray<BatchResult<R>>>;
    try {
      results = (behavior.receiveBatch as NonNullable<Behavior<M, R>['receiveBatch']>)(messages, asks);
    } catch (err) {
      this.batchFailed(err, asks);
      return;
    }
    if (isPromiseLike(results)) {
      this.inFlight++;
      results.then(
        (r) => {
          this.inFlight--;
          this.settleBatch(asks, r, t0);
          this.afterAsync();
        },
        (err: unknown) => {
          this.inFlight--;
          this.batchFailed(err, asks);
          this.afterAsync();
        },
      );
      return;
    }
    this.settleBatch(asks, results, t0);
  }

  private settleBatch(
    asks: Array<Ask<M, R> | undefined>,
    results: ReadonlyArray<BatchResult<R>>,
    t0: number,
  ): void {
    if (this.observeProcessing !== undefined && asks.length > 0) {
      this.observeProcessing((performance.now() - t0) / 1000 / asks.length);
    }
    for (let i = 0; i < asks.length; i++) {
      const ask = asks[i];
      const r = results[i];
      this.processed++;
      if (r === undefined) {
        const err = new JameyError(
          'JAMEY_ERR_INTERNAL',
          `actor "${this.name}" returned no result for a batched message`,
        );
        if (ask !== undefined && !ask.fail(err)) this.lateReplies++;
        continue;
      }
      if (r.ok) {
        if (ask !== undefined && !ask.succeed(r.value)) this.lateReplies++;
      } else {
        if (r.error instanceof JameyError) this.refused++;
        if (ask !== undefined && !ask.fail(r.error)) this.lateReplies++;
      }
    }
  }

  private batchFailed(err: unknown, asks: Array<Ask<M, R> | undefined>): void {
    if (err instanceof JameyError) {
      this.processed += asks.length;
      this.refused += asks.length;
      for (const ask of asks) if (ask !== undefined && !ask.fail(err)) this.lateReplies++;
      return;
    }
    this.crashes++;
    const crashed = new JameyError(
      'JAMEY_ERR_ACTOR_CRASHED',
      `actor "${this.name}" crashed: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
    for (const ask of asks) ask?.fail(crashed);
    this.crash(err);
  }

  private deliverTell(message: M): void {
    const behavior = this.behavior as Behavior<M, R>;
    const timed = this.observeProcessing !== undefined && ++this.sampleCounter >= TIMING_SAMPLE_EVERY;
    const t0 = timed ? performance.now() : 0;
    let result: R | Promise<R>;
    try {
      result = (behavior.receive as NonNullable<Behavior<M, R>['receive']>)(message, undefined);
    } catch (err) {
      this.handlerError(err, undefined);
      return;
    }
    if (isPromiseLike(result)) {
      this.inFlight++;
      if (timed) {
        this.sampleCounter = 0;
        result.then(
          () => this.observe(t0),
          () => undefined,
        );
      }
      result.then(this.asyncTellDone, this.asyncTellFailed);
      return;
    }
    this.processed++;
    if (timed) this.observe(t0);
  }

  private deliverAsk(ask: Ask<M, R>): void {
    if (ask.settled) {
      this.expired++;
      return;
    }
    ask.started = true;
    const behavior = this.behavior as Behavior<M, R>;
    const timed = this.observeProcessing !== undefined && ++this.sampleCounter >= TIMING_SAMPLE_EVERY;
    const t0 = timed ? performance.now() : 0;
    let result: R | Promise<R>;
    try {
      result = (behavior.receive as NonNullable<Behavior<M, R>['receive']>)(ask.message, ask);
    } catch (err) {
      this.handlerError(err, ask);
      return;
    }
    if (isPromiseLike(result)) {
      this.inFlight++;
      result.then(
        (value) => {
          this.inFlight--;
          this.processed++;
          if (timed) this.observe(t0);
          if (!ask.succeed(value)) this.lateReplies++;
          this.afterAsync();
        },
        (err: unknown) => {
          this.inFlight--;
          this.handlerError(err, ask);
          this.afterAsync();
        },
      );
      return;
    }
    this.processed++;
    if (timed) this.observe(t0);
    if (!ask.succeed(result)) this.lateReplies++;
  }

  private observe(t0: number): void {
    this.sampleCounter = 0;
    this.observeProcessing?.((performance.now() - t0) / 1000);
  }

  private afterAsync(): void {
    if (this.status === 'running' && !this.scheduled && this.mailbox.size > 0) this.schedule();
    else if (this.mailbox.size === 0 && this.inFlight === 0) this.notifyIdle();
  }

  private handlerError(err: unknown, ask: Ask<M, R> | undefined): void {
    if (err instanceof JameyError) {
      this.processed++;
      this.refused++;
      if (ask !== undefined && !ask.fail(err)) this.lateReplies++;
      return;
    }
    this.crashes++;
    if (ask !== undefined) {
      ask.fail(
        new JameyError('JAMEY_ERR_ACTOR_CRASHED', `actor "${this.name}" crashed: ${errorMessage(err)}`, {
          cause: err,
        }),
      );
    }
    this.crash(err);
  }

  // ---- incarnations (driven by the supervisor) -------------------------------------------------

  /**
   * Runs one incarnation: builds the behavior, processes messages, and settles when the incarnation
   * ends — rejecting on a crash, resolving when stopped (signal aborted) or closed after draining.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.status === 'stopped' || this.status === 'failed') return;
    if (signal.aborted) return;
    this.status = 'starting';
    if (this.incarnations > 0) this.restarts++;
    this.incarnations++;
    let behavior: Behavior<M, R>;
    try {
      behavior = await this.spec.start(this.ctx);
    } catch (err) {
      this.status = 'suspended';
      this.crashes++;
      throw toJameyError(err, 'JAMEY_ERR_ACTOR_CRASHED');
    }
    if (signal.aborted || this.status !== 'starting') {
      if (this.status === 'starting') this.status = 'suspended';
      await safeStop(behavior, 'restart');
      this.wake();
      return;
    }
    if (typeof behavior?.receive !== 'function' && typeof behavior?.receiveBatch !== 'function') {
      this.status = 'suspended';
      this.crashes++;
      await safeStop(behavior, 'crash');
      throw new JameyError(
        'JAMEY_ERR_ACTOR_CRASHED',
        `actor "${this.name}" started without receive or receiveBatch`,
      );
    }
    this.behavior = behavior;
    this.batched = typeof behavior.receiveBatch === 'function';
    const ended = new Promise<void>((resolve, reject) => {
      this.endIncarnation = { resolve, reject };
    });
    const onAbort = (): void => {
      if (this.status === 'running') void this.endWith('suspended', 'restart');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.status = 'running';
    this.everRan = true;
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    if (!this.accepting && this.mailbox.size === 0 && this.inFlight === 0) {
      void this.endWith('stopped', 'close');
    } else if (this.mailbox.size > 0) {
      this.schedule();
    }
    try {
      await ended;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Resolves once the actor is running for the first time; rejects if it fails before. */
  whenReady(): Promise<void> {
    if (this.status === 'failed') return Promise.reject(this.notAcceptingError());
    if (this.everRan) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  private crash(err: unknown): void {
    if (this.status !== 'running') return;
    const behavior = this.behavior;
    this.behavior = undefined;
    this.status = 'suspended';
    if (behavior !== undefined) void safeStop(behavior, 'crash');
    const end = this.endIncarnation;
    this.endIncarnation = undefined;
    end?.reject(toJameyError(err, 'JAMEY_ERR_ACTOR_CRASHED'));
    this.wake();
  }

  private async endWith(status: 'suspended' | 'stopped', reason: StopReason): Promise<void> {
    const behavior = this.behavior;
    this.behavior = undefined;
    this.status = status;
    const end = this.endIncarnation;
    this.endIncarnation = undefined;
    if (behavior !== undefined) await safeStop(behavior, reason);
    end?.resolve();
    this.wake();
  }

  private notifyIdle(): void {
    if (!this.accepting && this.status === 'running') {
      void this.endWith('stopped', 'close');
      return;
    }
    this.wake();
  }

  private wake(): void {
    if (this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when the mailbox is empty and no handler is running. */
  whenIdle(): Promise<void> {
    if (this.mailbox.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Graceful close: stop intake, let the current and later incarnations drain every accepted
   * message, then stop the behavior. Resolves when stopped (or failed).
   */
  async close(): Promise<void> {
    this.accepting = false;
    if (this.status === 'new') {
      this.status = 'stopped';
      this.destroyPending(new JameyError('JAMEY_ERR_SHUTTING_DOWN'), 'stopped');
      return;
    }
    for (;;) {
      if (this.status === 'stopped' || this.status === 'failed') return;
      if (this.mailbox.size === 0 && this.inFlight === 0) {
        if (this.status === 'running') {
          await this.endWith('stopped', 'close');
          return;
        }
        if (this.status === 'suspended') {
          this.status = 'stopped';
          return;
        }
      }
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Stops at once: pending asks fail with `err`, queued tells become dead letters. Idempotent. */
  destroy(err: JameyError): void {
    if (this.status === 'stopped' || this.status === 'failed') {
      this.accepting = false;
      return;
    }
    this.accepting = false;
    this.destroyPending(err, 'destroyed');
    const end = this.endIncarnation;
    const behavior = this.behavior;
    this.endIncarnation = undefined;
    this.behavior = undefined;
    this.status = 'stopped';
    if (behavior !== undefined) void safeStop(behavior, 'destroy');
    end?.resolve();
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Supervision gave up on this actor: it stays down; pending and future messages are dead letters. */
  fail(err: JameyError): void {
    if (this.status === 'failed') return;
    this.accepting = false;
    const behavior = this.behavior;
    this.behavior = undefined;
    const end = this.endIncarnation;
    this.endIncarnation = undefined;
    this.status = 'failed';
    this.destroyPending(err, 'failed');
    if (behavior !== undefined) void safeStop(behavior, 'fail');
    end?.resolve();
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private destroyPending(err: JameyError, reason: DeadLetterReason): void {
    for (const item of this.mailbox.takeAll()) {
      if (item instanceof Ask) {
        this.deadLetter(item.message, reason);
        item.fail(err);
      } else {
        this.deadLetter(item, reason);
      }
    }
    this.deadlines.clear();
  }
}

function isPromiseLike<T>(value: unknown): value is Promise<T> {
  return (
    value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
  );
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function safeStop<M, R>(behavior: Behavior<M, R>, reason: StopReason): Promise<void> {
  try {
    await behavior.stop?.(reason);
  } catch {
    // A failing clean-up must not take the supervisor down with it.
  }
}
