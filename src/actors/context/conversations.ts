/**
 * Conversations and their turns in SQLite: the writes the context actor sends through the store
 * (one transaction per group commit, acknowledged after COMMIT) and the reads it makes on the
 * store's read-only connection. Every query has an index (test/store-query-plans.test.ts).
 */
import type { Database as Db } from 'better-sqlite3';
import { randomId } from '../../runtime/ids.js';
import type { ChatMessage, ToolCall } from '../llm/types.js';
import type { WriteHandler } from '../store/store.js';

export const CONVERSATION_QUERIES = {
  conversation: 'SELECT id, entity_id, key_id, created_at, updated_at, turns FROM conversations WHERE id = ?',
  recentTurns:
    'SELECT seq, role, content, name, tool_calls, tool_call_id, model, tokens, created_at FROM turns WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?',
  byEntity:
    'SELECT id, entity_id, key_id, created_at, updated_at, turns FROM conversations WHERE entity_id = ? ORDER BY updated_at DESC LIMIT ?',
} as const;

export const CONVERSATION_ID = /^conv_[A-Za-z0-9_-]{8,64}$/;

export function newConversationId(): string {
  return `conv_${randomId(12)}`;
}

export interface TurnInput {
  readonly role: ChatMessage['role'];
  readonly content: string | null;
  readonly name?: string;
  readonly toolCalls?: readonly ToolCall[];
  readonly toolCallId?: string;
  readonly model?: string;
  readonly tokens: number;
}

export interface AppendTurns {
  readonly conversationId: string;
  readonly entityId: string | null;
  readonly keyId: string | null;
  readonly turns: readonly TurnInput[];
}

export interface TurnRow {
  seq: number;
  role: ChatMessage['role'];
  content: string | null;
  name: string | null;
  tool_calls: string | null;
  tool_call_id: string | null;
  model: string | null;
  tokens: number;
  created_at: number;
}

export interface ConversationRow {
  id: string;
  entity_id: string | null;
  key_id: string | null;
  created_at: number;
  updated_at: number;
  turns: number;
}

/** A stored turn as a chat message. */
export function turnMessage(r: TurnRow): ChatMessage {
  const m: { -readonly [K in keyof ChatMessage]: ChatMessage[K] } = { role: r.role, content: r.content };
  if (r.name !== null) m.name = r.name;
  if (r.tool_calls !== null) m.tool_calls = JSON.parse(r.tool_calls) as ToolCall[];
  if (r.tool_call_id !== null) m.tool_call_id = r.tool_call_id;
  return m;
}

export function conversationWriters(db: Db): Record<string, WriteHandler> {
  const upsert = db.prepare(`
    INSERT INTO conversations (id, entity_id, key_id, created_at, updated_at, turns)
    VALUES (@id, @entityId, @keyId, @now, @now, @n)
    ON CONFLICT (id) DO UPDATE SET updated_at = @now, turns = turns + @n
    RETURNING turns`);
  const insert = db.prepare(`
    INSERT INTO turns (conversation_id, seq, role, content, name, tool_calls, tool_call_id, model, tokens, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const remove = db.prepare('DELETE FROM conversations WHERE id = ?');
  return {
    appendTurns: (args, now) => {
      const a = args as AppendTurns;
      const n = a.turns.length;
      const { turns } = upsert.get({
        id: a.conversationId,
        entityId: a.entityId,
        keyId: a.keyId,
        now,
        n,
      }) as {
        turns: number;
      };
      let seq = turns - n;
      for (const t of a.turns) {
        insert.run(
          a.conversationId,
          seq++,
          t.role,
          t.content,
          t.name ?? null,
          t.toolCalls === undefined ? null : JSON.stringify(t.toolCalls),
          t.toolCallId ?? null,
          t.model ?? null,
          t.tokens,
          now,
        );
      }
      return { conversationId: a.conversationId, turns };
    },
    deleteConversation: (args) => remove.run((args as { id: string }).id).changes,
  };
}
