import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import {
  AnthropicProvider,
  type AnthropicProviderOptions,
  type ChatRequest,
  type UpstreamFailure,
} from '../src/actors/llm/index.js';
import { isJameyError, type JameyError } from '../src/runtime/errors.js';
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
import { startFakeAnthropic } from './fixtures/upstreams.js';

const KEY = 'sk-ant-test-93b1d0c4e8';
const REQUEST = chatRequest('claude-test');
const fake = fakeUpstream(startFakeAnthropic);

function provider(options: Partial<AnthropicProviderOptions> = {}): AnthropicProvider {
  return new AnthropicProvider({ name: 'anthropic-test', baseUrl: fake().url, apiKey: KEY, ...options });
}

const expectUpstream = upstreamExpectation('anthropic-test', /^http:\/\/127\.0\.0\.1:\d+\/v1\/messages$/);

test('complete: system text goes top-level, the key in x-api-key, max_tokens defaults; usage and stop reason', async () => {
  await using(provider(), async (p) => {
    const result = await p.complete({ ...REQUEST, temperature: 0.2, stop: ['\n'] });
    assert.equal(result.content, PROMPT);
    assert.equal(result.model, 'claude-test');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 7, completionTokens: 5 });
    assert.equal(result.toolCalls, undefined);
    const last = fake().requests.last!;
    assert.equal(last.path, '/v1/messages');
    assert.equal(last.headers['x-api-key'], KEY);
    assert.equal(last.headers['anthropic-version'], '2023-06-01');
    assert.equal(last.headers.authorization, undefined);
    assert.equal(last.body?.system, 'be brief');
    assert.deepEqual(last.body?.messages, [{ role: 'user', content: PROMPT }]);
    assert.equal(last.body?.max_tokens, 1024);
    assert.equal(last.body?.temperature, 0.2);
    assert.deepEqual(last.body?.stop_sequences, ['\n']);
    assert.equal(last.body?.stream, undefined);
  });
});

test('complete: a baseUrl ending in /v1 is not doubled; max_tokens comes from the request or the option', async () => {
  await using(provider({ baseUrl: `${fake().url}/v1`, defaultMaxTokens: 2 }), async (p) => {
    const result = await p.complete(REQUEST);
    assert.equal(fake().requests.last?.path, '/v1/messages');
    assert.equal(fake().requests.last?.body?.max_tokens, 2);
    assert.equal(result.content, 'the quick');
    assert.equal(result.finishReason, 'length');
    await p.complete({ ...REQUEST, maxTokens: 40 });
    assert.equal(fake().requests.last?.body?.max_tokens, 40);
  });
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
    const cut = assemble(await collect(p.stream({ ...REQUEST, maxTokens: 3 })));
    assert.equal(cut.content, 'the quick brown');
    assert.equal(cut.end.finishReason, 'length');
    assert.deepEqual(cut.end.usage, { promptTokens: 7, completionTokens: 3 });
  });
});

test('tool use: OpenAI tool definitions in, tool_use blocks out as tool calls, streamed as deltas', async () => {
  await using(provider(), async (p) => {
    const request: ChatRequest = { ...REQUEST, tools: TOOLS, toolChoice: 'required' };
    const whole = await p.complete(request);
    assert.deepEqual(fake().requests.last?.body?.tools, [
      { name: 'lookup', description: 'Looks a word up', input_schema: { type: 'object', properties: {} } },
    ]);
    assert.deepEqual(fake().requests.last?.body?.tool_choice, { type: 'any' });
    assert.equal(whole.finishReason, 'tool_calls');
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
    // The call and its result go back as tool_use and tool_result blocks.
    await p.complete({
      model: 'claude-test',
      messages: [
        { role: 'user', content: PROMPT },
        { role: 'assistant', content: null, tool_calls: whole.toolCalls! },
        { role: 'tool', content: 'a fox', tool_call_id: 'call_fake_0' },
      ],
    });
    assert.deepEqual(fake().requests.last?.body?.messages, [
      { role: 'user', content: PROMPT },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_fake_0', name: 'lookup', input: { text: PROMPT } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_fake_0', content: 'a fox' }] },
    ]);
  });
});

// The shared faults. A proxy in front of the API may echo the rejected key.
providerFaultTests({
  provider: (o) => provider(o),
  fake,
  request: REQUEST,
  prompt: PROMPT,
  key: KEY,
  expectUpstream,
  streamStatuses: [
    [529, true],
    [401, false],
  ],
  endMarker: 'message_stop',
  rejectedKeyBody: JSON.stringify({
    type: 'error',
    error: { type: 'authentication_error', message: `bad key ${KEY}` },
  }),
  sentKey: (h) => h['x-api-key'],
  expectedSentKey: KEY,
  errorEventBreaksStream: false,
});

test('an error event inside the stream is a coded error with the status its type stands for', async () => {
  await using(provider(), async (p) => {
    fake().behave({ errorAfter: 1 });
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const c of p.stream(REQUEST)) if (c.type === 'delta') seen.push(c.content ?? '');
      },
      (err) => {
        expectUpstream('status', true, 529)(err);
        assert.match(((err as JameyError).details as UpstreamFailure).body ?? '', /overloaded_error/);
        return true;
      },
    );
    assert.deepEqual(seen, ['the']);
  });
});

test('options are validated and name the offending option', () => {
  const bad: Array<[Partial<AnthropicProviderOptions>, string]> = [
    [{ name: '' }, 'name'],
    [{ baseUrl: 'not a url' }, 'baseUrl'],
    [{ baseUrl: 'ftp://127.0.0.1' }, 'baseUrl'],
    [{ apiKey: '' }, 'apiKey'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ connectTimeoutMs: -1 }, 'connectTimeoutMs'],
    [{ connections: 1.5 }, 'connections'],
    [{ keepAliveMs: Number.NaN }, 'keepAliveMs'],
    [{ defaultMaxTokens: 0 }, 'defaultMaxTokens'],
    [{ anthropicVersion: 'latest' }, 'anthropicVersion'],
  ];
  for (const [options, name] of bad) {
    assert.throws(
      () => new AnthropicProvider({ name: 'x', baseUrl: fake().url, ...options }),
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
