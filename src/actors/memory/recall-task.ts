/**
 * Worker task: a recall's candidates in one pool task — a partition of the vector scan (see
 * vector-index.ts), the full-text (FTS5 BM25) query, or both — so one recall keeps at most one
 * thread busy unless its scan is long enough to split. Inputs and results live in the recall's
 * candidate slot (candidate-slot.ts); the task returns nothing. Views of the index buffer and of
 * slots are kept per buffer id, and read-only connections are opened once per file per worker.
 */
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { defineTask } from '../../runtime/worker-task.js';
import { SLOT_TEXT_COUNT, type SlotShape, type SlotViews, slotViews } from './candidate-slot.js';
import { QUERIES } from './repository.js';
import {
  type IndexBuffers,
  type IndexViews,
  indexViews,
  type ScanFilter,
  searchInto,
} from './vector-index.js';

export interface CandidatesTask {
  slot: SharedArrayBuffer;
  slotId: number;
  shape: SlotShape;
  /** The index to scan, or null for no scan. */
  index: IndexBuffers | null;
  /** An entity's row list, or null to scan rows [start, end) of the index. */
  list: Int32Array | null;
  start: number;
  end: number;
  /** Partition written (its rows and scores, and its count). */
  part: number;
  entity: number;
  layerMask: number;
  now: number;
  coarseK: number;
  /** Vector candidates. */
  k: number;
  /** The database file for the full-text query, or null for none. */
  file: string | null;
  match: string;
  entityId: string | null;
}

const connections = new Map<string, { db: Db; statement: Statement }>();
let lastIndex: IndexViews | undefined;
const slots = new Map<number, SlotViews>();

function viewsOf(b: IndexBuffers): IndexViews {
  if (lastIndex === undefined || lastIndex.id !== b.id) lastIndex = indexViews(b);
  return lastIndex;
}

function slotOf(t: CandidatesTask): SlotViews {
  let s = slots.get(t.slotId);
  if (s === undefined) {
    if (slots.size >= 256) slots.clear();
    s = slotViews(t.slot, t.shape);
    slots.set(t.slotId, s);
  }
  return s;
}

function fullText(t: CandidatesTask, file: string, s: SlotViews): void {
  let c = connections.get(file);
  if (c === undefined) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 30000');
    c = { db, statement: db.prepare(QUERIES.ftsFiltered).pluck(true) };
    connections.set(file, c);
  }
  const seqs = c.statement.all({
    match: t.match,
    entity: t.entityId,
    now: t.now,
    limit: t.shape.textLimit,
  }) as number[];
  for (let i = 0; i < seqs.length; i++) s.text[i] = seqs[i] as number;
  s.counts[SLOT_TEXT_COUNT] = seqs.length;
}

export const candidates = defineTask((t: CandidatesTask): void => {
  const s = slotOf(t);
  if (t.index !== null) {
    const filter: ScanFilter = { entity: t.entity, layerMask: t.layerMask, now: t.now };
    const n = searchInto(
      viewsOf(t.index),
      s.query,
      0,
      s.query,
      t.shape.dims,
      filter,
      { list: t.list, start: t.start, end: t.end },
      t.coarseK,
      t.k,
      s.rows,
      s.scores,
      t.part * t.shape.k,
    );
    s.counts[t.part] = n;
  }
  if (t.file !== null) fullText(t, t.file, s);
});
