/**
 * Jamey's chat API in front of each wire protocol (Anthropic Messages, Ollama native), retries on
 * the same model with backoff, and the entity's preferred model from memory.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type Service, startService } from './fixtures/service.js';
import {
  type FakeUpstream,
  startFakeAnthropic,
  startFakeOllama,
  startFakeOpenAI,
} from './fixtures/upstreams.js';

const unlimited = { rps: 1e6, burst: 1e6 };
let anthropic: FakeUpstream;
let ollama: FakeUpstream;
let openai: FakeUpstream;
let svc: Service;
let client: OpenAI;

before(async () => {
  anthropic = await startFakeAnthropic();
  ollama = await startFakeOllama();
  openai = await startFakeOpenAI();
  svc = await startService(
    {},
    {
      security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
      llm: {
        env: { ANTHROPIC_KEY: 'sk-ant-test' },
        chat: { retries: 2, backoffMs: 5 },
        providers: [
          {
            name: 'claude',
            kind: 'anthropic',
            baseUrl: anthropic.url,
            apiKeyEnv: 'ANTHROPIC_KEY',
            models: [{ id: 'claude-test', contextTokens: 200_000, pricePerMTokIn: 3, pricePerMTokOut: 15 }],
          },
          {
            name: 'ollama',
            kind: 'ollama',
            baseUrl: ollama.url,
            models: [{ id: 'llama-test', contextTokens: 8192 }],
          },
          {
            name: 'compat',
            kind: 'openai',
            baseUrl: openai.url,
            models: [
              { id: 'compat-test', contextTokens: 8192, pricePerMTokIn: 0.5, pricePerMTokOut: 0.5 },
              { id: 'compat-tools', contextTokens: 8192, capabilities: ['chat', 'stream', 'tools'] },
            ],
          },
        ],
      },
    },
  );
  client = new OpenAI({ baseURL: `${svc.base}/v1`, apiKey: svc.adminKey, maxRetries: 0 });
});
after(async () => {
  await svc.close();
  await Promise.all([anthropic.close(), ollama.close(), openai.close()]);
});

for (const model of ['claude-test', 'llama-test']) {
  test(`chat and streamed chat through ${model}`, async () => {
    const r = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'red green blue' },
      ],
    });
    assert.equal(r.model, model);
    assert.equal(r.choices[0]?.message.content, 'red green blue');
    assert.ok((r.usage?.prompt_tokens ?? 0) > 0 && (r.usage?.completion_tokens ?? 0) > 0);
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'cyan magenta yellow' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    assert.equal(text.trim().replace(/\s+/g, ' '), 'cyan magenta yellow');
    assert.ok((usage?.completion_tokens ?? 0) > 0);
  });
}

test('the Anthropic upstream gets the system prompt in `system` and the key in x-api-key', async () => {
  await client.chat.completions.create({ model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] });
  const last = anthropic.requests.last;
  assert.equal(last?.headers['x-api-key'], 'sk-ant-test');
  assert.match(String(last?.body?.['system']), /You are Jamey/);
});

test('a retryable failure is retried on the same model with backoff', async () => {
  openai.requests.reset();
  openai.behave([{ status: 503 }, { status: 429 }, 'ok']);
  const r = await client.chat.completions.create({
    model: 'compat-test',
    messages: [{ role: 'user', content: 'third time lucky' }],
  });
  assert.equal(r.model, 'compat-test');
  assert.equal(openai.requests.count, 3);
});

test('a non-retryable failure is not retried on the same model', async () => {
  openai.requests.reset();
  ollama.requests.reset();
  openai.behave([{ status: 400 }, 'ok']);
  const r = await client.chat.completions.create({
    model: 'compat-test',
    messages: [{ role: 'user', content: 'bad request upstream' }],
  });
  assert.equal(openai.requests.count, 1);
  assert.notEqual(r.model, 'compat-test', 'served by the next model instead');
});

test('with no model named, the entity’s preferred model (storeWithProvider) is used', async () => {
  await svc.jamey.memory.storeWithProvider('semantic', 'Kim likes answers from Llama.', 'kim', 'llama-test');
  const r = await client.chat.completions.create({
    model: 'auto',
    user: 'kim',
    messages: [{ role: 'user', content: 'who answers me' }],
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.equal(r.model, 'llama-test');
  const other = await client.chat.completions.create({
    model: 'auto',
    user: 'someone-else',
    messages: [{ role: 'user', content: 'who answers me' }],
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.notEqual(other.model, 'jamey-local', 'a real model is chosen by score');
});

const tools: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'lookup',
      description: 'Look a thing up',
      parameters: { type: 'object', properties: {} },
    },
  },
];

test('tool calls pass through, complete and streamed; a model without tools is refused for them', async () => {
  openai.behave('ok');
  const r = await client.chat.completions.create({
    model: 'compat-tools',
    messages: [{ role: 'user', content: 'find the weather' }],
    tools,
  });
  assert.equal(r.choices[0]?.finish_reason, 'tool_calls');
  const call = r.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.function.name, 'lookup');
  assert.deepEqual(JSON.parse(call.function.arguments), { text: 'find the weather' });
  assert.equal((openai.requests.last?.body?.['tools'] as unknown[] | undefined)?.length, 1);

  const stream = await client.chat.completions.create({
    model: 'compat-tools',
    messages: [{ role: 'user', content: 'find the weather' }],
    tools,
    stream: true,
  });
  let name = '';
  let args = '';
  let finish: string | null = null;
  for await (const c of stream) {
    for (const t of c.choices[0]?.delta.tool_calls ?? []) {
      name += t.function?.name ?? '';
      args += t.function?.arguments ?? '';
    }
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(name, 'lookup');
  assert.deepEqual(JSON.parse(args), { text: 'find the weather' });
  assert.equal(finish, 'tool_calls');

  // The answer to the tool call continues the conversation.
  const followUp = await client.chat.completions.create({
    model: 'compat-tools',
    messages: [
      { role: 'user', content: 'find the weather' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: 'sunny' },
    ],
  });
  assert.ok(followUp.choices[0]);

  await assert.rejects(
    client.chat.completions.create({
      model: 'compat-test',
      messages: [{ role: 'user', content: 'x' }],
      tools,
    }),
    (err: { status?: number }) => err.status === 400,
  );
});
