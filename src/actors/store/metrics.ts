/** Store metrics on the runtime's registry: batch sizes and commit times as they happen, file sizes at scrape time. */
import { statSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { FastHistogram } from '../../runtime/fast-metrics.js';
import type { MaintenanceReport, Store } from './store.js';

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Counts maintenance runs and pruned rows; returns the hook to pass as `StoreOptions.onMaintenance`. */
export function maintenanceMetrics(registry: Registry): (report: MaintenanceReport) => void {
  const runs = new Counter({
    name: 'jamey_store_maintenance_runs_total',
    help: 'Maintenance runs (pruning, PRAGMA optimize, incremental vacuum, WAL checkpoint).',
    registers: [registry],
  });
  const pruned = new Counter({
    name: 'jamey_store_pruned_rows_total',
    help: 'Rows deleted by maintenance pruning, by domain.',
    labelNames: ['domain'] as const,
    registers: [registry],
  });
  const vacuumed = new Counter({
    name: 'jamey_store_vacuumed_pages_total',
    help: 'Pages returned to the file system by incremental vacuum.',
    registers: [registry],
  });
  return (report) => {
    runs.inc();
    for (const [domain, n] of Object.entries(report.pruned)) pruned.inc({ domain }, n);
    vacuumed.inc(Math.max(0, report.vacuumedPages));
  };
}

export function registerStoreMetrics(registry: Registry, store: Store): void {
  const registers = [registry];
  const batch = new FastHistogram({
    name: 'jamey_store_batch_size',
    labelNames: [],
    help: 'Writes committed per transaction (group commit).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers,
  });
  const commit = new FastHistogram({
    name: 'jamey_store_commit_seconds',
    labelNames: [],
    help: 'Time to run and commit one batch of writes.',
    buckets: [1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers,
  });
  const batches = batch.labels({});
  const commits = commit.labels({});
  store.stats.observeBatch = (n, seconds) => {
    batches.observe(n);
    commits.observe(seconds);
  };
  new Gauge({
    name: 'jamey_store_database_bytes',
    help: 'Size of the SQLite database file.',
    registers,
    collect() {
      this.set(size(store.file));
    },
  });
  new Gauge({
    name: 'jamey_store_wal_bytes',
    help: 'Size of the write-ahead log.',
    registers,
    collect() {
      this.set(size(`${store.file}-wal`));
    },
  });
}
