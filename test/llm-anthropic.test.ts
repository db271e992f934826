import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { inspect } from 'node:util';
import {
  AnthropicProvider,
  type AnthropicProviderOptions,
  type ChatChunk,
  type ChatRequest,
  type UpstreamFailure,
} from '../src/actors/llm/index.js';
import { isJameyError, JameyError } from '../src/runtime/errors.js';
import { assemble, collect, expectAborted, upstreamExpectation, using } from './fixtures/llm-assert.js';
import { type FakeUpstream, startFakeAnthropic } from './fixtures/upstreams.js';

const KEY = 'sk-ant-test-93b1d0c4e8';
const PROMPT = 'the quick brown fox jumps';
const REQUEST: ChatRequest = {
  model: 'claude-test',
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
  fake = await startFakeAnthropic();
});

after(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.behave('ok');
  fake.requests.reset();
});

function provider(options: Partial<AnthropicProviderOptions> = {}): AnthropicProvider {
  return new AnthropicProvider({ name: 'anthropic-test', baseUrl: fake.url, apiKey: KEY, ...options });
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
    const last = fake.requests.last!;
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
  await using(provider({ baseUrl: `${fake.url}/v1`, defaultMaxTokens: 2 }), async (p) => {
    const result = await p.complete(REQUEST);
    assert.equal(fake.requests.last?.path, '/v1/messages');
    assert.equal(fake.requests.last?.body?.max_tokens, 2);
    assert.equal(result.content, 'the quick');
    assert.equal(result.finishReason, 'length');
    await p.complete({ ...REQUEST, maxTokens: 40 });
    assert.equal(fake.requests.last?.body?.max_tokens, 40);
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
    assert.equal(fake.requests.last?.body?.stream, true);
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
    assert.deepEqual(fake.requests.last?.body?.tools, [
      { name: 'lookup', description: 'Looks a word up', input_schema: { type: 'object', properties: {} } },
    ]);
    assert.deepEqual(fake.requests.last?.body?.tool_choice, { type: 'any' });
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
    assert.deepEqual(fake.requests.last?.body?.messages, [
      { role: 'user', content: PROMPT },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_fake_0', name: 'lookup', input: { text: PROMPT } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_fake_0', content: 'a fox' }] },
    ]);
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
    fake.behave({ status: 529 });
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('status', true, 529));
    fake.behave({ status: 401 });
    await assert.rejects(collect(p.stream(REQUEST)), expectUpstream('status', false, 401));
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

test('a stream cut before message_stop throws stream-broken after yielding its first deltas', async () => {
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
  });
});

test('an error event inside the stream is a coded error with the status its type stands for', async () => {
  await using(provider(), async (p) => {
    fake.behave({ errorAfter: 1 });
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
    // A proxy in front of the API may echo the rejected key.
    const plans = [
      {
        status: 401,
        body: JSON.stringify({
          type: 'error',
          error: { type: 'authentication_error', message: `bad key ${KEY}` },
        }),
      },
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
        assert.equal(fake.requests.last?.headers['x-api-key'], KEY, 'the key was sent');
        const json = JSON.stringify(err);
        assert.ok(!json.includes(KEY), json);
        assert.ok(!inspect(err, { depth: 10 }).includes(KEY));
        if (typeof plan === 'object' && 'status' in plan) assert.match(json, /\[redacted\]/);
      }
    }
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
      () => new AnthropicProvider({ name: 'x', baseUrl: fake.url, ...options }),
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
