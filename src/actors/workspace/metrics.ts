/**
 * Workspace metrics (docs/metrics.md). Counters are the actor's plain numbers read at scrape time;
 * the winner's activation is observed per broadcast. Labels: a reason from a fixed set, and
 * subscriber names fixed by the wiring code.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DROP_REASONS, type WorkspaceActor, type WorkspaceCounters } from './actor.js';

export function registerWorkspaceMetrics(registry: Registry, workspace: WorkspaceActor): void {
  const registers = [registry];
  const c = workspace.counters;
  const counter = (name: string, help: string, read: (c: WorkspaceCounters) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(read(c));
      },
    });
  };
  counter(
    'jamey_workspace_broadcasts_total',
    'Contents broadcast by the global workspace.',
    (s) => s.broadcasts,
  );
  counter(
    'jamey_workspace_cycles_total',
    'Competition cycles run with at least one candidate.',
    (s) => s.cycles,
  );
  counter(
    'jamey_workspace_ignition_failures_total',
    'Cycles with candidates but none at or above the ignition threshold.',
    (s) => s.ignitionFailures,
  );
  counter(
    'jamey_workspace_history_write_failures_total',
    'Broadcasts whose history row could not be written (the broadcast itself went out).',
    (s) => s.historyWriteFailures,
  );
  new Counter({
    name: 'jamey_workspace_dropped_total',
    help: 'Candidates and broadcasts dropped, by reason.',
    labelNames: ['reason'] as const,
    registers,
    collect(this: Counter<'reason'>) {
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, c.dropped[reason]);
    },
  });
  new Counter({
    name: 'jamey_workspace_subscriber_dropped_total',
    help: 'Broadcasts a subscriber lost (queue overflow or absent), by subscriber.',
    labelNames: ['subscriber'] as const,
    registers,
    collect(this: Counter<'subscriber'>) {
      this.reset();
      for (const [subscriber, n] of workspace.subscriberDrops()) this.inc({ subscriber }, n);
    },
  });
  new Gauge({
    name: 'jamey_workspace_candidates',
    help: 'Candidates waiting in the workspace.',
    registers,
    collect(this: Gauge) {
      this.set(workspace.candidates());
    },
  });
  const activation = new Histogram({
    name: 'jamey_workspace_winner_activation',
    help: 'Activation of each broadcast winner (0..1).',
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers,
  });
  workspace.observer = { broadcast: (a) => activation.observe(a) };
}
