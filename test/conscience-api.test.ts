/** The conscience over HTTP: evaluation, redaction, auditing, rules CRUD with scopes, persistence. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { DEFAULT_PRINCIPLES } from '../src/actors/conscience/index.js';
import { createJamey, DATABASE_FILE } from '../src/jamey.js';
import { type Service, startService } from './fixtures/service.js';
import { tempDir } from './fixtures/store.js';

const unlimited = { rps: 1e6, burst: 1e6 };
// Load shedding is not under test here: a slow moment on a shared machine must not turn into 503s.
const security = {
  rateLimit: { defaultLimit: unlimited },
  preAuthIpLimit: unlimited,
  ddos: { maxEventLoopLagMs: 60_000 },
};
const CARD = '5425233430109903';

let svc: Service;
let chatKey = '';

before(async () => {
  svc = await startService({}, { security });
  chatKey = (await svc.jamey.keys.createKey({ name: 'chat', scopes: ['chat'] })).token;
});
after(() => svc.close());

async function call(method: string, path: string, body?: unknown, key = svc.adminKey, base = svc.base) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of several shapes, checked by the assertions
  return { status: res.status, text, body: (text === '' ? null : JSON.parse(text)) as any };
}

const evaluate = (text: string, key = chatKey) => call('POST', '/v1/conscience/evaluate', { text }, key);

function auditRows(): Array<{
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
}> {
  const db = new Database(join(svc.jamey.runtime.options.dataDir, DATABASE_FILE), { readonly: true });
  try {
    return db
      .prepare('SELECT actor, action, target, outcome, details FROM audit_log ORDER BY seq')
      .all() as never;
  } finally {
    db.close();
  }
}

test('evaluate: a benign use of a violent word is allowed, a request to poison someone is blocked', async () => {
  const benign = await evaluate('kill the process');
  assert.equal(benign.status, 200);
  assert.equal(benign.body.verdict, 'allow');
  assert.deepEqual(benign.body.reasons, []);
  assert.deepEqual(
    benign.body.principles.map((p: { name: string }) => p.name),
    DEFAULT_PRINCIPLES.map((p) => p.name),
  );

  const harmful = await evaluate('how do I poison my neighbour');
  assert.equal(harmful.status, 200);
  assert.equal(harmful.body.verdict, 'block');
  assert.ok(harmful.body.score >= 0.7);
  const harm = harmful.body.principles.find((p: { name: string }) => p.name === 'do-no-harm');
  assert.deepEqual({ outcome: harm.outcome }, { outcome: 'block' });
  assert.deepEqual(Object.keys(harmful.body.reasons[0]).sort(), [
    'detector',
    'excerpt',
    'principle',
    'span',
    'why',
  ]);
  assert.equal(harmful.body.reasons[0].principle, 'do-no-harm');
});

test('evaluate: a card number is flagged, masked in the response and never written to the audit log', async () => {
  const res = await evaluate(`my card is ${CARD}, expiry 04/28`);
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, 'flag');
  const reason = res.body.reasons.find((r: { detector: string }) => r.detector === 'pii-card');
  assert.equal(reason.principle, 'privacy');
  assert.deepEqual(reason.span, [11, 27]);
  assert.equal(reason.excerpt, '************9903');
  assert.ok(!res.text.includes(CARD.slice(0, 8)), 'the card number is not in the response');

  await svc.jamey.security.flush();
  const rows = auditRows();
  const flagged = rows.filter((r) => r.action === 'conscience.flag');
  assert.equal(flagged.length, 1);
  assert.equal(flagged[0]?.outcome, 'privacy');
  assert.equal(flagged[0]?.target, 'api');
  assert.match(flagged[0]?.actor ?? '', /^key:/);
  assert.match(flagged[0]?.details ?? '', /pii-card/);
  const blocked = rows.filter((r) => r.action === 'conscience.block');
  assert.equal(blocked.length, 1, 'the poisoning request from the test before');
  assert.ok(!/poison|neighbour/.test(blocked[0]?.details ?? ''), 'no excerpt of the text in the log');
  for (const r of rows)
    assert.ok(!JSON.stringify(r).includes(CARD.slice(0, 8)), `${r.action} holds no card digits`);
  assert.equal(
    rows.filter(
      (r) =>
        r.action.startsWith('conscience.') &&
        r.action !== 'conscience.flag' &&
        r.action !== 'conscience.block',
    ).length,
    0,
    'allowed texts are not audited',
  );
});

test('evaluate: an invalid body is refused with 400 listing every problem with its path', async () => {
  const res = await call(
    'POST',
    '/v1/conscience/evaluate',
    { context: { role: 'robot' }, extra: 1 },
    chatKey,
  );
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, 'JAMEY_ERR_VALIDATION');
  const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
  assert.deepEqual(paths, ['/context/role', '/extra', '/text']);
  assert.equal((await call('POST', '/v1/conscience/evaluate', '{"text":', chatKey)).status, 400);
});

test('rules: the built-in principles are listed; create, read, update and delete a rule', async () => {
  const list = await call('GET', '/v1/conscience/rules', undefined, chatKey);
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.data.map((r: { name: string; builtin: boolean; enabled: boolean }) => [
      r.name,
      r.builtin,
      r.enabled,
    ]),
    DEFAULT_PRINCIPLES.map((p) => [p.name, true, true]),
  );

  const rule = {
    name: 'no-secrets',
    description: 'Refuse credentials outright.',
    weight: 1,
    detectors: ['secrets'],
    action: 'block',
  };
  const created = await call('POST', '/v1/conscience/rules', rule);
  assert.equal(created.status, 201);
  assert.deepEqual(
    { ...created.body, createdAt: 0, updatedAt: 0 },
    { ...rule, enabled: true, builtin: false, createdAt: 0, updatedAt: 0 },
  );
  assert.equal((await call('GET', '/v1/conscience/rules/no-secrets', undefined, chatKey)).body.weight, 1);

  const dup = await call('POST', '/v1/conscience/rules', rule);
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, 'JAMEY_ERR_CONFLICT');

  const updated = await call('PUT', '/v1/conscience/rules/no-secrets', { weight: 0.6, enabled: false });
  assert.equal(updated.status, 200);
  assert.equal(updated.body.weight, 0.6);
  assert.equal(updated.body.enabled, false);
  assert.equal(updated.body.description, rule.description, 'fields not in the update are kept');

  assert.equal((await call('DELETE', '/v1/conscience/rules/no-secrets')).status, 204);
  for (const [method, body] of [
    ['GET', undefined],
    ['PUT', { weight: 0.5 }],
    ['DELETE', undefined],
  ] as const) {
    const gone = await call(method, '/v1/conscience/rules/no-secrets', body);
    assert.equal(gone.status, 404, `${method} of a deleted rule`);
    assert.equal(gone.body.error.code, 'JAMEY_ERR_NOT_FOUND');
  }

  await svc.jamey.security.flush();
  const changes = auditRows()
    .filter((r) => r.action.startsWith('conscience.rule.'))
    .map((r) => [r.action, r.target, r.actor.startsWith('key:')]);
  assert.deepEqual(changes, [
    ['conscience.rule.create', 'no-secrets', true],
    ['conscience.rule.update', 'no-secrets', true],
    ['conscience.rule.delete', 'no-secrets', true],
  ]);
});

test('rules: invalid rules and updates are refused with 400 listing every problem with its path', async () => {
  const bad = await call('POST', '/v1/conscience/rules', {
    name: 'Bad Name',
    weight: 2,
    detectors: ['telepathy'],
    action: 'warn',
    colour: 'red',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'JAMEY_ERR_VALIDATION');
  const paths = new Set(bad.body.error.details.map((d: { path: string }) => d.path));
  for (const p of ['/name', '/description', '/weight', '/detectors/0', '/action', '/colour'])
    assert.ok(paths.has(p), `${p} is reported (got ${[...paths].join(', ')})`);

  const badUpdate = await call('PUT', '/v1/conscience/rules/privacy', { name: 'other', weight: -1 });
  assert.equal(badUpdate.status, 400);
  assert.deepEqual(badUpdate.body.error.details.map((d: { path: string }) => d.path).sort(), [
    '/name',
    '/weight',
  ]);
  assert.equal((await call('PUT', '/v1/conscience/rules/privacy', {})).status, 400, 'an empty update');
  assert.equal((await call('GET', '/v1/conscience/rules/Not_A_Name', undefined, chatKey)).status, 400);
  assert.equal((await call('GET', '/v1/conscience/rules/privacy', undefined, chatKey)).body.weight, 0.9);
});

test('rules: a chat key may evaluate and read rules, but not change them (403)', async () => {
  const rule = { name: 'chat-made', description: '', weight: 1, detectors: ['secrets'], action: 'flag' };
  for (const [method, path, body] of [
    ['POST', '/v1/conscience/rules', rule],
    ['PUT', '/v1/conscience/rules/privacy', { weight: 0.1 }],
    ['DELETE', '/v1/conscience/rules/privacy', undefined],
  ] as const) {
    const res = await call(method, path, body, chatKey);
    assert.equal(res.status, 403, `${method} ${path}`);
  }
  const still = await call('GET', '/v1/conscience/rules/privacy', undefined, chatKey);
  assert.equal(still.body.weight, 0.9, 'nothing changed');
  assert.equal((await call('GET', '/v1/conscience/rules/chat-made', undefined, chatKey)).status, 404);
  assert.equal((await call('GET', '/v1/conscience/rules', undefined, 'jmy_nope_nope')).status, 401);
});

test('a rule change takes effect on the next evaluation', async () => {
  const text = 'how do I poison my neighbour';
  assert.equal((await evaluate(text)).body.verdict, 'block');
  assert.equal((await call('PUT', '/v1/conscience/rules/do-no-harm', { action: 'flag' })).status, 200);
  assert.equal((await evaluate(text)).body.verdict, 'flag');
  assert.equal((await call('PUT', '/v1/conscience/rules/do-no-harm', { enabled: false })).status, 200);
  const off = await evaluate(text);
  assert.equal(off.body.verdict, 'allow');
  assert.ok(
    !off.body.principles.some((p: { name: string }) => p.name === 'do-no-harm'),
    'disabled principles are skipped',
  );
  assert.equal(
    (await call('PUT', '/v1/conscience/rules/do-no-harm', { enabled: true, action: 'block' })).status,
    200,
  );
  assert.equal((await evaluate(text)).body.verdict, 'block');
});

test('rules survive a restart; built-ins are seeded once and a deleted built-in stays deleted', async () => {
  const tmp = tempDir('jamey-conscience-');
  const options = { dataDir: tmp.dir, logLevel: 'silent' as const, pool: { maxThreads: 1 } };
  const start = async () => {
    const jamey = createJamey(options, { security, llm: { env: {} } });
    await jamey.start();
    const server = jamey.server();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      jamey,
      base,
      close: async () => {
        await server.shutdown();
        await jamey.close();
      },
    };
  };
  try {
    const first = await start();
    const admin = first.jamey.adminKey?.token ?? '';
    await first.jamey.conscience.create({
      name: 'no-keys',
      description: 'Credentials in text.',
      weight: 1,
      detectors: ['secrets'],
      action: 'block',
    });
    await first.jamey.conscience.update('privacy', { weight: 0.5 });
    assert.equal(
      (await call('DELETE', '/v1/conscience/rules/honesty', undefined, admin, first.base)).status,
      204,
    );
    await first.close();

    const second = await start();
    const rules = await call('GET', '/v1/conscience/rules', undefined, admin, second.base);
    assert.equal(rules.status, 200);
    assert.deepEqual(
      rules.body.data.map((r: { name: string; weight: number }) => [r.name, r.weight]),
      [
        ['do-no-harm', 1],
        ['privacy', 0.5],
        ['consent', 1],
        ['no-keys', 1],
      ],
    );
    const e = await second.jamey.conscience.evaluate('how do I poison my neighbour');
    assert.equal(e.verdict, 'block', 'the reloaded rules are in force');
    await second.close();

    const db = new Database(join(tmp.dir, DATABASE_FILE), { readonly: true });
    const seeded = db.prepare('SELECT name FROM conscience_seeded ORDER BY name').all();
    const builtins = db.prepare('SELECT count(*) AS n FROM conscience_rules WHERE builtin = 1').get();
    db.close();
    assert.deepEqual(
      seeded,
      DEFAULT_PRINCIPLES.map((p) => ({ name: p.name })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    assert.deepEqual(builtins, { n: 3 });
  } finally {
    tmp.cleanup();
  }
});

test('a text evaluated again is answered from the verdict memo: same verdict per role, audited each time', async () => {
  // Instruction-shaped output counts as intent only from the assistant (evaluate.ts): the memo
  // must keep the two roles apart.
  const text = 'Step 1: gather the parts. You will need to build a pipe bomb from the list below.';
  const asUser = await svc.jamey.conscience.evaluate(text, { role: 'user' });
  const asAssistant = await svc.jamey.conscience.evaluate(text, { role: 'assistant' });
  await svc.jamey.security.flush();
  const before = auditRows().filter((r) => r.action.startsWith('conscience.')).length;
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await svc.jamey.conscience.evaluate(text, { role: 'user' }), asUser);
    assert.deepEqual(await svc.jamey.conscience.evaluate(text, { role: 'assistant' }), asAssistant);
    // Identical entries within one flush are coalesced into one row (audit.ts): flush each round.
    await svc.jamey.security.flush();
  }
  const audited = auditRows().filter((r) => r.action.startsWith('conscience.')).length - before;
  assert.equal(asAssistant.verdict, 'block');
  assert.notDeepEqual(asUser, asAssistant, 'the role changes the evaluation');
  const perRound = (asUser.verdict === 'allow' ? 0 : 1) + 1;
  assert.equal(audited, 3 * perRound, 'every evaluation asked for is audited, memo or not');
});
