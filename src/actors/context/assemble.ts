/**
 * Prompt assembly within a model's context window (the context manager's algorithm; no I/O here).
 *
 * Budget = the model's context size − the answer's reserved tokens − reply priming. Into it go, in
 * this order of precedence:
 *   1. the system prompt (Jamey's, then the client's own system messages) — always;
 *   2. the newest turn (the message being answered) — always; if 1 + 2 do not fit, the request is
 *      refused with a validation error, since nothing useful can be sent;
 *   3. recalled memories, most relevant first, up to `memoryShare` of the budget, inside the
 *      leading system message;
 *   4. older turns newest-first until the budget is spent (a stop at the first one that does not
 *      fit, so the kept history is contiguous); an assistant message that called tools and the tool
 *      answers that follow it are kept or dropped together, since providers reject orphans.
 * The kept turns are then sent in time order. The final prompt is counted again as a whole and
 * trimmed if BPE merges across message boundaries made it larger than the sum of its parts, so the
 * result never exceeds the budget (property-tested).
 */
import { JameyError } from '../../runtime/errors.js';
import type { ChatMessage, RecalledMemory } from '../llm/types.js';
import { messageTokens, promptTokens, TOKENS_REPLY_PRIMING, type Tokenizer } from './tokenizer.js';

export interface AssembleInput {
  /** Jamey's own system prompt; empty for none. */
  readonly systemPrompt: string;
  /** The client's messages in time order (system messages anywhere are kept as system). */
  readonly messages: readonly ChatMessage[];
  /** Stored turns of the conversation, in time order, older than `messages`. */
  readonly history?: readonly ChatMessage[];
  /** Recalled memories, most relevant first. */
  readonly memories?: readonly RecalledMemory[];
  readonly contextTokens: number;
  /** Tokens reserved for the answer. */
  readonly reserveTokens: number;
  /** Largest share of the budget that memories may take. @default 0.25 */
  readonly memoryShare?: number;
}

export interface AssembledPrompt {
  readonly messages: ChatMessage[];
  readonly promptTokens: number;
  /** Tokens available to the prompt (context − reserve). */
  readonly budget: number;
  readonly memoriesUsed: readonly RecalledMemory[];
  /** Turns (history + client messages, system excluded) that were sent / left out. */
  readonly turnsKept: number;
  readonly turnsDropped: number;
}

export const MEMORY_HEADER = 'What you remember that may bear on this (most relevant first):';

function systemText(prompt: string, memories: readonly RecalledMemory[]): string {
  if (memories.length === 0) return prompt;
  const lines = memories.map((m) => `- ${m.content.replace(/\s+/g, ' ').trim()}`);
  return `${prompt.length > 0 ? `${prompt}\n\n` : ''}${MEMORY_HEADER}\n${lines.join('\n')}`;
}

/** Groups turns into units that are kept or dropped whole (assistant tool calls + their answers). */
function units(turns: readonly ChatMessage[]): ChatMessage[][] {
  const out: ChatMessage[][] = [];
  for (const m of turns) {
    const last = out[out.length - 1];
    if (
      m.role === 'tool' &&
      last !== undefined &&
      last.some((x) => x.tool_calls !== undefined || x.role === 'tool')
    ) {
      last.push(m);
    } else {
      out.push([m]);
    }
  }
  return out;
}

export function assemblePrompt(tokenizer: Tokenizer, input: AssembleInput): AssembledPrompt {
  const budget = input.contextTokens - input.reserveTokens;
  const clientSystem: ChatMessage[] = [];
  const turns: ChatMessage[] = [...(input.history ?? [])];
  for (const m of input.messages) (m.role === 'system' ? clientSystem : turns).push(m);
  if (turns.length === 0) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'messages must contain at least one non-system message', {
      details: [{ path: '/messages', problem: 'no user, assistant or tool message' }],
    });
  }
  const groups = units(turns);
  const newest = groups[groups.length - 1] as ChatMessage[];

  let fixed = TOKENS_REPLY_PRIMING;
  if (input.systemPrompt.length > 0)
    fixed += messageTokens(tokenizer, { role: 'system', content: input.systemPrompt });
  for (const m of clientSystem) fixed += messageTokens(tokenizer, m);
  let newestTokens = 0;
  for (const m of newest) newestTokens += messageTokens(tokenizer, m);
  if (fixed + newestTokens > budget) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `the prompt needs ${fixed + newestTokens} tokens, more than the ${budget} this model leaves after reserving ${input.reserveTokens} for the answer`,
      { details: [{ path: '/messages', problem: 'too long for the model’s context window' }] },
    );
  }

  // Memories: each line costs about its own tokens plus a newline; checked exactly at the end.
  const share = input.memoryShare ?? 0.25;
  let memoryBudget = Math.min(Math.floor(budget * share), budget - fixed - newestTokens);
  const memories: RecalledMemory[] = [];
  if (input.memories !== undefined && input.memories.length > 0 && memoryBudget > 0) {
    memoryBudget -=
      tokenizer.count(MEMORY_HEADER) + 2 + (input.systemPrompt.length > 0 ? 0 : TOKENS_REPLY_PRIMING);
    for (const m of input.memories) {
      const cost = tokenizer.count(m.content) + 2;
      if (cost > memoryBudget) break;
      memoryBudget -= cost;
      memories.push(m);
    }
  }

  const build = (mems: readonly RecalledMemory[], keptGroups: number): ChatMessage[] => {
    const out: ChatMessage[] = [];
    const sys = systemText(input.systemPrompt, mems);
    if (sys.length > 0) out.push({ role: 'system', content: sys });
    out.push(...clientSystem);
    for (let g = groups.length - keptGroups; g < groups.length; g++)
      out.push(...(groups[g] as ChatMessage[]));
    return out;
  };

  let used = promptTokens(tokenizer, build(memories, 1));
  let kept = 1;
  for (let g = groups.length - 2; g >= 0; g--) {
    let cost = 0;
    for (const m of groups[g] as ChatMessage[]) cost += messageTokens(tokenizer, m);
    if (used + cost > budget) break;
    used += cost;
    kept++;
  }

  // Exact count of the final prompt; trim memories, then history, until it fits.
  let messages = build(memories, kept);
  let total = promptTokens(tokenizer, messages);
  while (total > budget && (memories.length > 0 || kept > 1)) {
    if (memories.length > 0) memories.pop();
    else kept--;
    messages = build(memories, kept);
    total = promptTokens(tokenizer, messages);
  }
  if (total > budget) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `the prompt needs ${total} tokens, more than the ${budget} available`,
      {
        details: [{ path: '/messages', problem: 'too long for the model’s context window' }],
      },
    );
  }
  let keptTurns = 0;
  for (let g = groups.length - kept; g < groups.length; g++) keptTurns += (groups[g] as ChatMessage[]).length;
  return {
    messages,
    promptTokens: total,
    budget,
    memoriesUsed: memories,
    turnsKept: keptTurns,
    turnsDropped: turns.length - keptTurns,
  };
}
