import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { LOCAL_MODEL, LOCAL_PREAMBLE } from '../src/actors/llm/local.js';
import { type Service, startService } from './fixtures/service.js';

let svc: Service;
let client: OpenAI;

before(async () => {
  const unlimited = { rps: 1e6, burst: 1e6 };
  svc = await startService(
    {},
    { security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited } },
  );
  client = new OpenAI({ baseURL: `${svc.base}/v1`, apiKey: svc.adminKey, maxRetries: 0 });
});
after(() => svc.close());

test('the official openai client chats with the local provider', async () => {
  const r = await client.chat.completions.create({
    model: LOCAL_MODEL,
    messages: [{ role: 'user', content: 'What colour is the sky?' }],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, LOCAL_MODEL);
  const text = r.choices[0]?.message.content ?? '';
  assert.ok(text.startsWith(LOCAL_PREAMBLE), text);
  assert.match(text, /What colour is the sky\?/);
  assert.equal(r.choices[0]?.finish_reason, 'stop');
  assert.ok((r.usage?.prompt_tokens ?? 0) > 10);
  assert.ok((r.usage?.completion_tokens ?? 0) > 10);
});

test('a streamed chat assembles to the same answer, ends with usage and [DONE]', async () => {
  const messages = [{ role: 'user' as const, content: 'Tell me about the garden.' }];
  const whole = await client.chat.completions.create({ model: LOCAL_MODEL, messages });
  const stream = await client.chat.completions.create({
    model: LOCAL_MODEL,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, whole.choices[0]?.message.content);
  assert.equal(finish, 'stop');
  assert.equal(usage?.completion_tokens, whole.usage?.completion_tokens);
});

test('embeddings from the local provider, float and base64 (the SDK default)', async () => {
  const r = await client.embeddings.create({
    model: LOCAL_MODEL,
    input: ['the cat sat', 'a feline was sitting'],
  });
  assert.equal(r.data.length, 2);
  const [a, b] = r.data.map((d) => d.embedding);
  assert.ok(a && b && a.length > 100);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] as number) * (b[i] as number);
  assert.ok(dot > 0.3, `paraphrases land near each other (cos ${dot})`);
  const f = await client.embeddings.create({
    model: LOCAL_MODEL,
    input: 'the cat sat',
    encoding_format: 'float',
  });
  assert.deepEqual(
    f.data[0]?.embedding.map((x) => Math.round(x * 1e5)),
    a.map((x) => Math.round((x as number) * 1e5)),
  );
});

test('models are listed', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  assert.ok(ids.includes(LOCAL_MODEL));
});
