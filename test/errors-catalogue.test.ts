import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  ERROR_CODES,
  type ErrorCode,
  fromErrorData,
  httpStatusOf,
  JameyError,
  toJameyError,
} from '../src/runtime/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

test('every code is documented with its HTTP status, and the doc names no other code', () => {
  const tableRows = new Map<string, number>();
  for (const m of doc.matchAll(/^\| (JAMEY_ERR_[A-Z_]+) \| (\d{3}) \|$/gm))
    tableRows.set(m[1] as string, Number(m[2]));
  const sections = new Set([...doc.matchAll(/^## (JAMEY_ERR_[A-Z_]+)$/gm)].map((m) => m[1]));
  for (const code of codes) {
    assert.equal(tableRows.get(code), httpStatusOf(code), `docs/errors.md table row for ${code}`);
    assert.ok(sections.has(code), `docs/errors.md has a section for ${code}`);
  }
  const mentioned = new Set(
    [...doc.matchAll(/JAMEY_ERR_[A-Z_]+/g)].map((m) => m[0]).filter((c) => c !== 'JAMEY_ERR_'),
  );
  assert.deepEqual([...mentioned].sort(), [...codes].sort());
});

test('codes are stable names with valid HTTP statuses', () => {
  for (const code of codes) {
    assert.match(code, /^JAMEY_ERR_[A-Z]+(_[A-Z]+)*$/);
    const status = httpStatusOf(code);
    assert.ok(status >= 400 && status <= 599, `${code} maps to an error status (${status})`);
  }
});

test('JameyError carries code, status, details and cause, and round-trips as data', () => {
  const cause = new Error('disk');
  const err = new JameyError('JAMEY_ERR_VALIDATION', 'bad field', { cause, details: [{ path: '/a' }] });
  assert.equal(err.code, 'JAMEY_ERR_VALIDATION');
  assert.equal(err.status, 400);
  assert.equal(err.cause, cause);
  const wire = structuredClone(err.toJSON());
  const back = fromErrorData(wire);
  assert.ok(back instanceof JameyError);
  assert.equal(back.code, 'JAMEY_ERR_VALIDATION');
  assert.equal(back.message, 'bad field');
  assert.deepEqual(back.details, [{ path: '/a' }]);
  assert.equal(fromErrorData({ code: 'NOPE', message: 'x' }).code, 'JAMEY_ERR_INTERNAL');
  assert.equal(toJameyError(new Error('x')).code, 'JAMEY_ERR_INTERNAL');
  assert.equal(new JameyError('JAMEY_ERR_MAILBOX_FULL').message, ERROR_CODES.JAMEY_ERR_MAILBOX_FULL.message);
});
