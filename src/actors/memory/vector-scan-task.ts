/** Worker task: searches one partition of the shared vector index (see vector-index.ts). */
import { defineTask } from '../../runtime/worker-task.js';
import { type IndexBuffers, type ScanFilter, type ScanResult, searchIndex } from './vector-index.js';

export interface ScanTask {
  buffers: IndexBuffers;
  query: Float32Array;
  fullQuery: Float32Array;
  filter: ScanFilter;
  start: number;
  end: number;
  coarseK: number;
  k: number;
}

export const scan = defineTask(
  (t: ScanTask): ScanResult =>
    searchIndex(t.buffers, t.query, t.fullQuery, t.filter, t.start, t.end, t.coarseK, t.k),
);
