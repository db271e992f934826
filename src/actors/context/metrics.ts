/**
 * Chat metrics (docs/metrics.md): conversations started, turns recorded by role, and answers the
 * conscience refused, by stage. Labels are from fixed sets (roles, stages); never a conversation id.
 */
import { Counter, type Registry } from 'prom-client';
import type { ChatService } from './chat.js';

export function registerChatMetrics(registry: Registry, chat: ChatService): void {
  const conversations = new Counter({
    name: 'jamey_chat_conversations_started_total',
    help: 'Conversations started (chat requests that continued none).',
    registers: [registry],
  });
  const turns = new Counter({
    name: 'jamey_chat_turns_total',
    help: 'Turns recorded in conversation history, by role.',
    labelNames: ['role'] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'jamey_chat_refusals_total',
    help: 'Chat requests (input) or answers (output) the conscience refused.',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  chat.observer = {
    conversationStarted: () => conversations.inc(),
    turns: (role, n) => turns.inc({ role }, n),
    refused: (stage) => refusals.inc({ stage }),
  };
}
