import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import type { Jamey } from '../src/jamey.js';
import { type Service, startService } from './fixtures/service.js';

let service: Service;
let jamey: Jamey;
let base: string;

before(async () => {
  service = await startService();
  jamey = service.jamey;
  base = service.base;
});
after(() => service.close());

async function call(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
  const headers = { authorization: `Bearer ${jamey.adminKey?.token}`, ...extra };
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    body: text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : ({} as Record<string, unknown>),
  };
}

test('store, get, list with filters and cursor, search, delete', async () => {
  const created = await call('POST', '/v1/memories', {
    layer: 'semantic',
    content: 'The spare house key is under the blue flowerpot.',
    entityId: 'ana',
    preferredModel: 'llama3',
    salience: 0.8,
    metadata: { source: 'chat' },
  });
  assert.equal(created.status, 201);
  const id = created.body['id'] as string;
  assert.match(id, /^mem_/);
  assert.equal(created.body['layer'], 'semantic');
  assert.equal(created.body['preferredModel'], 'llama3');

  const again = await call('POST', '/v1/memories', {
    layer: 'semantic',
    content: '  the spare HOUSE key is under the blue flowerpot. ',
    entityId: 'ana',
  });
  assert.equal(again.status, 200, 'merged, not created');
  assert.equal(again.body['id'], id);
  assert.equal(again.body['merged'], 'exact');

  const got = await call('GET', `/v1/memories/${id}`);
  assert.equal(got.status, 200);
  assert.equal(got.body['content'], 'The spare house key is under the blue flowerpot.');
  assert.equal(got.body['embedding'], undefined, 'vectors are not part of the API');

  for (let i = 0; i < 5; i++)
    await call('POST', '/v1/memories', { layer: 'episodic', content: `turn ${i}`, entityId: 'ana' });
  const page1 = await call('GET', '/v1/memories?layer=episodic&entityId=ana&limit=3');
  assert.deepEqual(
    (page1.body['data'] as Array<{ content: string }>).map((m) => m.content),
    ['turn 4', 'turn 3', 'turn 2'],
  );
  const cursor = page1.body['nextCursor'] as string;
  const page2 = await call(
    'GET',
    `/v1/memories?layer=episodic&entityId=ana&limit=3&cursor=${encodeURIComponent(cursor)}`,
  );
  assert.deepEqual(
    (page2.body['data'] as Array<{ content: string }>).map((m) => m.content),
    ['turn 1', 'turn 0'],
  );
  assert.equal(page2.body['nextCursor'], null);

  const search = await call('POST', '/v1/memories/search', {
    query: 'where can I find the key to get into the house',
    entityId: 'ana',
    limit: 3,
  });
  assert.equal(search.status, 200);
  const results = search.body['results'] as Array<{ id: string; score: number; layer: string }>;
  assert.equal(results[0]?.id, id);
  assert.ok((results[0]?.score ?? 0) > 0);

  const del = await call('DELETE', `/v1/memories/${id}`);
  assert.equal(del.status, 204);
  const gone = await call('GET', `/v1/memories/${id}`);
  assert.equal(gone.status, 404);
  assert.equal((gone.body['error'] as { code: string }).code, 'JAMEY_ERR_NOT_FOUND');
  const searchAfter = await call('POST', '/v1/memories/search', {
    query: 'where can I find the key to get into the house',
    entityId: 'ana',
  });
  assert.ok(
    !(searchAfter.body['results'] as Array<{ id: string }>).some((r) => r.id === id),
    'a deleted memory is not found',
  );
});

test('validation errors list every offending field with its path', async () => {
  const bad = await call('POST', '/v1/memories', {
    layer: 'dreams',
    content: '',
    salience: 7,
    extra: true,
    entityId: '',
  });
  assert.equal(bad.status, 400);
  const error = bad.body['error'] as { code: string; details: Array<{ path: string; problem: string }> };
  assert.equal(error.code, 'JAMEY_ERR_VALIDATION');
  const paths = error.details.map((d) => d.path).sort();
  for (const p of ['/content', '/entityId', '/extra', '/layer', '/salience'])
    assert.ok(paths.includes(p), `${p} in ${paths.join(',')}`);
  const missing = await call('POST', '/v1/memories', {});
  assert.deepEqual(
    (missing.body['error'] as { details: Array<{ path: string }> }).details.map((d) => d.path).sort(),
    ['/content', '/layer'],
  );
  const query = await call('GET', '/v1/memories?limit=0&layer=x&bogus=1');
  assert.equal(query.status, 400);
  assert.deepEqual(
    (query.body['error'] as { details: Array<{ path: string }> }).details.map((d) => d.path).sort(),
    ['/bogus', '/layer', '/limit'],
  );
  const id = await call('GET', '/v1/memories/not-an-id');
  assert.equal(id.status, 400);
  const cursor = await call('GET', '/v1/memories?cursor=zzz');
  assert.equal(cursor.status, 400);
});

test('bodies: not JSON is 415, malformed JSON is 400, too large is 413', async () => {
  const plain = await call('POST', '/v1/memories', undefined, { 'content-type': 'text/plain' });
  assert.equal(plain.status, 415);
  const broken = await call('POST', '/v1/memories', '{"layer": ');
  assert.equal(broken.status, 400);
  assert.equal((broken.body['error'] as { code: string }).code, 'JAMEY_ERR_VALIDATION');
  const huge = await call('POST', '/v1/memories', {
    layer: 'semantic',
    content: 'x'.repeat(2 * 1024 * 1024),
  });
  assert.equal(huge.status, 413);
  assert.equal((huge.body['error'] as { code: string }).code, 'JAMEY_ERR_PAYLOAD_TOO_LARGE');
});
