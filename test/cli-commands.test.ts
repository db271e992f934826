/**
 * The runtime commands of `jamey` as a user runs them (node dist/src/cli.js on a temp data folder):
 * memory add/search, phi on a network file, predict, the chat REPL (in-process and against a running
 * service) and the usage errors of each.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type CliRun, runCli } from './fixtures/cli.js';
import { BASIC_NETWORK } from './fixtures/iit/basic-network.js';
import { startService } from './fixtures/service.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-cli-commands-');
after(() => tmp.cleanup());

type Run = CliRun;

function run(args: string[], input?: string): Promise<CliRun> {
  return runCli(join(tmp.dir, 'data'), args, input);
}

function assertUsage(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^jamey: [^\n]+\(jamey --help for usage\)\n$/);
  assert.match(r.stderr, pattern);
}

test('jamey memory add stores a memory that jamey memory search then finds', async () => {
  const added = await run([
    'memory',
    'add',
    '--layer',
    'semantic',
    '--entity',
    'ann',
    '--salience',
    '0.9',
    'Ann',
    'keeps',
    'bees',
    'on',
    'her',
    'roof',
  ]);
  assert.equal(added.code, 0, added.stderr);
  const memory = JSON.parse(added.stdout) as {
    id: string;
    content: string;
    layer: string;
    entityId: string;
    salience: number;
  };
  assert.equal(memory.content, 'Ann keeps bees on her roof');
  assert.equal(memory.layer, 'semantic');
  assert.equal(memory.entityId, 'ann');
  assert.equal(memory.salience, 0.9);

  const other = await run(['memory', 'add', '--layer', 'semantic', 'The train to Leeds leaves at nine']);
  assert.equal(other.code, 0, other.stderr);

  const found = await run([
    'memory',
    'search',
    '--entity',
    'ann',
    '--limit',
    '3',
    'bees',
    'on',
    'the',
    'roof',
  ]);
  assert.equal(found.code, 0, found.stderr);
  const hits = JSON.parse(found.stdout) as Array<Record<string, unknown>>;
  assert.ok(hits.length >= 1 && hits.length <= 3);
  assert.deepEqual(Object.keys(hits[0] ?? {}).sort(), ['content', 'entityId', 'id', 'layer', 'score']);
  assert.equal(hits[0]?.id, memory.id);
  assert.equal(typeof hits[0]?.score, 'number');
});

test('jamey memory add and search: wrong usage is one line and status 2', async () => {
  assertUsage(await run(['memory', 'add', 'no layer']), /needs --layer/);
  assertUsage(await run(['memory', 'add', '--layer', 'attic', 'x']), /unknown layer "attic"/);
  assertUsage(await run(['memory', 'add', '--layer', 'semantic']), /needs the text/);
  assertUsage(await run(['memory', 'add', '--layer', 'semantic', '--salience', 'lots', 'x']), /--salience/);
  assertUsage(await run(['memory', 'search']), /needs a query/);
  assertUsage(await run(['memory', 'search', '--limit', '2.5', 'q']), /--limit/);
  assertUsage(await run(['memory', 'search', '--colour', 'red', 'q']), /--colour/);
});

const basic = BASIC_NETWORK;

test('jamey phi computes the basic network from a file as POST /v1/phi does', async () => {
  const file = join(tmp.dir, 'basic.json');
  writeFileSync(file, JSON.stringify(basic));
  const r = await run(['phi', file]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    phi: number;
    concepts: unknown[];
    nodes: number[];
    elapsedMs: number;
  };
  assert.deepEqual(Object.keys(out).sort(), ['concepts', 'cut', 'elapsedMs', 'nodes', 'phi']);
  assert.equal(out.phi, 2.3125);
  assert.equal(out.concepts.length, 4);
  assert.deepEqual(out.nodes, [0, 1, 2]);
  assert.ok(out.elapsedMs >= 0);
});

test('jamey phi: a missing or invalid file is one line and a failure status', async () => {
  const missing = await run(['phi', join(tmp.dir, 'absent.json')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /^jamey: phi: .*absent\.json: ENOENT[^\n]*\n$/);

  const notJson = join(tmp.dir, 'not.json');
  writeFileSync(notJson, '{"tpm": [');
  const broken = await run(['phi', notJson]);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /^jamey: phi: .*not\.json: [^\n]+\n$/);

  const invalid = join(tmp.dir, 'invalid.json');
  writeFileSync(invalid, JSON.stringify({ tpm: basic.tpm, state: [1, 0, 2], colour: 'red' }));
  const bad = await run(['phi', invalid]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /^jamey: phi: [^\n]*colour unknown field[^\n]*JAMEY_ERR_VALIDATION[^\n]*\n$/);

  assertUsage(await run(['phi']), /phi needs a network file/);
  assertUsage(await run(['phi', 'a.json', 'b.json']), /too many arguments/);
});

test('jamey predict: the same text a second time costs fewer bits; stdin works too', async () => {
  const text = 'the lighthouse keeper counts the gulls at dawn';
  const first = await run(['predict', ...text.split(' ')]);
  assert.equal(first.code, 0, first.stderr);
  const a = JSON.parse(first.stdout) as {
    text: { bits: number; chars: number };
    surprise: { score: number };
  };
  assert.equal(a.text.chars, text.length);
  const second = await run(['predict'], `${text}\n`);
  assert.equal(second.code, 0, second.stderr);
  const b = JSON.parse(second.stdout) as { text: { bits: number; chars: number } };
  assert.equal(b.text.chars, text.length, 'stdin without its final newline');
  assert.ok(b.text.bits < a.text.bits, `${b.text.bits} < ${a.text.bits}`);

  // --no-learn scores without learning: the same unseen text twice costs the same.
  const fresh = ['predict', '--no-learn', 'zebras', 'quarrel', 'over', 'xylophones'];
  const c = JSON.parse((await run(fresh)).stdout) as { text: { bits: number } };
  const d = JSON.parse((await run(fresh)).stdout) as { text: { bits: number } };
  assert.equal(d.text.bits, c.text.bits);
});

test('jamey predict: wrong usage is one line and status 2', async () => {
  assertUsage(await run(['predict'], ''), /predict needs a non-empty text/);
  assertUsage(await run(['predict', '--learn', 'x']), /--learn/);
  assertUsage(await run(['predict', '--entity']), /--entity/);
});

test('jamey chat keeps the conversation over piped lines and ends cleanly at EOF', async () => {
  const r = await run(['chat', '--model', 'jamey-local'], 'My cat is called Miso\nWhat is my cat called?\n');
  assert.equal(r.code, 0, r.stderr);
  const answers = r.stdout.split(/(?=I am Jamey)/);
  assert.equal(answers.length, 2, r.stdout);
  assert.match(answers[0] ?? '', /You asked: “My cat is called Miso”/);
  assert.doesNotMatch(answers[0] ?? '', /Earlier you said/);
  assert.match(answers[1] ?? '', /Earlier you said: “My cat is called Miso”/);
  assert.match(answers[1] ?? '', /You asked: “What is my cat called\?”/);
});

test('jamey chat --url --key talks to a running service and keeps the conversation', async () => {
  const svc = await startService();
  try {
    const key = (await svc.jamey.keys.createKey({ name: 'cli', scopes: ['chat'] })).token;
    const r = await run(['chat', '--url', svc.base, '--key', key], 'I was born in Oslo\nWhere was I born?\n');
    assert.equal(r.code, 0, r.stderr);
    const answers = r.stdout.split(/(?=I am Jamey)/);
    assert.equal(answers.length, 2, r.stdout);
    assert.match(answers[1] ?? '', /Earlier you said: “I was born in Oslo”/);

    const refused = await run(['chat', '--url', svc.base, '--key', 'jk_not_a_key'], 'hello\n');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^jamey: chat: 401 [^\n]+\n$/);
  } finally {
    await svc.close();
  }
});

test('jamey chat: wrong usage is one line and status 2', async () => {
  assertUsage(await run(['chat', 'hello']), /chat takes no arguments/);
  assertUsage(await run(['chat', '--url', 'http://127.0.0.1:1']), /--url and --key go together/);
  assertUsage(await run(['chat', '--temperature', '0']), /--temperature/);
});

test('jamey bench: wrong usage is one line and status 2 (no benchmark runs)', async () => {
  assertUsage(await run(['bench', '--bogus']), /--bogus/);
  assertUsage(await run(['bench', 'actor', 'ask']), /one comma-separated list of suites/);
});

test('jamey --help lists the new commands', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['memory add', 'memory search', 'phi FILE', 'predict', 'chat', 'bench'])
    assert.ok(r.stdout.includes(`jamey ${c}`), c);
});

test('every command has its help: `jamey <command> --help` prints its forms and exits 0', async () => {
  for (const command of [
    'serve',
    'keys',
    'memory',
    'backup',
    'restore',
    'maintain',
    'phi',
    'predict',
    'chat',
    'bench',
    'config',
  ]) {
    const r = await run([command, '--help']);
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^usage:\\n {2}jamey ${command}\\b`), command);
  }
});
