import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { assemblePrompt, MEMORY_HEADER } from '../src/actors/context/assemble.js';
import { loadTokenizer, promptTokens, type Tokenizer } from '../src/actors/context/tokenizer.js';
import type { ChatMessage } from '../src/actors/llm/types.js';

let tk: Tokenizer;
before(async () => {
  tk = await loadTokenizer('o200k_base');
});

test('the tokenizer counts real BPE tokens (o200k_base)', () => {
  assert.equal(tk.count('hello world'), 2);
  assert.deepEqual(tk.decode(tk.encode('Jamey remembers things.')), 'Jamey remembers things.');
  // A chat prompt: 3 tokens per message + content, 3 for the reply priming (OpenAI cookbook).
  assert.equal(promptTokens(tk, [{ role: 'user', content: 'hello world' }]), 3 + 2 + 3);
});

const word = fc.constantFrom(
  'the',
  'garden',
  'apple',
  'kubernetes',
  'über',
  '日本',
  'naïve',
  '42',
  'process',
  '!',
);
const text = fc.array(word, { minLength: 1, maxLength: 60 }).map((w) => w.join(' '));
const turn = fc.record({ role: fc.constantFrom('user' as const, 'assistant' as const), content: text });

test('assembly never exceeds the budget and keeps the newest turn and a contiguous history (property)', () => {
  fc.assert(
    fc.property(
      fc.array(turn, { minLength: 0, maxLength: 40 }),
      turn,
      fc.array(fc.record({ content: text, score: fc.double({ min: 0, max: 1, noNaN: true }) }), {
        maxLength: 8,
      }),
      fc.integer({ min: 200, max: 4000 }),
      fc.integer({ min: 16, max: 512 }),
      fc.option(text, { nil: undefined }),
      (history, newest, memories, contextTokens, reserve, system) => {
        const messages: ChatMessage[] = [
          ...(system === undefined ? [] : [{ role: 'system' as const, content: system }]),
          { role: 'user', content: newest.content },
        ];
        let out: ReturnType<typeof assemblePrompt>;
        try {
          out = assemblePrompt(tk, {
            systemPrompt: 'You are Jamey.',
            messages,
            history,
            memories,
            contextTokens,
            reserveTokens: reserve,
          });
        } catch (err) {
          // Refused only when the system prompt and the newest turn alone do not fit.
          assert.equal((err as { code?: string }).code, 'JAMEY_ERR_VALIDATION');
          const minimal = promptTokens(tk, [{ role: 'system', content: 'You are Jamey.' }, ...messages]);
          assert.ok(
            minimal > contextTokens - reserve,
            `refused although ${minimal} ≤ ${contextTokens - reserve}`,
          );
          return;
        }
        assert.ok(
          out.promptTokens <= contextTokens - reserve,
          `${out.promptTokens} > ${contextTokens - reserve}`,
        );
        assert.equal(out.promptTokens, promptTokens(tk, out.messages), 'reported count is the real count');
        const last = out.messages[out.messages.length - 1];
        assert.equal(last?.content, newest.content, 'the newest turn is last');
        // The kept history is the most recent part of the stored history, in time order.
        const turns = out.messages.filter((m) => m.role !== 'system');
        const keptHistory = turns.slice(0, -1);
        assert.deepEqual(
          keptHistory.map((m) => m.content),
          history.slice(history.length - keptHistory.length).map((m) => m.content),
        );
        assert.equal(out.turnsKept + out.turnsDropped, history.length + 1);
        if (system !== undefined)
          assert.ok(out.messages.some((m) => m.role === 'system' && m.content === system));
        // Memories within their share of the budget, most relevant first (in the given order).
        if (out.memoriesUsed.length > 0) {
          const sys = out.messages[0]?.content ?? '';
          assert.ok(sys.includes(MEMORY_HEADER));
          assert.deepEqual(out.memoriesUsed, memories.slice(0, out.memoriesUsed.length));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('history is dropped oldest first when the window is small', () => {
  const history: ChatMessage[] = Array.from({ length: 50 }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `turn number ${i} with some padding words to cost tokens`,
  }));
  const out = assemblePrompt(tk, {
    systemPrompt: '',
    messages: [{ role: 'user', content: 'and now?' }],
    history,
    contextTokens: 300,
    reserveTokens: 50,
  });
  assert.ok(out.turnsDropped > 0 && out.turnsKept > 1);
  const firstKept = out.messages[0]?.content ?? '';
  assert.match(firstKept, /turn number (\d+)/);
  assert.ok(Number(/turn number (\d+)/.exec(firstKept)?.[1]) > 0, 'the oldest turns went first');
});

test('an assistant tool call and its answers are kept or dropped together', () => {
  const history: ChatMessage[] = [
    { role: 'user', content: 'x '.repeat(200) },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":"weather"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'sunny '.repeat(30) },
  ];
  for (const contextTokens of [120, 160, 200, 260, 400, 700]) {
    let out: ReturnType<typeof assemblePrompt>;
    try {
      out = assemblePrompt(tk, {
        systemPrompt: '',
        messages: [{ role: 'user', content: 'so?' }],
        history,
        contextTokens,
        reserveTokens: 20,
      });
    } catch {
      continue;
    }
    const hasCall = out.messages.some((m) => m.tool_calls !== undefined);
    const hasAnswer = out.messages.some((m) => m.role === 'tool');
    assert.equal(hasCall, hasAnswer, `window ${contextTokens}: no orphan tool message`);
  }
});

test('a prompt that cannot fit is refused with a validation error naming messages', () => {
  assert.throws(
    () =>
      assemblePrompt(tk, {
        systemPrompt: '',
        messages: [{ role: 'user', content: 'word '.repeat(500) }],
        contextTokens: 200,
        reserveTokens: 50,
      }),
    (err: { code?: string; details?: Array<{ path: string }> }) =>
      err.code === 'JAMEY_ERR_VALIDATION' && err.details?.[0]?.path === '/messages',
  );
});
