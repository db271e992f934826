import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { utcDay } from '../src/actors/router/budget.js';
import { createJamey, DATABASE_FILE } from '../src/jamey.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-budget-');
after(() => tmp.cleanup());

const unlimited = { rps: 1e6, burst: 1e6 };
const options = {
  security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
  llm: {
    env: {},
    // A priced model served by the local responder: 1000 USD per million prompt tokens.
    providers: [
      {
        name: 'priced',
        kind: 'local' as const,
        models: [{ id: 'priced', contextTokens: 8192, pricePerMTokIn: 1000, pricePerMTokOut: 1000 }],
      },
    ],
    router: { budgets: { dailyUsd: 0.05 } },
  },
};

async function start() {
  const jamey = createJamey({ dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } }, options);
  await jamey.start();
  const server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    jamey,
    chat: (key: string) =>
      fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'priced',
          messages: [{ role: 'user', content: 'How much is this costing?' }],
        }),
      }),
    close: async () => {
      await server.shutdown();
      await jamey.close();
    },
  };
}

test('spend over the daily budget is refused with 402, and the spend survives a restart', async () => {
  const first = await start();
  const key = (await first.jamey.keys.createKey({ name: 'spender', scopes: ['chat'] })).token;
  const ok = await first.chat(key);
  assert.equal(ok.status, 200);
  const usage = ((await ok.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
  const cost = ((usage.prompt_tokens + usage.completion_tokens) * 1000) / 1e6;
  assert.ok(cost > 0.05, `one request (${cost} USD) crosses the budget`);
  const refused = await first.chat(key);
  assert.equal(refused.status, 402);
  const err = (
    (await refused.json()) as { error: { code: string; details: { period: string; spentUsd: number } } }
  ).error;
  assert.equal(err.code, 'JAMEY_ERR_BUDGET_EXCEEDED');
  assert.equal(err.details.period, 'day');
  assert.ok(Math.abs(err.details.spentUsd - cost) < 1e-6);
  await first.close();

  const db = new Database(join(tmp.dir, DATABASE_FILE), { readonly: true });
  const rows = db
    .prepare('SELECT model, requests, prompt_tokens, completion_tokens, cost_micros FROM llm_usage')
    .all();
  db.close();
  assert.deepEqual(rows, [
    {
      model: 'priced',
      requests: 1,
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      cost_micros: Math.round(cost * 1e6),
    },
  ]);

  const second = await start();
  try {
    assert.equal((await second.chat(key)).status, 402, 'still over budget after the restart');
  } finally {
    await second.close();
  }
});

test('utcDay (cached per day) agrees with toISOString for any instant, in any order of calls', () => {
  const instant = fc.oneof(
    fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }), // years 0 to 9999
    fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => ms - (ms % 86_400_000) - 1), // a day's last ms
    fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => ms - (ms % 86_400_000)), // a day's first ms
  );
  fc.assert(
    fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (list) => {
      for (const ms of list) assert.equal(utcDay(ms), new Date(ms).toISOString().slice(0, 10));
    }),
  );
});
