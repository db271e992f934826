/**
 * Persisted predictive models: one row of `predictive_models` per scope (`global` or
 * `entity:<id>`). A row's `data` packs a text model's buffer with the JSON of the scope's other
 * state (the combiner for the global scope; the content and timing models for an entity):
 *
 *   u32 LE length of the text model's bytes | text model bytes | UTF-8 JSON
 *
 * so one write replaces a scope atomically and a reader never sees a text model from one save
 * with a timing model from another.
 */
import type { Database as Db } from 'better-sqlite3';
import { JameyError } from '../../runtime/errors.js';
import type { WriteHandler } from '../store/store.js';

export type ModelKind = 'global' | 'entity';

export interface SavedModel {
  scope: string;
  kind: ModelKind;
  /** The packed row (`packModel`), or: */
  data?: Uint8Array;
  /**
   * The text model's bytes and the JSON, packed by the writer. A view over a snapshot's
   * SharedArrayBuffer reaches the writer thread without a copy, so a 16 MiB model is copied once,
   * there, instead of on the event loop.
   */
  text?: Uint8Array;
  json?: unknown;
  messages: number;
}

export interface PackedModel {
  text: Uint8Array;
  json: unknown;
}

export const GLOBAL_SCOPE = 'global';

export function entityScope(entity: string): string {
  return `entity:${entity}`;
}

export function packModel(text: Uint8Array, json: unknown): Uint8Array {
  const tail = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(4 + text.length + tail.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 4);
  out.set(tail, 4 + text.length);
  return out;
}

export function unpackModel(data: Uint8Array): PackedModel {
  if (data.length < 4) throw new JameyError('JAMEY_ERR_VALIDATION', 'predictive model row is truncated');
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  if (4 + n > data.length) throw new JameyError('JAMEY_ERR_VALIDATION', 'predictive model row is truncated');
  return {
    text: data.subarray(4, 4 + n),
    json: JSON.parse(new TextDecoder().decode(data.subarray(4 + n))) as unknown,
  };
}

export const PREDICTIVE_QUERIES = {
  load: 'SELECT kind, data, messages FROM predictive_models WHERE scope = ?',
  count: 'SELECT count(*) AS n FROM predictive_models',
} as const;

/** The `predictive` domain of the store: `predictive.save` upserts one scope. */
export function predictiveWriters(db: Db): Record<string, WriteHandler> {
  const upsert = db.prepare(`
    INSERT INTO predictive_models (scope, kind, data, updated_at, messages)
    VALUES (@scope, @kind, @data, @updatedAt, @messages)
    ON CONFLICT (scope) DO UPDATE SET
      kind = excluded.kind, data = excluded.data, updated_at = excluded.updated_at,
      messages = excluded.messages`);
  return {
    save: (args, now) => {
      const m = args as SavedModel;
      const packed = m.text !== undefined ? packModel(m.text, m.json) : m.data;
      if (packed === undefined) throw new TypeError('predictive.save needs data or text');
      const data = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
      return upsert.run({
        scope: m.scope,
        kind: m.kind,
        data,
        updatedAt: Math.round(now),
        messages: m.messages,
      }).changes;
    },
  };
}
