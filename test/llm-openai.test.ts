import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { inspect } from 'node:util';
import { SseDecoder } from '../src/actors/llm/http.js';
import {
  type ChatChunk,
  type ChatRequest,
  isRetryable,
  OpenAIProvider,
  type OpenAIProviderOptions,
  type UpstreamFailure,
} from '../src/actors/llm/index.js';
import { isJameyError, JameyError } from '../src/runtime/errors.js';
import { assemble, collect, expectAborted, upstreamExpectation, using } from './fixtures/llm-assert.js';
import { type FakeUpstream, startFakeOpenAI } from './fixtures/upstreams.js';

const KEY = 'sk-test-4f9c2a7e1b';
const PROMPT = 'the quick brown fox jumps';
const REQUEST: ChatRequest = {
  model: 'gpt-test',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: PROMPT },
  ],
};
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'lookup',
      description: 'Looks a word up',
      parameters: { type: 'object', properties: {} },
    },
  },
];

let fake: FakeUpstream;

before(async () => {
  fake = await startFakeOpenAI();
});

after(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.behave('ok');
  fake.requests.reset();
});

function provider(options: Partial<OpenAIProviderOptions> = {}): OpenAIProvider {
  return new OpenAIProvider({ name: 'openai-test', baseUrl: fake.url, apiKey: KEY, ...options });
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
    const last = fake.requests.last!;
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
    provider({ baseUrl: `${fake.url}/v1/`, maxTokensField: 'max_completion_tokens' }),
    async (p) => {
      const result = await p.complete({ ...REQUEST, maxTokens: 2 });
      assert.equal(fake.requests.last?.path, '/v1/chat/completions');
      assert.equal(fake.requests.last?.body?.max_completion_tokens, 2);
      assert.equal(fake.requests.last?.body?.max_tokens, undefined);
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
    assert.equal(fake.requests.last?.body?.stream, true);
    assert.deepEqual(fake.requests.last?.body?.stream_options, { include_usage: true });
    const cut = assemble(await collect(p.stream({ ...REQUEST, maxTokens: 3 })));
    assert.equal(cut.content, 'the quick brown');
    assert.equal(cut.end.finishReason, 'length');
  });
});

test('tool calls pass through: tools and tool_choice in, tool_calls out, streamed as deltas', async () => {
  await using(provider(), async (p) => {
    const request: ChatRequest = { ...REQUEST, tools: TOOLS, toolChoice: 'required' };
    const whole = await p.complete(request);
    assert.deepEqual(fake.requests.last?.body?.tools, TOOLS);
    assert.equal(fake.requests.last?.body?.tool_choice, 'required');
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
    assert.deepEqual(fake.requests.last?.body?.messages, followUp.messages);
  });
});

test('connections are kept alive across answers, streamed or not; a reader that stops early frees its own', async () => {
  await using(provider({ connections: 1 }), async (p) => {
    const opened = fake.connections;
    for (let i = 0; i < 3; i++) {
      await p.complete(REQUEST);
      assemble(await collect(p.stream(REQUEST)));
    }
    assert.equal(fake.connections - opened, 1, 'six answers over one connection');
    fake.behave({ stall: 2 });
    for await (const c of p.stream(REQUEST)) {
      assert.equal(c.type, 'delta');
      break;
    }
    fake.behave('ok');
    // With one connection, this waits forever unless stopping early released the stalled one.
    assert.equal((await p.complete(REQUEST)).content, PROMPT);
  });
});

test('embed: vectors in input order by index, usage, no request for no input', async () => {
  await using(provider({ baseUrl: `${fake.url}/v1` }), async (p) => {
    const result = await p.embed('embed-test', ['a', 'bb cc', 'ddd']);
    assert.equal(fake.requests.last?.path, '/v1/embeddings');
    assert.deepEqual(fake.requests.last?.body?.input, ['a', 'bb cc', 'ddd']);
    assert.deepEqual(result.vectors, [
      [2, 3, 4],
      [6, 8, 10],
      [4, 5, 6],
    ]);
    assert.deepEqual(result.usage, { promptTokens: 4 });
    const before = fake.requests.count;
    assert.deepEqual(await p.embed('embed-test', []), { vectors: [], usage: { promptTokens: 0 } });
    assert.equal(fake.requests.count, before);
  });
});

test('status faults: 5xx and 429 are retryable with the status and body; other 4xx are not', async () => {
  await using(provider(), async (p) => {
    fake.behave({ status: 500 });
    await assert.rejects(p.complete(REQUEST), (err) => {
      expectUpstream('status', true, 500)(err);
      assert.match(((err as JameyError).details as UpstreamFailure).body ?? '', /fake upstream failure/);
      return true;
    });
    fake.behave({ status: 429 });
    await assert.rejects(p.complete(REQUEST), expectUpstream('status', true, 429));
    fake.behave({ status: 400 });
    await assert.rejects(p.complete(REQUEST), expectUpstream('status', false, 400));
    fake.behave({ status: 503 });
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('status', true, 503));
    fake.behave({ status: 404 });
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('status', false, 404));
  });
});

test('a service that never answers is UPSTREAM_TIMEOUT after timeoutMs', async () => {
  await using(provider({ timeoutMs: 150 }), async (p) => {
    fake.behave('hang');
    const started = performance.now();
    await assert.rejects(p.complete(REQUEST), expectUpstream('timeout', true));
    assert.ok(performance.now() - started < 2_000);
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('timeout', true));
  });
});

test('a stream that goes silent after its first deltas is UPSTREAM_TIMEOUT', async () => {
  await using(provider({ timeoutMs: 150 }), async (p) => {
    fake.behave({ stall: 2 });
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const c of p.stream(REQUEST)) if (c.type === 'delta') seen.push(c.content ?? '');
      },
      expectUpstream('timeout', true),
    );
    assert.deepEqual(seen, ['the', ' quick']);
  });
});

test('a reset connection is a retryable network failure', async () => {
  await using(provider(), async (p) => {
    fake.behave('reset');
    await assert.rejects(p.complete(REQUEST), expectUpstream('network', true));
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('network', true));
    fake.behave('ok');
    assert.equal((await p.complete(REQUEST)).content, PROMPT, 'the pool recovers');
  });
});

test('a body that is not JSON is a retryable bad-response, streaming or not', async () => {
  await using(provider(), async (p) => {
    fake.behave('garbage');
    await assert.rejects(p.complete(REQUEST), expectUpstream('bad-response', true, 200));
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('bad-response', true));
  });
});

test('a stream cut before [DONE] throws stream-broken after yielding its first deltas', async () => {
  await using(provider(), async (p) => {
    fake.behave({ cut: 2 });
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const c of p.stream(REQUEST)) {
          assert.equal(c.type, 'delta', 'no end chunk from a cut stream');
          seen.push(c.type === 'delta' ? (c.content ?? '') : '');
        }
      },
      expectUpstream('stream-broken', true),
    );
    assert.deepEqual(seen, ['the', ' quick']);
    fake.behave({ endAfter: 3 });
    const chunks: ChatChunk[] = [];
    await assert.rejects(
      async () => {
        for await (const c of p.stream(REQUEST)) chunks.push(c);
      },
      expectUpstream('stream-broken', true),
    );
    assert.equal(chunks.length, 3, 'the deltas before the end, and no end chunk');
    fake.behave({ endAfter: 0 });
    await assert.rejects(p.complete(REQUEST), expectUpstream('bad-response', true, 200));
    fake.behave({ errorAfter: 1 });
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('stream-broken', true));
  });
});

test('the caller aborting is JAMEY_ERR_ABORTED, before, during the wait and mid-stream', async () => {
  await using(provider(), async (p) => {
    fake.behave('hang');
    await assert.rejects(p.complete(REQUEST, AbortSignal.abort()), expectAborted);
    assert.equal(fake.requests.count, 0, 'an aborted call sends nothing');
    const waiting = new AbortController();
    setTimeout(() => waiting.abort(), 30);
    await assert.rejects(p.complete(REQUEST, waiting.signal), expectAborted);
    fake.behave({ stall: 2 });
    const streaming = new AbortController();
    let deltas = 0;
    await assert.rejects(async () => {
      for await (const c of p.stream(REQUEST, streaming.signal)) {
        if (c.type === 'delta' && ++deltas === 2) streaming.abort();
      }
    }, expectAborted);
    assert.equal(deltas, 2);
  });
});

test('the API key never appears in an error message, details or cause', async () => {
  await using(provider({ timeoutMs: 150 }), async (p) => {
    // OpenAI names the rejected key in its 401 body.
    const plans = [
      { status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}.` } }) },
      'hang',
      'reset',
      'garbage',
      { cut: 1 },
    ] as const;
    for (const plan of plans) {
      fake.behave(plan);
      for (const call of [() => p.complete(REQUEST), () => collect(p.stream(REQUEST))]) {
        const err = await call().then(
          () => assert.fail(`${JSON.stringify(plan)} should fail`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof JameyError);
        assert.equal(fake.requests.last?.headers.authorization, `Bearer ${KEY}`, 'the key was sent');
        const json = JSON.stringify(err);
        assert.ok(!json.includes(KEY), json);
        assert.ok(!inspect(err, { depth: 10 }).includes(KEY));
        if (typeof plan === 'object' && 'status' in plan) assert.match(json, /\[redacted\]/);
      }
    }
  });
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
      () => new OpenAIProvider({ name: 'x', baseUrl: fake.url, ...options }),
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
  assert.equal(fake.requests.count, 0);
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
