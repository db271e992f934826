import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { request } from 'undici';
import { parseToken } from '../src/actors/security/index.js';
import { createJamey } from '../src/jamey.js';
import { createLogger } from '../src/runtime/log.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-logs-');
after(() => tmp.cleanup());

test('debug logs carry request ids and never an API key or an Authorization header', async () => {
  const lines: string[] = [];
  const jamey = createJamey(
    { dataDir: tmp.dir, logLevel: 'debug', pool: { maxThreads: 1 } },
    {},
    { logger: createLogger('debug', (l) => lines.push(l)) },
  );
  await jamey.start();
  const server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = jamey.adminKey?.token ?? '';
  try {
    const created = await request(`${base}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'logged?', scopes: ['memory:read'] }),
    });
    const key = ((await created.body.json()) as { key: string }).key;
    for (const auth of [admin, key, `${key.slice(0, -3)}xyz`, 'jmy_garbage']) {
      const r = await request(`${base}/v1/memories`, {
        headers: { authorization: `Bearer ${auth}`, 'x-request-id': 'req-42' },
      });
      await r.body.dump();
    }
    await jamey.keys.flush();
    const text = lines.join('');
    assert.ok(lines.length > 0);
    const access = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['msg'] === 'request');
    assert.ok(
      access.some((l) => l['requestId'] === 'req-42' && l['route'] === '/v1/memories' && l['status'] === 200),
    );
    for (const token of [admin, key]) {
      assert.ok(!text.includes(token), 'no whole key in the logs');
      assert.ok(!text.includes(parseToken(token)?.secret ?? token), 'no secret in the logs');
    }
    assert.ok(!/bearer/i.test(text), 'no Authorization header in the logs');
    // Nor in the audit log.
    const audit = JSON.stringify(await jamey.keys.auditLog());
    assert.ok(
      !audit.includes(parseToken(key)?.secret ?? key) && !audit.includes(parseToken(admin)?.secret ?? admin),
    );
  } finally {
    await server.shutdown();
    await jamey.close();
  }
});
