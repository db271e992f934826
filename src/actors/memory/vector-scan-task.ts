/** Worker task: searches one partition of the shared vector index (see vector-index.ts). */
import { defineTask } from '../../runtime/worker-task.js';
import {
  type IndexBuffers,
  type ScanFilter,
  type ScanRange,
  type ScanResult,
  searchIndex,
} from './vector-index.js';

export interface ScanTask {
  buffers: IndexBuffers;
  query: Float32Array;
  fullQuery: Float32Array;
  filter: ScanFilter;
  range: ScanRange;
  coarseK: number;
  k: number;
}

export const scan = defineTask(
  (t: ScanTask): ScanResult =>
    searchIndex(t.buffers, t.query, t.fullQuery, t.filter, t.range, t.coarseK, t.k),
);
