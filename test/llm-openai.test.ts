import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { SseDecoder } from '../src/actors/llm/http.js';
import {
  type ChatRequest,
  isRetryable,
  OpenAIProvider,
  type OpenAIProviderOptions,
} from '../src/actors/llm/index.js';
import { isJameyError, JameyError } from '../src/runtime/errors.js';
import {
  assemble,
  chatRequest,
  collect,
  fakeUpstream,
  PROMPT,
  TOOLS,
  upstreamExpectation,
  using,
} from './fixtures/llm-assert.js';
import { providerFaultTests } from './fixtures/llm-faults.js';
import { startFakeOpenAI } from './fixtures/upstreams.js';

const KEY = 'sk-test-4f9c2a7e1b';
const REQUEST = chatRequest('gpt-test');
const fake = fakeUpstream(startFakeOpenAI);

function provider(options: Partial<OpenAIProviderOptions> = {}): OpenAIProvider {
  return new OpenAIProvider({ name: 'openai-test', baseUrl: fake().url, apiKey: KEY, ...options });
}

const expectUpstream = upstreamExpectation(
  'openai-test',
  /^http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions$/,
);

test('complete: echoes through /v1/chat/completions with the bearer key, usage and finish reason', async () => {
  await using(provider(), async (p) => {
    const result = await p.complete({ ...REQUEST, maxTokens: 50, temperature: 0.2, stop: ['\n'] });
    assert.equal(result.content, PROMPT);
    assert.equal(result.model, 'gpt-test');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 7, completionTokens: 5 });
    assert.equal(result.toolCalls, undefined);
    const last = fake().requests.last!;
    assert.equal(last.path, '/v1/chat/completions');
    assert.equal(last.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(last.body?.messages, REQUEST.messages);
    assert.equal(last.body?.max_tokens, 50);
    assert.equal(last.body?.temperature, 0.2);
    assert.deepEqual(last.body?.stop, ['\n']);
    assert.equal(last.body?.stream, undefined);
  });
});

test('complete: a baseUrl ending in /v1 is not doubled; maxTokensField renames the limit', async () => {
  await using(
    provider({ baseUrl: `${fake().url}/v1/`, maxTokensField: 'max_completion_tokens' }),
    async (p) => {
      const result = await p.complete({ ...REQUEST, maxTokens: 2 });
      assert.equal(fake().requests.last?.path, '/v1/chat/completions');
      assert.equal(fake().requests.last?.body?.max_completion_tokens, 2);
      assert.equal(fake().requests.last?.body?.max_tokens, undefined);
      assert.equal(result.content, 'the quick');
      assert.equal(result.finishReason, 'length');
    },
  );
});

test('stream: the assembled deltas equal the complete answer, with usage and finish reason', async () => {
  await using(provider(), async (p) => {
    const whole = await p.complete(REQUEST);
    const chunks = await collect(p.stream(REQUEST));
    const { content, end } = assemble(chunks);
    assert.equal(content, whole.content);
    assert.ok(chunks.length > 2, 'more than one delta');
    assert.equal(end.finishReason, 'stop');
    assert.deepEqual(end.usage, whole.usage);
    assert.equal(fake().requests.last?.body?.stream, true);
    assert.deepEqual(fake().requests.last?.body?.stream_options, { include_usage: true });
    const cut = assemble(await collect(p.stream({ ...REQUEST, maxTokens: 3 })));
    assert.equal(cut.content, 'the quick brown');
    assert.equal(cut.end.finishReason, 'length');
  });
});

test('tool calls pass through: tools and tool_choice in, tool_calls out, streamed as deltas', async () => {
  await using(provider(), async (p) => {
    const request: ChatRequest = { ...REQUEST, tools: TOOLS, toolChoice: 'required' };
    const whole = await p.complete(request);
    assert.deepEqual(fake().requests.last?.body?.tools, TOOLS);
    assert.equal(fake().requests.last?.body?.tool_choice, 'required');
    assert.equal(whole.finishReason, 'tool_calls');
    assert.equal(whole.content, null);
    assert.deepEqual(whole.toolCalls, [
      {
        id: 'call_fake_0',
        type: 'function',
        function: { name: 'lookup', arguments: JSON.stringify({ text: PROMPT }) },
      },
    ]);
    const { toolDeltas, end } = assemble(await collect(p.stream(request)));
    assert.equal(end.finishReason, 'tool_calls');
    assert.ok(toolDeltas.length >= 2, 'arguments arrive in fragments');
    assert.ok(toolDeltas.every((d) => d.index === 0));
    assert.equal(toolDeltas[0]?.id, 'call_fake_0');
    assert.equal(toolDeltas[0]?.function?.name, 'lookup');
    const args = toolDeltas.map((d) => d.function?.arguments ?? '').join('');
    assert.equal(args, whole.toolCalls?.[0]?.function.arguments);
    // An assistant turn that called tools and the tool's answer go back unchanged.
    const followUp: ChatRequest = {
      model: 'gpt-test',
      messages: [
        { role: 'user', content: PROMPT },
        { role: 'assistant', content: null, tool_calls: whole.toolCalls! },
        { role: 'tool', content: 'a fox', tool_call_id: 'call_fake_0' },
      ],
    };
    await p.complete(followUp);
    assert.deepEqual(fake().requests.last?.body?.messages, followUp.messages);
  });
});

test('connections are kept alive across answers, streamed or not; a reader that stops early frees its own', async () => {
  await using(provider({ connections: 1 }), async (p) => {
    const opened = fake().connections;
    for (let i = 0; i < 3; i++) {
      await p.complete(REQUEST);
      assemble(await collect(p.stream(REQUEST)));
    }
    assert.equal(fake().connections - opened, 1, 'six answers over one connection');
    fake().behave({ stall: 2 });
    for await (const c of p.stream(REQUEST)) {
      assert.equal(c.type, 'delta');
      break;
    }
    fake().behave('ok');
    // With one connection, this waits forever unless stopping early released the stalled one.
    assert.equal((await p.complete(REQUEST)).content, PROMPT);
  });
});

test('embed: vectors in input order by index, usage, no request for no input', async () => {
  await using(provider({ baseUrl: `${fake().url}/v1` }), async (p) => {
    const result = await p.embed('embed-test', ['a', 'bb cc', 'ddd']);
    assert.equal(fake().requests.last?.path, '/v1/embeddings');
    assert.deepEqual(fake().requests.last?.body?.input, ['a', 'bb cc', 'ddd']);
    assert.deepEqual(result.vectors, [
      [2, 3, 4],
      [6, 8, 10],
      [4, 5, 6],
    ]);
    assert.deepEqual(result.usage, { promptTokens: 4 });
    const before = fake().requests.count;
    assert.deepEqual(await p.embed('embed-test', []), { vectors: [], usage: { promptTokens: 0 } });
    assert.equal(fake().requests.count, before);
  });
});

// The shared faults. OpenAI names the rejected key in its 401 body.
providerFaultTests({
  provider: (o) => provider(o),
  fake,
  request: REQUEST,
  prompt: PROMPT,
  key: KEY,
  expectUpstream,
  streamStatuses: [[404, false]],
  endMarker: '[DONE]',
  rejectedKeyBody: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}.` } }),
  sentKey: (h) => h.authorization,
  expectedSentKey: `Bearer ${KEY}`,
  errorEventBreaksStream: true,
});

test('options are validated and name the offending option', () => {
  const bad: Array<[Partial<OpenAIProviderOptions>, string]> = [
    [{ name: '' }, 'name'],
    [{ baseUrl: 'not a url' }, 'baseUrl'],
    [{ baseUrl: 'ftp://127.0.0.1' }, 'baseUrl'],
    [{ apiKey: '' }, 'apiKey'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ connectTimeoutMs: -1 }, 'connectTimeoutMs'],
    [{ connections: 1.5 }, 'connections'],
    [{ keepAliveMs: Number.NaN }, 'keepAliveMs'],
    [{ maxTokensField: 'tokens' as 'max_tokens' }, 'maxTokensField'],
  ];
  for (const [options, name] of bad) {
    assert.throws(
      () => new OpenAIProvider({ name: 'x', baseUrl: fake().url, ...options }),
      (err: unknown) => {
        assert.ok(isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'), inspect(err));
        assert.match(err.message, new RegExp(`^${name} `));
        assert.equal((err.details as { option: string }).option, name);
        return true;
      },
    );
  }
});

test('after close() calls fail without reaching the service and are not retryable', async () => {
  const p = provider();
  await p.close();
  await p.close();
  await assert.rejects(p.complete(REQUEST), expectUpstream('network', false));
  await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('network', false));
  assert.equal(fake().requests.count, 0);
});

test('isRetryable: only upstream errors that say so', () => {
  assert.equal(isRetryable(new Error('boom')), false);
  assert.equal(isRetryable(new JameyError('JAMEY_ERR_ABORTED')), false);
  assert.equal(isRetryable(new JameyError('JAMEY_ERR_UPSTREAM_TIMEOUT')), true);
  assert.equal(
    isRetryable(new JameyError('JAMEY_ERR_UPSTREAM', 'x', { details: { retryable: false } })),
    false,
  );
  assert.equal(
    isRetryable(new JameyError('JAMEY_ERR_UPSTREAM', 'x', { details: { retryable: true } })),
    true,
  );
});

test('SSE decoding: events and characters split across chunks', () => {
  const decoder = new SseDecoder();
  const bytes = Buffer.from('event: a\ndata: fox 🦊\n\n: comment\r\ndata: {"b":1}\r\n\r\ndata: [DONE]\n\n');
  const cutInEmoji = bytes.indexOf(Buffer.from('🦊')) + 1;
  const events: Array<{ event?: string | undefined; data: string }> = [];
  for (const part of [
    bytes.subarray(0, cutInEmoji),
    bytes.subarray(cutInEmoji, cutInEmoji + 9),
    bytes.subarray(cutInEmoji + 9),
  ]) {
    for (const e of decoder.feed(part)) events.push({ event: e.event, data: e.data });
  }
  assert.deepEqual(events, [
    { event: 'a', data: 'fox 🦊' },
    { event: undefined, data: '{"b":1}' },
    { event: undefined, data: '[DONE]' },
  ]);
});
