import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import {
  DEFAULT_PRINCIPLES,
  DETECTOR_IDS,
  evaluate,
  type PrincipleRule,
  validateRule,
  validateRules,
} from '../src/actors/conscience/index.js';
import { createRuleSchema, evaluateSchema, updateRuleSchema } from '../src/http/schemas/conscience.js';

const good: PrincipleRule = {
  name: 'no-fraud',
  description: 'Flag fraud.',
  weight: 0.8,
  detectors: ['deception'],
  action: 'flag',
};

test('the default principles are valid and cover every detector', () => {
  assert.deepEqual(validateRules(DEFAULT_PRINCIPLES), []);
  assert.deepEqual(
    DEFAULT_PRINCIPLES.map((p) => [p.name, p.action]),
    [
      ['do-no-harm', 'block'],
      ['honesty', 'flag'],
      ['privacy', 'flag'],
      ['consent', 'block'],
    ],
  );
  assert.deepEqual(new Set(DEFAULT_PRINCIPLES.flatMap((p) => p.detectors)), new Set(DETECTOR_IDS));
  assert.throws(() => (DEFAULT_PRINCIPLES[0]!.detectors as string[]).push('secrets'), TypeError, 'frozen');
  assert.throws(() => {
    (DEFAULT_PRINCIPLES[0] as { weight: number }).weight = 0;
  }, TypeError);
});

test('validateRule lists every problem, each with its path', () => {
  assert.deepEqual(validateRule(good), []);
  const problems = validateRule({
    name: 'Bad Name',
    description: 7,
    weight: 1.5,
    detectors: ['violence', 'telepathy', 'violence', 'mind-reading'],
    action: 'warn',
    enabled: 'yes',
    colour: 'red',
  });
  const paths = problems.map((p) => p.path);
  assert.deepEqual(paths.sort(), [
    '/action',
    '/colour',
    '/description',
    '/detectors/1',
    '/detectors/2',
    '/detectors/3',
    '/enabled',
    '/name',
    '/weight',
  ]);
  const text = problems.map((p) => `${p.path} ${p.problem}`).join('\n');
  assert.match(text, /\/detectors\/1 unknown detector id "telepathy"/);
  assert.match(text, /\/detectors\/3 unknown detector id "mind-reading"/);
  assert.match(text, /\/detectors\/2 duplicate detector id "violence"/);
  assert.match(text, /\/weight must be between 0 and 1 \(got 1.5\)/);
  assert.match(text, /\/action must be one of "flag", "block" \(got "warn"\)/);
});

test('missing fields, wrong types and the partial (update) mode', () => {
  assert.deepEqual(
    validateRule({}).map((p) => p.path),
    ['/name', '/description', '/weight', '/detectors', '/action'],
  );
  assert.deepEqual(validateRule(null), [{ path: '/', problem: 'must be an object' }]);
  assert.deepEqual(validateRule([good]), [{ path: '/', problem: 'must be an object' }]);
  assert.deepEqual(
    validateRule({ weight: -0.1, detectors: [] }).filter(
      (p) => p.path === '/weight' || p.path === '/detectors',
    ).length,
    2,
  );
  assert.deepEqual(validateRule({ weight: Number.NaN }, { partial: true }), [
    { path: '/weight', problem: 'must be a finite number' },
  ]);
  assert.deepEqual(validateRule({ enabled: false }, { partial: true }), []);
  assert.deepEqual(validateRule({}, { partial: true }), [
    { path: '/', problem: 'must change at least one field' },
  ]);
  assert.deepEqual(validateRule({ name: 'other', weight: 0.5 }, { partial: true }), [
    { path: '/name', problem: 'cannot be changed by an update' },
  ]);
});

test('validateRules also reports duplicate names', () => {
  assert.deepEqual(validateRules([good, { ...good }]), [
    { path: '/1/name', problem: 'duplicate principle name "no-fraud"' },
  ]);
  assert.deepEqual(
    validateRules([good, { ...good, name: 'x', weight: 2 }]).map((p) => p.path),
    ['/1/weight'],
  );
});

test('the JSON Schemas compile under strict Ajv and agree with validateRule', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const create = ajv.compile(createRuleSchema);
  const update = ajv.compile(updateRuleSchema);
  const evaluateBody = ajv.compile(evaluateSchema);
  const samples: unknown[] = [
    good,
    { ...good, enabled: false },
    { ...good, weight: 1.01 },
    { ...good, weight: -1 },
    { ...good, action: 'warn' },
    { ...good, detectors: ['nope'] },
    { ...good, detectors: [] },
    { ...good, detectors: ['violence', 'violence'] },
    { ...good, name: 'Not Kebab' },
    { ...good, extra: 1 },
    { name: 'x' },
  ];
  for (const s of samples) {
    assert.equal(create(s), validateRule(s).length === 0, JSON.stringify(s));
  }
  for (const s of [
    { weight: 0.3 },
    {},
    { weight: 3 },
    { name: 'rename' },
    { detectors: ['x'] },
    { enabled: true },
  ]) {
    assert.equal(update(s), validateRule(s, { partial: true }).length === 0, JSON.stringify(s));
  }
  assert.ok(update({ weight: 0.3 }));
  assert.ok(!update({}));
  assert.ok(!update({ weight: 3 }));
  assert.ok(!update({ name: 'rename' }), 'the name is the identity, not an updatable field');
  assert.ok(evaluateBody({ text: 'hi' }));
  assert.ok(evaluateBody({ text: 'hi', context: { role: 'assistant' } }));
  assert.ok(!evaluateBody({ text: 'hi', context: { role: 'admin' } }));
  assert.ok(!evaluateBody({}));
});

test('evaluate refuses an invalid rule set, and honours custom and disabled rules', () => {
  assert.throws(
    () => evaluate('hi', {}, [{ ...good, detectors: ['nope' as never] }]),
    /unknown detector id "nope"/,
  );
  const text = 'Write 20 fake five-star reviews for my restaurant.';
  assert.equal(evaluate(text).verdict, 'flag');
  const strict: PrincipleRule[] = [{ ...good, name: 'honesty-strict', weight: 1, action: 'block' }];
  const r = evaluate(text, {}, strict);
  assert.equal(r.verdict, 'block');
  assert.deepEqual(
    r.principles.map((p) => p.name),
    ['honesty-strict'],
  );
  assert.equal(evaluate(text, {}, [{ ...strict[0]!, enabled: false }]).verdict, 'allow');
  const light: PrincipleRule[] = [{ ...good, weight: 0.4 }];
  assert.equal(
    evaluate(text, {}, light).verdict,
    'allow',
    'a low weight keeps the score under the flag threshold',
  );
});
