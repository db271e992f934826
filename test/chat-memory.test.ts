/**
 * The chat pipeline with memory, history, cache and budgets, over HTTP with the local provider
 * (which answers from the assembled context, so what it says shows what the context held).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LOCAL_MODEL } from '../src/actors/llm/local.js';
import { loadRecallMemories, loadRecallQueries } from './fixtures/recall/evaluate.js';
import { type Service, startService } from './fixtures/service.js';

const ENTITY = 'alex';
let svc: Service;
let chatKey = '';
let otherKey = '';

const unlimited = { rps: 1e6, burst: 1e6 };

before(async () => {
  svc = await startService(
    {},
    {
      security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
      llm: { router: { budgets: { keys: {} } } },
    },
  );
  for (const m of loadRecallMemories()) {
    await svc.jamey.memory.store('long-term', m.text, { entityId: ENTITY, source: 'fixture' });
  }
  chatKey = (await svc.jamey.keys.createKey({ name: 'chat', scopes: ['chat'] })).token;
  otherKey = (await svc.jamey.keys.createKey({ name: 'other', scopes: ['chat'] })).token;
});
after(() => svc.close());

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}, key = chatKey) {
  const res = await fetch(`${svc.base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: LOCAL_MODEL, ...body }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of several shapes, checked by the assertions
  return { res, body: (await res.json()) as Record<string, any> };
}

test('memories recalled for the entity are relevant to the question (fixture set)', async () => {
  const memories = new Map(loadRecallMemories().map((m) => [m.id, m.text]));
  const queries = loadRecallQueries();
  let hits = 0;
  for (const q of queries) {
    const { res, body } = await chat({ user: ENTITY, messages: [{ role: 'user', content: q.query }] });
    assert.equal(res.status, 200);
    const answer: string = body.choices[0].message.content;
    if (answer.includes(memories.get(q.target) as string)) hits++;
    // Each question on its own: the turn just stored (an episode quoting memories) is removed.
    await svc.jamey.chat.settled();
    for (const m of (await svc.jamey.memory.list({ entityId: ENTITY, layer: 'episodic' })).data) {
      await svc.jamey.memory.delete(m.id);
    }
  }
  const rate = hits / queries.length;
  console.log(`target memory in the answer's top 3: ${hits}/${queries.length} = ${rate.toFixed(3)}`);
  assert.ok(rate >= 0.7, `the target memory reached the prompt for ${rate} of the questions`);
});

test('no entity named: no memory is used', async () => {
  const { body } = await chat({ messages: [{ role: 'user', content: 'Who is allergic to peanuts?' }] });
  assert.match(body.choices[0].message.content, /no memories that bear on this/);
  assert.equal(body.jamey.memories, 0);
});

test('a conversation continues from its stored turns; another key cannot read it', async () => {
  const first = await chat({ messages: [{ role: 'user', content: 'My bike is a green Brompton.' }] });
  const conv = first.res.headers.get('x-jamey-conversation');
  assert.match(conv ?? '', /^conv_/);
  const second = await chat(
    { messages: [{ role: 'user', content: 'What did I tell you?' }] },
    { 'x-jamey-conversation': conv as string },
  );
  assert.equal(second.res.status, 200);
  assert.match(second.body.choices[0].message.content, /Earlier you said: “My bike is a green Brompton\.”/);
  assert.equal(second.res.headers.get('x-jamey-conversation'), conv);
  const stolen = await chat(
    { messages: [{ role: 'user', content: 'What did they say?' }] },
    { 'x-jamey-conversation': conv as string },
    otherKey,
  );
  assert.equal(stolen.res.status, 404);
  assert.equal(stolen.body.error.code, 'JAMEY_ERR_NOT_FOUND');
});

test('every turn is stored as episodic memory of the entity', async () => {
  await chat({
    user: 'robin',
    messages: [{ role: 'user', content: 'I am learning the cello this winter.' }],
  });
  await svc.jamey.chat.settled();
  const list = await svc.jamey.memory.list({ entityId: 'robin', layer: 'episodic' });
  assert.equal(list.data.length, 1);
  assert.match(list.data[0]?.content ?? '', /^User: I am learning the cello this winter\.\nAssistant: /);
  // And it is recalled in a later conversation.
  const later = await chat({
    user: 'robin',
    messages: [{ role: 'user', content: 'Which instrument am I studying?' }],
  });
  assert.match(later.body.choices[0].message.content, /cello/);
});

test('identical temperature-0 requests are served from the response cache', async () => {
  const body = { temperature: 0, messages: [{ role: 'user', content: 'Cache me, please.' }] };
  const a = await chat(body);
  const b = await chat(body);
  assert.equal(a.res.headers.get('x-cache'), 'MISS');
  assert.equal(b.res.headers.get('x-cache'), 'HIT');
  assert.deepEqual(b.body, a.body);
  const c = await chat({ ...body, temperature: 0.7 });
  assert.equal(c.res.headers.get('x-cache'), 'MISS');
});

test('bad requests get 4xx with the field named', async () => {
  const cases: Array<[Record<string, unknown>, number, string]> = [
    [{ messages: [] }, 400, '/messages'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 400, '/messages/0/role'],
    [{ messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 400, '/temperature'],
    [{ messages: [{ role: 'user', content: 'x' }], n: 2 }, 400, '/n'],
    [{ messages: [{ role: 'user', content: 'x' }], bogus: 1 }, 400, '/bogus'],
    [{ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }, 404, '/model'],
    [{ messages: [{ role: 'user', content: 'x' }], conversation_id: 'nope' }, 400, '/conversation_id'],
    [
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      400,
      '/messages/0/content/0/type',
    ],
  ];
  for (const [body, status, path] of cases) {
    const r = await chat(body);
    assert.equal(r.res.status, status, JSON.stringify(body));
    assert.ok(
      (r.body.error.details as Array<{ path: string }>).some((d) => d.path.startsWith(path)),
      `${JSON.stringify(body)} → ${JSON.stringify(r.body.error.details)}`,
    );
  }
});

test('a memory-only key cannot chat', async () => {
  const mem = (await svc.jamey.keys.createKey({ name: 'mem', scopes: ['memory:read'] })).token;
  const r = await chat({ messages: [{ role: 'user', content: 'hi' }] }, {}, mem);
  assert.equal(r.res.status, 403);
});
