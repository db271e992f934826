/**
 * Upstream faults end to end: the real service (HTTP on 127.0.0.1:0, SQLite in a temp folder) in
 * front of an LLM service that hangs, resets the connection, or answers garbage (a body that is not
 * JSON, JSON of the wrong shape, SSE events that are not chat chunks, tool calls that are not tool
 * calls). With no other model the client gets a coded 502/504 in the JSON error body; with another
 * model the request falls over to it. Either way the service stays healthy and serves the next
 * request. (The provider clients' own fault tests are in test/fixtures/llm-faults.ts; the 500 / hang
 * / reset failovers and breaking streams in chat-failover.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ProviderConfig } from '../src/actors/llm/config.js';
import {
  completionBody,
  lastUserText,
  type ScriptedAnswer,
  type ScriptedRequest,
  type ScriptedUpstream,
  startScriptedUpstream,
} from './fixtures/scripted-upstream.js';
import { type Service, startService } from './fixtures/service.js';
import { type FakeUpstream, startFakeOpenAI } from './fixtures/upstreams.js';

const unlimited = { rps: 1e6, burst: 1e6 };
const NOT_JSON = '<html><body>502 Bad Gateway</body></html>';
const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
  JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

/** Garbage a broken upstream (or a proxy in front of it) can answer with, per request kind. */
const GARBAGE: ReadonlyArray<{ name: string; stream: boolean; answer: ScriptedAnswer }> = [
  { name: 'a 200 whose body is not JSON', stream: false, answer: { body: NOT_JSON } },
  {
    name: 'a 200 with HTML as text/html',
    stream: false,
    answer: { body: NOT_JSON, contentType: 'text/html' },
  },
  { name: 'JSON of the wrong shape', stream: false, answer: { body: '{"object":"list","data":[]}' } },
  { name: 'choices that are not a list', stream: false, answer: { body: '{"choices":"none"}' } },
  { name: 'JSON null', stream: false, answer: { body: 'null' } },
  {
    name: 'tool calls that are not tool calls',
    stream: false,
    answer: {
      body: JSON.stringify({
        choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [null, 7] } }],
      }),
    },
  },
  { name: 'SSE events that are not JSON', stream: true, answer: { events: [NOT_JSON, NOT_JSON] } },
  {
    name: 'SSE events of the wrong shape, without [DONE]',
    stream: true,
    answer: { events: ['{"foo":1}', '[1,2,3]', '"text"'] },
  },
  {
    name: 'an SSE tool-call delta that is not one',
    stream: true,
    answer: { events: [chunk({ role: 'assistant', tool_calls: [null] }), '[DONE]'] },
  },
  { name: 'a JSON body to a stream request', stream: true, answer: { body: completionBody('x') } },
];

function provider(name: string, url: string, model: string): ProviderConfig {
  return {
    name,
    kind: 'openai',
    baseUrl: `${url}/v1`,
    apiKeyEnv: 'UPSTREAM_KEY',
    timeoutMs: 300,
    models: [{ id: model, contextTokens: 16_000, pricePerMTokIn: 0.1, pricePerMTokOut: 0.1 }],
  };
}

function serviceWith(providers: ProviderConfig[]): Promise<Service> {
  return startService(
    {},
    {
      security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
      llm: {
        env: { UPSTREAM_KEY: 'sk-upstream' },
        providers,
        // One attempt per model, and a breaker that never opens: every request meets the fault.
        chat: { retries: 0 },
        router: { breaker: { threshold: 1_000_000 } },
      },
    },
  );
}

interface Reply {
  status: number;
  contentType: string;
  text: string;
}

let n = 0;
async function chat(svc: Service, model: string, stream: boolean): Promise<Reply> {
  const res = await fetch(`${svc.base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.adminKey}`, 'content-type': 'application/json' },
    // A new question each time, so no answer comes from the response cache.
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: `question ${++n}` }] }),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** A failed chat as the client sees it: a JSON error with an upstream code, or (a stream cut after its headers) an SSE error event. */
function assertCodedGatewayError(r: Reply, codes: readonly string[]): void {
  if (r.contentType.startsWith('text/event-stream')) {
    assert.equal(r.status, 200, r.text);
    const m = /event: error\ndata: (.*)\n/.exec(r.text);
    assert.ok(m, `an error event in ${r.text}`);
    assert.ok(codes.includes(JSON.parse(m[1] as string).error.code), r.text);
    assert.doesNotMatch(r.text, /\[DONE\]/);
    return;
  }
  assert.ok(r.status === 502 || r.status === 504, `${r.status} ${r.text}`);
  const body = JSON.parse(r.text) as { error: { code: string; message: string } };
  assert.ok(codes.includes(body.error.code), r.text);
  assert.equal(r.status, body.error.code === 'JAMEY_ERR_UPSTREAM_TIMEOUT' ? 504 : 502);
  assert.ok(body.error.message.length > 0);
}

async function assertHealthy(svc: Service): Promise<void> {
  const live = await fetch(`${svc.base}/healthz`);
  assert.equal(live.status, 200);
  const ready = await fetch(`${svc.base}/readyz`);
  assert.equal(ready.status, 200, await ready.text());
}

describe('an upstream that fails, with no other model to fall over to', () => {
  let up: ScriptedUpstream;
  let svc: Service;
  before(async () => {
    up = await startScriptedUpstream();
    svc = await serviceWith([provider('a', up.url, 'model-a')]);
  });
  after(async () => {
    await svc.close();
    await up.close();
  });

  for (const stream of [false, true]) {
    test(`hangs without a byte (${stream ? 'stream' : 'JSON'}): 504 JAMEY_ERR_UPSTREAM_TIMEOUT`, async () => {
      up.script(() => ({ hang: true }));
      const r = await chat(svc, 'model-a', stream);
      assert.equal(r.status, 504, r.text);
      assert.equal(JSON.parse(r.text).error.code, 'JAMEY_ERR_UPSTREAM_TIMEOUT');
      await assertHealthy(svc);
    });

    test(`resets the connection (${stream ? 'stream' : 'JSON'}): 502 JAMEY_ERR_UPSTREAM`, async () => {
      up.script(() => ({ reset: true }));
      const r = await chat(svc, 'model-a', stream);
      assert.equal(r.status, 502, r.text);
      assert.equal(JSON.parse(r.text).error.code, 'JAMEY_ERR_UPSTREAM');
      await assertHealthy(svc);
    });
  }

  for (const g of GARBAGE) {
    test(`answers garbage (${g.name}): a coded gateway error, and the service stays healthy`, async () => {
      up.script(() => g.answer);
      assertCodedGatewayError(await chat(svc, 'model-a', g.stream), ['JAMEY_ERR_UPSTREAM']);
      await assertHealthy(svc);
    });
  }

  test('after every fault, a well-formed answer is served as usual', async () => {
    up.script((r: ScriptedRequest) =>
      r.stream
        ? {
            events: [
              chunk({ role: 'assistant', content: lastUserText(r.body) }),
              chunk({}, 'stop'),
              '[DONE]',
            ],
          }
        : { body: completionBody(lastUserText(r.body)) },
    );
    const plain = await chat(svc, 'model-a', false);
    assert.equal(plain.status, 200, plain.text);
    assert.match(JSON.parse(plain.text).choices[0].message.content, /^question \d+$/);
    const streamed = await chat(svc, 'model-a', true);
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /question \d+/);
    assert.match(streamed.text, /data: \[DONE\]/);
  });
});

describe('an upstream that answers garbage, with another model behind it', () => {
  let up: ScriptedUpstream;
  let b: FakeUpstream;
  let svc: Service;
  before(async () => {
    up = await startScriptedUpstream();
    b = await startFakeOpenAI();
    svc = await serviceWith([provider('a', up.url, 'model-a'), provider('b', b.url, 'model-b')]);
  });
  after(async () => {
    await svc.close();
    await up.close();
    await b.close();
  });

  for (const g of GARBAGE) {
    test(`${g.name}: the request is served by the next model`, async () => {
      up.script(() => g.answer);
      const before = up.received;
      const r = await chat(svc, 'model-a', g.stream);
      assert.equal(r.status, 200, r.text);
      assert.equal(up.received, before + 1, 'model-a was tried first');
      if (g.stream) {
        assert.match(r.text, /"model":"model-b"/);
        assert.match(r.text, /data: \[DONE\]/);
      } else {
        assert.equal(JSON.parse(r.text).model, 'model-b');
      }
    });
  }
});

describe('an Ollama-protocol upstream whose tool calls are not tool calls', () => {
  let up: ScriptedUpstream;
  let svc: Service;
  before(async () => {
    up = await startScriptedUpstream();
    svc = await serviceWith([{ ...provider('o', up.url, 'model-o'), kind: 'ollama', baseUrl: up.url }]);
  });
  after(async () => {
    await svc.close();
    await up.close();
  });

  for (const stream of [false, true]) {
    test(`${stream ? 'streamed' : 'whole'}: a coded gateway error, and the service stays healthy`, async () => {
      const line = JSON.stringify({
        model: 'model-o',
        message: { role: 'assistant', content: '', tool_calls: [null] },
        done: true,
      });
      up.script(() => ({
        body: `${line}\n`,
        contentType: stream ? 'application/x-ndjson' : 'application/json',
      }));
      assertCodedGatewayError(await chat(svc, 'model-o', stream), ['JAMEY_ERR_UPSTREAM']);
      await assertHealthy(svc);
    });
  }
});
