/**
 * Token counting with a real BPE tokenizer that works offline: gpt-tokenizer's `o200k_base` (the
 * GPT-4o family's encoding) or `cl100k_base` (GPT-4/3.5). Other vendors' models use other vocabularies;
 * for them the count is an estimate within a few per cent on English text, which is what the prompt
 * budget needs (the reserved answer budget absorbs the difference).
 *
 * The encoding tables cost 40–70 MB and 80–160 ms to load, so they are loaded on first use (the
 * context actor loads them when it starts, not at import). Counts of recent texts are memoised:
 * a conversation's history is counted again on every request.
 *
 * Chat framing follows OpenAI's cookbook ("How to count tokens with tiktoken"): every message costs
 * 3 tokens of framing (+1 with a `name`), and every reply is primed with 3.
 */
import { LRUCache } from 'mnemonist';
import type { ChatMessage } from '../llm/types.js';

export type Encoding = 'o200k_base' | 'cl100k_base';
export const ENCODINGS: readonly Encoding[] = ['o200k_base', 'cl100k_base'];

export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const TOKENS_REPLY_PRIMING = 3;

export interface Tokenizer {
  readonly encoding: Encoding;
  count(text: string): number;
  encode(text: string): number[];
  decode(tokens: readonly number[]): string;
}

interface Bpe {
  countTokens(text: string): number;
  encode(text: string): number[];
  decode(tokens: Iterable<number>): string;
}

/** Texts shorter than this are counted directly: hashing them would cost as much. */
const MEMO_MIN_LENGTH = 24;

class BpeTokenizer implements Tokenizer {
  readonly encoding: Encoding;
  readonly #bpe: Bpe;
  readonly #memo: LRUCache<string, number>;

  constructor(encoding: Encoding, bpe: Bpe, memo: number) {
    this.encoding = encoding;
    this.#bpe = bpe;
    this.#memo = new LRUCache<string, number>(memo);
  }

  count(text: string): number {
    if (text.length < MEMO_MIN_LENGTH) return text.length === 0 ? 0 : this.#bpe.countTokens(text);
    let n = this.#memo.get(text);
    if (n === undefined) {
      n = this.#bpe.countTokens(text);
      this.#memo.set(text, n);
    }
    return n;
  }

  encode(text: string): number[] {
    return this.#bpe.encode(text);
  }

  decode(tokens: readonly number[]): string {
    return this.#bpe.decode(tokens);
  }
}

const loading = new Map<Encoding, Promise<Bpe>>();

/** Loads (once per process) and returns a tokenizer for `encoding`. */
export async function loadTokenizer(encoding: Encoding = 'o200k_base', memo = 4096): Promise<Tokenizer> {
  let p = loading.get(encoding);
  if (p === undefined) {
    p =
      encoding === 'cl100k_base'
        ? (import('gpt-tokenizer/encoding/cl100k_base') as Promise<Bpe>)
        : (import('gpt-tokenizer/encoding/o200k_base') as Promise<Bpe>);
    loading.set(encoding, p);
  }
  return new BpeTokenizer(encoding, await p, memo);
}

/** Tokens one message costs in a chat prompt, framing included. */
export function messageTokens(tokenizer: Tokenizer, m: ChatMessage): number {
  let n = TOKENS_PER_MESSAGE + (m.content === null ? 0 : tokenizer.count(m.content));
  if (m.name !== undefined) n += TOKENS_PER_NAME;
  if (m.tool_calls !== undefined) {
    for (const c of m.tool_calls)
      n += tokenizer.count(c.function.name) + tokenizer.count(c.function.arguments);
  }
  return n;
}

/** Tokens of a whole prompt: its messages plus the reply priming. */
export function promptTokens(tokenizer: Tokenizer, messages: readonly ChatMessage[]): number {
  let n = TOKENS_REPLY_PRIMING;
  for (const m of messages) n += messageTokens(tokenizer, m);
  return n;
}
