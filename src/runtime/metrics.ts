/**
 * The runtime's own prom-client Registry (never the global one, so two runtimes in one process do
 * not mix). Kernel metrics are read at scrape time from plain counters the actors and the pool keep
 * (`collect()`), so the message path pays nothing for them; only the sampled processing time and
 * the pool's task time are observed as they happen. Labels are bounded: actor names and task labels
 * come from code, never from requests. (prom-client README, "Registry" and "collect".)
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ActorHost } from './actor.js';
import type { DeadLetters } from './dead-letters.js';
import { FastHistogram } from './fast-metrics.js';
import type { TaskPool } from './pool.js';
import type { ChildInfo } from './supervisor.js';

/** What the metrics read from the actor system. */
export interface MetricsSource {
  hosts(): Iterable<ActorHost>;
  deadLetters: DeadLetters;
  supervision(): ChildInfo[];
  isReady(): boolean;
}

const PROCESSING_BUCKETS = [1e-6, 5e-6, 25e-6, 1e-4, 5e-4, 2.5e-3, 0.01, 0.05, 0.25, 1, 5];
const TASK_BUCKETS = [1e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1, 0.5, 2.5, 10, 60];

export const SUPERVISION_STATUSES = ['starting', 'running', 'restarting', 'failed', 'stopped'] as const;

export class RuntimeMetrics {
  readonly registry: Registry;
  private source: MetricsSource | undefined;
  private pool: TaskPool | undefined;
  private readonly processing: FastHistogram<'actor'>;
  private readonly taskSeconds: FastHistogram<'task' | 'outcome'>;

  constructor(options: { defaultMetrics?: boolean; prefix?: string } = {}) {
    this.registry = new Registry();
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const metrics = this;

    const perActor = (
      name: string,
      help: string,
      read: (h: ActorHost) => number,
      type: 'counter' | 'gauge',
    ): void => {
      const config = {
        name,
        help,
        labelNames: ['actor'] as const,
        registers,
        collect(this: Counter<'actor'> | Gauge<'actor'>) {
          this.reset();
          const source = metrics.source;
          if (source === undefined) return;
          for (const h of source.hosts()) {
            const v = read(h);
            if (type === 'counter') (this as Counter<'actor'>).inc({ actor: h.name }, v);
            else (this as Gauge<'actor'>).set({ actor: h.name }, v);
          }
        },
      };
      if (type === 'counter') new Counter(config);
      else new Gauge(config);
    };

    perActor('jamey_actor_mailbox_depth', 'Messages waiting in the mailbox.', (h) => h.mailbox.size, 'gauge');
    perActor('jamey_actor_mailbox_capacity', 'Mailbox capacity.', (h) => h.mailbox.capacity, 'gauge');
    perActor('jamey_actor_in_flight', 'Handler calls running now.', (h) => h.inFlight, 'gauge');
    perActor(
      'jamey_actor_messages_enqueued_total',
      'Messages accepted into the mailbox.',
      (h) => h.mailbox.enqueued,
      'counter',
    );
    perActor('jamey_actor_messages_processed_total', 'Messages handled.', (h) => h.processed, 'counter');
    perActor(
      'jamey_actor_messages_refused_total',
      'Messages whose handler answered with a coded error.',
      (h) => h.refused,
      'counter',
    );
    perActor(
      'jamey_actor_messages_rejected_total',
      'Messages refused because the mailbox was full (reject policy).',
      (h) => h.mailbox.rejected,
      'counter',
    );
    perActor(
      'jamey_actor_messages_dropped_total',
      'Messages evicted or dropped by a drop-oldest/drop-newest policy.',
      (h) => h.mailbox.dropped,
      'counter',
    );
    perActor(
      'jamey_actor_restarts_total',
      'Restarts of the actor by its supervisor.',
      (h) => h.restarts,
      'counter',
    );
    perActor('jamey_actor_crashes_total', 'Crashes of the actor.', (h) => h.crashes, 'counter');
    perActor(
      'jamey_actor_late_replies_total',
      'Replies dropped because their ask had passed its deadline or was aborted.',
      (h) => h.lateReplies,
      'counter',
    );
    perActor(
      'jamey_actor_expired_asks_total',
      'Asks skipped because they expired or were aborted while queued.',
      (h) => h.expired,
      'counter',
    );

    this.processing = new FastHistogram({
      name: 'jamey_actor_processing_seconds',
      help: 'Handler time per message (sampled: one message in 16).',
      labelNames: ['actor'] as const,
      buckets: PROCESSING_BUCKETS,
      registers,
    });

    new Counter({
      name: 'jamey_dead_letters_total',
      help: 'Messages that could not be delivered, by actor and reason.',
      labelNames: ['actor', 'reason'] as const,
      registers,
      collect() {
        this.reset();
        for (const { actor, reason, count } of metrics.source?.deadLetters.countsBy() ?? []) {
          this.inc({ actor, reason }, count);
        }
      },
    });

    new Gauge({
      name: 'jamey_supervision_status',
      help: 'Supervision status of each actor (1 for the current status).',
      labelNames: ['actor', 'status'] as const,
      registers,
      collect() {
        this.reset();
        for (const child of metrics.source?.supervision() ?? []) {
          for (const status of SUPERVISION_STATUSES)
            this.set({ actor: child.name, status }, child.status === status ? 1 : 0);
        }
      },
    });

    new Gauge({
      name: 'jamey_runtime_ready',
      help: '1 when the runtime is ready to serve (what /readyz reports).',
      registers,
      collect() {
        this.set(metrics.source?.isReady() ? 1 : 0);
      },
    });

    const poolGauge = (name: string, help: string, read: (p: TaskPool) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(metrics.pool === undefined ? 0 : read(metrics.pool));
        },
      });
    };
    poolGauge('jamey_pool_queue_size', 'Tasks waiting for a worker thread.', (p) => p.queueSize);
    poolGauge('jamey_pool_threads', 'Worker threads alive.', (p) => p.threads);
    poolGauge(
      'jamey_pool_utilization',
      "Share of the pool's capacity spent running tasks (0..1).",
      (p) => p.utilization,
    );
    this.taskSeconds = new FastHistogram({
      name: 'jamey_pool_task_seconds',
      help: 'Task time from submission to result, by task and outcome (ok or error code).',
      labelNames: ['task', 'outcome'] as const,
      buckets: TASK_BUCKETS,
      registers,
    });
  }

  /** Starts reading actor metrics from `source` and hooks the sampled processing-time histogram. */
  bindSystem(source: MetricsSource): void {
    this.source = source;
    for (const h of source.hosts()) this.bindHost(h);
  }

  bindHost(host: ActorHost): void {
    const child = this.processing.labels({ actor: host.name });
    host.observeProcessing = (seconds) => child.observe(seconds);
  }

  bindPool(pool: TaskPool): void {
    this.pool = pool;
    // Children cached by label pair: both labels are bounded, and the lookup is on every task.
    const children = new Map<string, ReturnType<FastHistogram<'task' | 'outcome'>['labels']>>();
    pool.observeTask = (task, outcome, seconds) => {
      const key = `${task}\u0000${outcome}`;
      let child = children.get(key);
      if (child === undefined) {
        child = this.taskSeconds.labels({ task, outcome });
        children.set(key, child);
      }
      child.observe(seconds);
    };
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
