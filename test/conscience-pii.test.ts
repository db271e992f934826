import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cardNetwork,
  evaluate,
  ibanValid,
  luhnValid,
  ninoValid,
  redactEvaluation,
  runDetectors,
  shannonEntropy,
  ssnValid,
} from '../src/actors/conscience/index.js';

const hitsOf = (text: string, detector: string) =>
  runDetectors(text)
    .filter((h) => h.detector === detector)
    .map((h) => text.slice(h.span[0], h.span[1]));

test('Luhn (ISO/IEC 7812-1): valid and invalid numbers', () => {
  for (const n of [
    '4111111111111111',
    '4242424242424242',
    '5555555555554444',
    '378282246310005',
    '6011111111111117',
    '79927398713',
  ]) {
    assert.ok(luhnValid(n), n);
  }
  for (const n of ['4111111111111112', '1234567812345678', '79927398710', '', '12a4'])
    assert.ok(!luhnValid(n), n);
  assert.equal(cardNetwork('4111111111111111'), 'visa');
  assert.equal(cardNetwork('5555555555554444'), 'mastercard');
  assert.equal(cardNetwork('378282246310005'), 'amex');
});

test('a 16-digit number that fails Luhn is not a card; one that passes is', () => {
  assert.deepEqual(hitsOf('order 4111 1111 1111 1112 shipped', 'pii-card'), []);
  assert.deepEqual(hitsOf('card 4111 1111 1111 1111 exp 01/29', 'pii-card'), ['4111 1111 1111 1111']);
  assert.deepEqual(hitsOf('card 4111-1111-1111-1111', 'pii-card'), ['4111-1111-1111-1111']);
  assert.deepEqual(hitsOf('all zeros 0000 0000 0000 0000', 'pii-card'), [], 'a repeated digit is not a card');
});

test('SSN rules (SSA): area, group and serial', () => {
  assert.ok(ssnValid('536-22-8143'));
  assert.ok(ssnValid('536228143'));
  assert.ok(!ssnValid('000-12-3456'), 'area 000');
  assert.ok(!ssnValid('666-12-3456'), 'area 666');
  assert.ok(!ssnValid('912-12-3456'), 'area 900-999');
  assert.ok(!ssnValid('536-00-8143'), 'group 00');
  assert.ok(!ssnValid('536-22-0000'), 'serial 0000');
  assert.ok(!ssnValid('078-05-1120'), 'the Woolworth wallet number');
  assert.deepEqual(hitsOf('my SSN is 536-22-8143', 'pii-national-id'), ['536-22-8143']);
  assert.deepEqual(hitsOf('ssn: 536228143', 'pii-national-id'), ['536228143'], 'nine bare digits with a cue');
  assert.deepEqual(hitsOf('order 536228143', 'pii-national-id'), [], 'nine bare digits without a cue');
  assert.deepEqual(hitsOf('id 666-22-8143', 'pii-national-id'), []);
});

test('UK National Insurance numbers (HMRC prefix rules)', () => {
  assert.ok(ninoValid('JH 48 29 15 B'));
  assert.ok(ninoValid('AB123456C'));
  assert.ok(!ninoValid('QQ 12 34 56 C'), 'Q is never a prefix letter');
  assert.ok(!ninoValid('GB123456A'), 'GB is not allocated');
  assert.ok(!ninoValid('AB123456E'), 'suffix A-D only');
  assert.deepEqual(hitsOf('NI number JH 48 29 15 B', 'pii-national-id'), ['JH 48 29 15 B']);
});

test('IBAN (ISO 13616 mod-97 and country length)', () => {
  assert.ok(ibanValid('GB82 WEST 1234 5698 7654 32'));
  assert.ok(ibanValid('DE89370400440532013000'));
  assert.ok(ibanValid('FR1420041010050500013M02606'));
  assert.ok(!ibanValid('GB82 WEST 1234 5698 7654 33'), 'check digits');
  assert.ok(!ibanValid('DE8937040044053201300'), 'German IBANs have 22 characters');
  assert.deepEqual(hitsOf('pay DE89 3704 0044 0532 0130 00 today', 'pii-iban'), [
    'DE89 3704 0044 0532 0130 00',
  ]);
  assert.deepEqual(hitsOf('pay DE89 3704 0044 0532 0130 01 today', 'pii-iban'), []);
});

test('emails and phone numbers', () => {
  assert.deepEqual(hitsOf('write to jane.doe+work@mail.acme.co.uk now', 'pii-email'), [
    'jane.doe+work@mail.acme.co.uk',
  ]);
  assert.deepEqual(
    hitsOf('call +44 7911 123456, (415) 555-2671, 020 7946 0958 or 01 42 68 53 00', 'pii-phone'),
    ['+44 7911 123456', '(415) 555-2671', '020 7946 0958', '01 42 68 53 00'],
  );
  assert.deepEqual(hitsOf('released 2024-03-15, version 10.2.3', 'pii-phone'), []);
  assert.deepEqual(hitsOf('clone git@github.com:org/repo.git', 'pii-email'), [], 'an SCP-style remote');
  const reserved = runDetectors('contact user@example.com').find((h) => h.detector === 'pii-email');
  assert.ok(reserved && reserved.score < 0.5, 'RFC 2606 domains score low');
});

test('API keys and secrets by prefix and entropy', () => {
  const cases: [string, string][] = [
    ['key sk-proj-4fH8kL2mQ9xR7tY3vB6nZ1pW5sD0gJ here', 'sk-proj-4fH8kL2mQ9xR7tY3vB6nZ1pW5sD0gJ'],
    ['AKIAZ4QJ7XH2M5N8P3R6 in config', 'AKIAZ4QJ7XH2M5N8P3R6'],
    ['ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5', 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'],
    ['xoxb-2048173-9938273-aZbYcXdWeVfU', 'xoxb-2048173-9938273-aZbYcXdWeVfU'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl', '-----BEGIN OPENSSH PRIVATE KEY-----'],
    ['api_key="9f8Xk2LmQ7rT4vB1nZ6pW3sD8gJ0hY5c"', '9f8Xk2LmQ7rT4vB1nZ6pW3sD8gJ0hY5c'],
    ['STRIPE_CLIENT_SECRET: q8Zr2LmX7vB1nK6pW3sD8gJ0hY5cT4', 'q8Zr2LmX7vB1nK6pW3sD8gJ0hY5cT4'],
  ];
  for (const [text, secret] of cases) assert.deepEqual(hitsOf(text, 'secrets'), [secret], text);
  assert.deepEqual(hitsOf('api_key=YOUR_API_KEY_GOES_HERE', 'secrets'), [], 'placeholder');
  assert.deepEqual(hitsOf('sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'secrets'), [], 'low entropy');
  assert.deepEqual(hitsOf('token: aaaaaaaaaaaaaaaaaaaaaaaa', 'secrets'), []);
  assert.deepEqual(hitsOf('secret: process.env.CONSUMER_SECRET', 'secrets'), [], 'code naming a secret');
  assert.deepEqual(hitsOf('password=dbpassword', 'secrets'), [], 'one kind of character');
  assert.deepEqual(hitsOf('password=Tr0ub4dor&3x', 'secrets'), ['Tr0ub4dor&3x']);
  assert.deepEqual(hitsOf('db: postgres://admin:Xk29fLmQ7pR@db.internal:5432/main', 'secrets'), [
    'Xk29fLmQ7pR',
  ]);
  assert.deepEqual(hitsOf('postgres://admin:$DB_PASSWORD@db:5432/main', 'secrets'), [], 'a variable');
  assert.ok(shannonEntropy('abcd') === 2 && shannonEntropy('aaaa') === 0);
});

test('privacy flags (does not block), and assistant output is stricter', () => {
  const user = evaluate('my number is 020 7946 0958');
  const phoneOnly = evaluate('020 7946 0958');
  const assistant = evaluate('020 7946 0958', { role: 'assistant' });
  assert.equal(user.verdict, 'flag', 'with a cue');
  assert.equal(phoneOnly.verdict, 'allow', 'a bare number from the user');
  assert.equal(assistant.verdict, 'flag', 'the same number produced by the assistant');
  assert.ok(assistant.score > phoneOnly.score);
  assert.equal(evaluate('card 4111 1111 1111 1111').verdict, 'flag');
});

test('sensitive excerpts are marked and can be redacted', () => {
  const r = evaluate('card 4111 1111 1111 1111 and key sk-proj-4fH8kL2mQ9xR7tY3vB6nZ1pW5sD0gJ');
  assert.ok(r.reasons.length === 2 && r.reasons.every((x) => x.sensitive));
  const red = redactEvaluation(r);
  assert.equal(red.reasons[0]!.excerpt, '**** **** **** 1111');
  assert.ok(!red.reasons[1]!.excerpt.includes('4fH8kL2m'));
  assert.deepEqual(red.reasons[0]!.span, r.reasons[0]!.span);
  assert.equal(r.reasons[0]!.excerpt, '4111 1111 1111 1111', 'the original is not modified');
});

test('a message full of values reports a bounded number of hits', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `user${i}@mail${i}.org`).join(' ');
  const r = evaluate(text);
  assert.equal(r.verdict, 'flag');
  assert.ok(r.reasons.length > 0 && r.reasons.length <= 64, `${r.reasons.length} reasons`);
  assert.equal(r.reasons[0]!.excerpt, 'user0@mail0.org', 'the first ones, in text order');
});
