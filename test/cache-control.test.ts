import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cacheModeOf,
  isCacheableResponse,
  parseCacheControl,
  requestCacheKey,
} from '../src/actors/cache/index.js';

test('parseCacheControl: directives, case, arguments, quoted commas, several header lines', () => {
  assert.deepEqual(parseCacheControl(undefined), { noStore: false, noCache: false, onlyIfCached: false });
  assert.deepEqual(parseCacheControl('No-Store'), { noStore: true, noCache: false, onlyIfCached: false });
  assert.deepEqual(parseCacheControl('no-cache, max-age=0'), {
    noStore: false,
    noCache: true,
    onlyIfCached: false,
    maxAge: 0,
  });
  assert.equal(parseCacheControl('no-cache="x-a, x-b"').noCache, true);
  assert.equal(parseCacheControl('foo="no-store, bar"').noStore, false, 'inside quotes it is an argument');
  assert.deepEqual(parseCacheControl(['max-age=60', 'only-if-cached']), {
    noStore: false,
    noCache: false,
    onlyIfCached: true,
    maxAge: 60,
  });
  assert.equal(parseCacheControl('max-age=abc').maxAge, undefined);
  assert.equal(parseCacheControl(' ,, no-store ,').noStore, true);
});

test('cacheModeOf: no-store neither reads nor writes; no-cache and max-age=0 refresh; Pragma without Cache-Control', () => {
  assert.deepEqual(cacheModeOf(undefined), { read: true, write: true });
  assert.deepEqual(cacheModeOf({ 'cache-control': 'no-store' }), { read: false, write: false });
  assert.deepEqual(cacheModeOf({ 'cache-control': 'no-cache' }), { read: false, write: true });
  assert.deepEqual(cacheModeOf({ 'Cache-Control': 'max-age=0' }), { read: false, write: true });
  assert.deepEqual(cacheModeOf({ 'cache-control': 'no-store, no-cache' }), { read: false, write: false });
  assert.deepEqual(cacheModeOf({ pragma: 'no-cache' }), { read: false, write: true });
  assert.deepEqual(cacheModeOf({ pragma: 'no-cache', 'cache-control': 'max-age=60' }), {
    read: true,
    write: true,
  });
});

test('isCacheableResponse: successful GETs and declared POSTs only, never auth changes or no-store', () => {
  const ok = { method: 'GET', status: 200 };
  assert.equal(isCacheableResponse(ok), true);
  assert.equal(isCacheableResponse({ ...ok, method: 'get' }), true);
  assert.equal(isCacheableResponse({ ...ok, status: 404 }), false);
  assert.equal(isCacheableResponse({ ...ok, status: 500 }), false);
  assert.equal(isCacheableResponse({ ...ok, status: 204 }), false);
  assert.equal(isCacheableResponse({ method: 'POST', status: 200 }), false);
  assert.equal(isCacheableResponse({ method: 'POST', status: 200, cacheablePost: true }), true);
  assert.equal(isCacheableResponse({ method: 'DELETE', status: 200, cacheablePost: true }), false);
  assert.equal(isCacheableResponse({ ...ok, authChange: true }), false);
  assert.equal(isCacheableResponse({ ...ok, requestHeaders: { 'cache-control': 'no-store' } }), false);
  assert.equal(isCacheableResponse({ ...ok, requestHeaders: { 'cache-control': 'no-cache' } }), true);
  assert.equal(isCacheableResponse({ ...ok, responseHeaders: { 'Cache-Control': 'no-store' } }), false);
  assert.equal(isCacheableResponse({ ...ok, responseHeaders: { 'cache-control': 'private' } }), true);
  assert.equal(isCacheableResponse({ ...ok, responseHeaders: { 'set-cookie': ['a=b'] } }), false);
  assert.equal(isCacheableResponse({ ...ok, responseHeaders: { vary: 'accept, *' } }), false);
  assert.equal(isCacheableResponse({ ...ok, responseHeaders: { vary: 'accept' } }), true);
});

test('requestCacheKey: query order does not matter; scopes, body and varied headers do', () => {
  const base = { method: 'GET', path: '/v1/memories', query: 'a=1&b=2', scopes: ['memory:read'] };
  const k = requestCacheKey(base);
  assert.equal(requestCacheKey({ ...base, method: 'get', query: '?b=2&a=1' }), k);
  assert.notEqual(requestCacheKey({ ...base, query: 'a=1&b=3' }), k);
  assert.notEqual(requestCacheKey({ ...base, scopes: ['memory:read', 'memory:write'] }), k);
  assert.equal(requestCacheKey({ ...base, scopes: ['memory:read'] }), k);
  assert.notEqual(requestCacheKey({ ...base, vary: { accept: 'text/plain' } }), k);
  const post = { method: 'POST', path: '/v1/search', body: '{"q":"sky"}' };
  assert.notEqual(requestCacheKey(post), requestCacheKey({ ...post, body: '{"q":"sea"}' }));
  assert.ok(k.length < 100);
});
