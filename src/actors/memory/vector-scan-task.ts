/** Worker task: scans one partition of the shared vector index (see vector-index.ts). */
import { defineTask } from '../../runtime/worker-task.js';
import { type IndexBuffers, type ScanFilter, type ScanResult, scanTopK } from './vector-index.js';

export interface ScanTask {
  buffers: IndexBuffers;
  query: Float32Array;
  filter: ScanFilter;
  start: number;
  end: number;
  k: number;
}

export const scan = defineTask(
  (t: ScanTask): ScanResult => scanTopK(t.buffers, t.query, t.filter, t.start, t.end, t.k),
);
