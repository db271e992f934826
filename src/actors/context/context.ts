/**
 * The context actor: what a chat turn needs before it can be sent, and what it leaves behind.
 *
 * - prepare: the conversation's stored turns (newest `maxHistoryTurns`, read on the store's
 *   read-only connection), the memories recalled for the question (`memory.recall`, filtered by the
 *   entity — with no entity named there is nobody whose memory to use, so none), and the entity's
 *   preferred model. A conversation belongs to the key that started it; another key gets 404.
 * - record: the turn's messages appended to the conversation (through the store actor, acknowledged
 *   after COMMIT) and the exchange stored as an episodic memory of the entity.
 *
 * Prompt assembly itself (assemble.ts) is pure and runs in the caller, per candidate model, because
 * the window depends on the model the router picks.
 */
import type { ActorContext, ActorSpec, Behavior } from '../../runtime/actor.js';
import { JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import type { ChatMessage, RecalledMemory } from '../llm/types.js';
import type { MemoryMessage, RecallHit } from '../memory/memory.js';
import { MEMORY_ACTOR } from '../memory/memory.js';
import { QUERIES as MEMORY_QUERIES } from '../memory/repository.js';
import { MAX_CONTENT_CHARS } from '../memory/types.js';
import type { Store } from '../store/store.js';
import {
  type AppendTurns,
  CONVERSATION_QUERIES,
  type ConversationRow,
  type TurnRow,
  turnMessage,
} from './conversations.js';

export const CONTEXT_ACTOR = 'context';

export interface ContextOptions {
  /** Stored turns loaded for a conversation (older ones are never sent). @default 200 */
  readonly maxHistoryTurns: number;
  /** Memories recalled per question. @default 5 */
  readonly recallLimit: number;
  /** Recalled memories below this score are left out. @default 0 */
  readonly minRecallScore: number;
}

export const DEFAULT_CONTEXT_OPTIONS: Readonly<ContextOptions> = Object.freeze({
  maxHistoryTurns: 200,
  recallLimit: 5,
  minRecallScore: 0,
});

export interface PrepareInput {
  readonly conversationId: string | null;
  readonly keyId: string | null;
  readonly entityId: string | null;
  /** The question (newest user message) to recall memories for. */
  readonly query: string;
  /** Look up the entity's preferred model (when the request names none). */
  readonly wantPreferred: boolean;
}

export interface Prepared {
  readonly history: ChatMessage[];
  readonly memories: RecalledMemory[];
  readonly preferred: string | null;
  /** Whether the conversation already exists. */
  readonly existing: boolean;
}

export interface RecordInput extends AppendTurns {
  /** The exchange as text, stored as an episodic memory of the entity (null: do not store). */
  readonly episode: string | null;
  readonly model: string;
}

export type ContextMessage =
  | { type: 'prepare'; input: PrepareInput }
  | { type: 'record'; input: RecordInput };

export function contextActorSpec(deps: {
  store: Store;
  options?: Partial<ContextOptions>;
  log?: Logger;
}): ActorSpec<ContextMessage, unknown> {
  const o = { ...DEFAULT_CONTEXT_OPTIONS, ...deps.options };
  const store = deps.store;
  return {
    name: CONTEXT_ACTOR,
    dependsOn: ['store', MEMORY_ACTOR],
    // Each message waits on I/O (reads, recall, commits): many at once.
    concurrency: 256,
    mailbox: { capacity: 10_000 },
    start(ctx: ActorContext): Behavior<ContextMessage, unknown> {
      const memory = ctx.actor<MemoryMessage, unknown>(MEMORY_ACTOR);
      const prepare = async (input: PrepareInput): Promise<Prepared> => {
        let history: ChatMessage[] = [];
        let existing = false;
        if (input.conversationId !== null) {
          const conv = store.reader.statement(CONVERSATION_QUERIES.conversation).get(input.conversationId) as
            | ConversationRow
            | undefined;
          if (conv !== undefined) {
            if (conv.key_id !== input.keyId) {
              throw new JameyError('JAMEY_ERR_NOT_FOUND', 'no such conversation', {
                details: [{ path: '/conversation', problem: 'unknown conversation id' }],
              });
            }
            existing = true;
            const rows = store.reader
              .statement(CONVERSATION_QUERIES.recentTurns)
              .all(input.conversationId, o.maxHistoryTurns) as TurnRow[];
            history = new Array<ChatMessage>(rows.length);
            for (let i = 0; i < rows.length; i++)
              history[rows.length - 1 - i] = turnMessage(rows[i] as TurnRow);
          }
        }
        let memories: RecalledMemory[] = [];
        let preferred: string | null = null;
        if (input.entityId !== null) {
          if (input.wantPreferred) {
            const row = store.reader.statement(MEMORY_QUERIES.preferredModel).get(input.entityId) as
              | { preferred_model: string }
              | undefined;
            preferred = row?.preferred_model ?? null;
          }
          if (input.query.trim().length > 0) {
            const hits = (await memory.ask({
              op: 'recall',
              input: {
                query: input.query.slice(0, MAX_CONTENT_CHARS),
                entityId: input.entityId,
                limit: o.recallLimit,
              },
            })) as RecallHit[];
            memories = hits
              .filter((h) => h.score >= o.minRecallScore)
              .map((h) => ({ content: h.content, score: h.score, layer: h.layer }));
          }
        }
        return { history, memories, preferred, existing };
      };
      const record = async (input: RecordInput): Promise<{ turns: number }> => {
        const result = await store.write<{ turns: number }>('context.appendTurns', {
          conversationId: input.conversationId,
          entityId: input.entityId,
          keyId: input.keyId,
          turns: input.turns,
        } satisfies AppendTurns);
        if (input.episode !== null && input.episode.trim().length > 0) {
          await memory.ask({
            op: 'store',
            input: {
              layer: 'episodic',
              content: input.episode.slice(0, MAX_CONTENT_CHARS),
              entityId: input.entityId,
              source: 'chat',
              metadata: { conversationId: input.conversationId, model: input.model },
            },
          });
        }
        return result;
      };
      return {
        receive(msg) {
          switch (msg.type) {
            case 'prepare':
              return prepare(msg.input);
            case 'record':
              return record(msg.input).catch((err: unknown) => {
                deps.log?.error('chat turn not recorded', { err, conversationId: msg.input.conversationId });
                throw err;
              });
            default:
              throw new JameyError('JAMEY_ERR_VALIDATION', 'unknown context message');
          }
        },
      };
    },
  };
}
