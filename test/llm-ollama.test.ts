import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { NdjsonDecoder } from '../src/actors/llm/http.js';
import {
  type ChatRequest,
  OllamaProvider,
  type OllamaProviderOptions,
  type UpstreamFailure,
} from '../src/actors/llm/index.js';
import { isJameyError } from '../src/runtime/errors.js';
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
import { startFakeOllama } from './fixtures/upstreams.js';

const KEY = 'sk-test-4f9c2a7e1b';
const REQUEST = chatRequest('llama-test');
const fake = fakeUpstream(startFakeOllama);

function provider(options: Partial<OllamaProviderOptions> = {}): OllamaProvider {
  return new OllamaProvider({ name: 'ollama-test', baseUrl: fake().url, apiKey: KEY, ...options });
}

const expectUpstream = upstreamExpectation('ollama-test', /^http:\/\/127\.0\.0\.1:\d+\/api\/chat$/);

test('complete: POST /api/chat with stream false, sampling in options; usage and done reason', async () => {
  await using(provider(), async (p) => {
    const result = await p.complete({ ...REQUEST, maxTokens: 50, temperature: 0.2, topP: 0.9, stop: ['\n'] });
    assert.equal(result.content, PROMPT);
    assert.equal(result.model, 'llama-test');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 7, completionTokens: 5 });
    assert.equal(result.toolCalls, undefined);
    const last = fake().requests.last!;
    assert.equal(last.path, '/api/chat');
    assert.equal(last.headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(last.body?.messages, REQUEST.messages);
    assert.equal(last.body?.stream, false);
    assert.deepEqual(last.body?.options, { num_predict: 50, temperature: 0.2, top_p: 0.9, stop: ['\n'] });
    await p.complete({ ...REQUEST, maxTokens: 2 }).then((cut) => {
      assert.equal(cut.content, 'the quick');
      assert.equal(cut.finishReason, 'length');
    });
  });
});

test('stream: NDJSON lines assembled equal the complete answer; the done line gives usage and reason', async () => {
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

test('tool calls: arguments objects become JSON text, whole in one streamed delta; the finish says tool_calls', async () => {
  await using(provider(), async (p) => {
    const request: ChatRequest = { ...REQUEST, tools: TOOLS };
    const whole = await p.complete(request);
    assert.deepEqual(fake().requests.last?.body?.tools, TOOLS);
    assert.equal(whole.finishReason, 'tool_calls');
    assert.deepEqual(whole.toolCalls, [
      {
        id: 'call_0',
        type: 'function',
        function: { name: 'lookup', arguments: JSON.stringify({ text: PROMPT }) },
      },
    ]);
    const { toolDeltas, end } = assemble(await collect(p.stream(request)));
    assert.equal(end.finishReason, 'tool_calls');
    assert.deepEqual(toolDeltas, [
      { index: 0, id: 'call_0', type: 'function', function: whole.toolCalls?.[0]?.function },
    ]);
    await p.complete({
      model: 'llama-test',
      messages: [
        { role: 'user', content: PROMPT },
        { role: 'assistant', content: null, tool_calls: whole.toolCalls! },
        { role: 'tool', content: 'a fox', name: 'lookup', tool_call_id: 'call_0' },
      ],
    });
    assert.deepEqual(fake().requests.last?.body?.messages, [
      { role: 'user', content: PROMPT },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'lookup', arguments: { text: PROMPT } } }],
      },
      { role: 'tool', content: 'a fox', tool_name: 'lookup' },
    ]);
  });
});

test('embed: POST /api/embed {model, input} gives one vector per input, with usage', async () => {
  await using(provider(), async (p) => {
    const result = await p.embed('embed-test', ['a', 'bb cc', 'ddd']);
    assert.equal(fake().requests.last?.path, '/api/embed');
    assert.deepEqual(fake().requests.last?.body, { model: 'embed-test', input: ['a', 'bb cc', 'ddd'] });
    assert.deepEqual(result.vectors, [
      [2, 3, 4],
      [6, 8, 10],
      [4, 5, 6],
    ]);
    assert.deepEqual(result.usage, { promptTokens: 4 });
    const before = fake().requests.count;
    assert.deepEqual(await p.embed('embed-test', []), { vectors: [], usage: { promptTokens: 0 } });
    assert.equal(fake().requests.count, before);
    fake().behave('garbage');
    await assert.rejects(p.embed('embed-test', ['a']), (err) => {
      assert.ok(isJameyError(err, 'JAMEY_ERR_UPSTREAM'));
      assert.equal((err.details as UpstreamFailure).reason, 'bad-response');
      assert.match((err.details as UpstreamFailure).url, /\/api\/embed$/);
      return true;
    });
  });
});

// The shared faults. A proxy in front of Ollama may echo the rejected key.
providerFaultTests({
  provider: (o) => provider(o),
  fake,
  request: REQUEST,
  prompt: PROMPT,
  key: KEY,
  expectUpstream,
  streamStatuses: [[404, false]],
  endMarker: 'its done line',
  rejectedKeyBody: JSON.stringify({ error: `unauthorized: Bearer ${KEY}` }),
  sentKey: (h) => h.authorization,
  expectedSentKey: `Bearer ${KEY}`,
  errorEventBreaksStream: true,
});

test('options are validated and name the offending option', () => {
  const bad: Array<[Partial<OllamaProviderOptions>, string]> = [
    [{ name: '' }, 'name'],
    [{ baseUrl: 'not a url' }, 'baseUrl'],
    [{ baseUrl: 'ftp://127.0.0.1' }, 'baseUrl'],
    [{ apiKey: '' }, 'apiKey'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ connectTimeoutMs: -1 }, 'connectTimeoutMs'],
    [{ connections: 1.5 }, 'connections'],
    [{ keepAliveMs: Number.NaN }, 'keepAliveMs'],
  ];
  for (const [options, name] of bad) {
    assert.throws(
      () => new OllamaProvider({ name: 'x', baseUrl: fake().url, ...options }),
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

test('NDJSON decoding: lines and characters split across chunks, CRLF, blank lines, an unterminated last line', () => {
  const decoder = new NdjsonDecoder();
  const bytes = Buffer.from('{"a":"fox 🦊"}\r\n\n{"b":1}\n{"c":2}');
  const cutInEmoji = bytes.indexOf(Buffer.from('🦊')) + 2;
  assert.deepEqual([...decoder.feed(bytes.subarray(0, cutInEmoji))], []);
  assert.deepEqual([...decoder.feed(bytes.subarray(cutInEmoji, cutInEmoji + 6))], ['{"a":"fox 🦊"}']);
  assert.deepEqual([...decoder.feed(bytes.subarray(cutInEmoji + 6))], ['{"b":1}']);
  assert.deepEqual([...decoder.end()], ['{"c":2}']);
  assert.deepEqual([...decoder.end()], []);
});
