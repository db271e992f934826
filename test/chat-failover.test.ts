/**
 * Jamey in front of OpenAI-compatible upstreams (local servers that speak the protocol): the
 * official openai client through Jamey, failover on 500 / timeout / reset, the circuit breaker
 * opening and recovering after its half-open probe (manual clock), and streams that break.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import type { ProviderConfig } from '../src/actors/llm/config.js';
import { ManualClock } from '../src/runtime/clock.js';
import { type Service, startService } from './fixtures/service.js';
import { type FakeUpstream, startFakeOpenAI } from './fixtures/upstreams.js';

const unlimited = { rps: 1e6, burst: 1e6 };
const COOLDOWN = 30_000;
let a: FakeUpstream;
let b: FakeUpstream;
let svc: Service;
let client: OpenAI;
const clock = new ManualClock(Date.UTC(2026, 10, 25));

function providers(): ProviderConfig[] {
  return [
    {
      name: 'a',
      kind: 'openai',
      baseUrl: `${a.url}/v1`,
      apiKeyEnv: 'A_KEY',
      timeoutMs: 300,
      models: [
        {
          id: 'model-a',
          upstream: 'gpt-a',
          contextTokens: 16_000,
          pricePerMTokIn: 0.1,
          pricePerMTokOut: 0.1,
        },
        { id: 'embed-a', contextTokens: 8000, capabilities: ['embeddings'], dimensions: 3 },
      ],
    },
    {
      name: 'b',
      kind: 'openai',
      baseUrl: b.url,
      apiKeyEnv: 'B_KEY',
      models: [{ id: 'model-b', contextTokens: 16_000, pricePerMTokIn: 1, pricePerMTokOut: 1 }],
    },
  ];
}

before(async () => {
  a = await startFakeOpenAI();
  b = await startFakeOpenAI();
  svc = await startService(
    {},
    {
      security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
      llm: {
        env: { A_KEY: 'sk-upstream-secret', B_KEY: 'sk-b-secret' },
        providers: providers(),
        // No retries on the same model here: each failure moves to the next model at once.
        chat: { retries: 0 },
        router: { breaker: { threshold: 3, cooldownMs: COOLDOWN } },
      },
    },
    // The breakers read the runtime's clock: a manual one, moved by the tests.
    { clock },
  );
  client = new OpenAI({ baseURL: `${svc.base}/v1`, apiKey: svc.adminKey, maxRetries: 0 });
});
after(async () => {
  await svc.close();
  await a.close();
  await b.close();
});
beforeEach(() => {
  a.behave('ok');
  b.behave('ok');
  a.requests.reset();
  b.requests.reset();
});

test('the openai client chats, streams and embeds through Jamey to an OpenAI-protocol upstream', async () => {
  const r = await client.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'hello upstream world' }],
  });
  assert.equal(r.model, 'model-a');
  assert.equal(r.choices[0]?.message.content, 'hello upstream world');
  assert.equal(a.requests.last?.body?.['model'], 'gpt-a', 'the upstream gets its own model name');
  assert.equal(a.requests.last?.headers.authorization, 'Bearer sk-upstream-secret');
  const sent = a.requests.last?.body?.['messages'] as Array<{ role: string }>;
  assert.equal(sent[0]?.role, 'system', 'Jamey’s system prompt goes first');

  const stream = await client.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'one two three four' }],
    stream: true,
  });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  assert.equal(text.trim().replace(/\s+/g, ' '), 'one two three four');

  const e = await client.embeddings.create({ model: 'embed-a', input: ['x', 'y'] });
  assert.equal(e.data.length, 2);
  assert.equal(e.data[0]?.embedding.length, 3);
});

for (const fault of [{ status: 500 }, 'hang', 'reset'] as const) {
  test(`the first upstream fails (${JSON.stringify(fault)}): the request succeeds on the next`, async () => {
    a.behave(fault);
    const r = await client.chat.completions.create({
      model: 'model-a',
      messages: [{ role: 'user', content: 'fail over please' }],
    });
    assert.equal(r.model, 'model-b');
    assert.equal(r.choices[0]?.message.content, 'fail over please');
    assert.equal(a.requests.count, 1);
    assert.equal(b.requests.count, 1);
  });
}

test('the breaker opened after three failures: model-a is skipped, then probed after the cooldown', async () => {
  // The three failures of the previous tests opened it (threshold 3).
  const models = await client.models.list();
  const info = models.data.find((m) => m.id === 'model-a') as unknown as { jamey: { breaker: string } };
  assert.equal(info.jamey.breaker, 'open');
  const metrics = await (await fetch(`${svc.base}/metrics`)).text();
  assert.match(metrics, /jamey_llm_breaker_state\{provider="a",model="model-a"\} 2/);

  const r = await client.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'skip a' }],
  });
  assert.equal(r.model, 'model-b');
  assert.equal(a.requests.count, 0, 'no request reaches an open breaker');
});

test('after the cooldown the half-open probe succeeds and the breaker closes', async () => {
  clock.advance(COOLDOWN);
  const r = await client.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'probe a' }],
  });
  assert.equal(r.model, 'model-a');
  assert.equal(svc.jamey.router.breakerState('model-a'), 'closed');
});

test('a stream that breaks after the first token reaches the client as an error, never a clean end', async () => {
  a.behave({ cut: 2 });
  const stream = await client.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'one two three four five six' }],
    stream: true,
  });
  let text = '';
  await assert.rejects(async () => {
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  });
  assert.ok(text.length > 0, 'the first tokens arrived');
  assert.equal(b.requests.count, 0, 'no fallback once tokens were sent');

  // On the wire: an error event and no [DONE].
  a.behave({ cut: 2 });
  const raw = await fetch(`${svc.base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'model-a',
      stream: true,
      messages: [{ role: 'user', content: 'a b c d e' }],
    }),
  });
  const body = await raw.text();
  assert.match(body, /event: error\ndata: \{"error":\{"code":"JAMEY_ERR_UPSTREAM"/);
  assert.doesNotMatch(body, /\[DONE\]/);
});

test('a stream that fails before its first token falls back to the next model', async () => {
  a.behave({ status: 503 });
  const stream = await client.chat.completions.create({
    model: 'model-a',
    messages: [{ role: 'user', content: 'stream elsewhere' }],
    stream: true,
  });
  let text = '';
  let model = '';
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    model = c.model;
  }
  assert.equal(model, 'model-b');
  assert.equal(text.trim(), 'stream elsewhere');
});

test('an upstream key never reaches a client, even when the upstream echoes it', async () => {
  // model-a's breaker is open again (the broken streams counted); model-b echoes its key.
  assert.equal(svc.jamey.router.breakerState('model-a'), 'open');
  b.behave({ status: 500, body: '{"error":{"message":"bad key sk-b-secret"}}' });
  const res = await fetch(`${svc.base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(res.status, 502);
  const text = await res.text();
  assert.doesNotMatch(text, /sk-b-secret|sk-upstream-secret/);
  assert.match(text, /JAMEY_ERR_UPSTREAM/);
});
