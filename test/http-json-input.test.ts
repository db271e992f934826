/**
 * Malformed and hostile JSON bodies against the whole service over real HTTP: oversized (with a
 * Content-Length and chunked), nested 100 000 levels deep in every field of every route, invalid
 * UTF-8, lone surrogates, truncated texts, a byte order mark, duplicate names, numbers past a double,
 * and `__proto__` names. Never a 5xx, never a crash, never a polluted prototype; what is accepted is
 * stored verbatim. The rules are those of src/http/body.ts (I-JSON, RFC 7493).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import { MAX_JSON_DEPTH, readJson } from '../src/http/body.js';
import type { Route } from '../src/http/route.js';
import { allRoutes } from '../src/http/routes/index.js';
import { JameyError } from '../src/runtime/errors.js';
import {
  type Answer,
  assertCodedError,
  fillPath,
  fuzzParameters,
  lenientSecurity,
  namesField,
  PARAM_SAMPLES,
  type Schema,
  send,
  validBody,
} from './fixtures/http-fuzz.js';
import { type Service, startService } from './fixtures/service.js';

const LIMIT = 1024 * 1024;

let service: Service;
let pool: Pool;
let admin: Record<string, string>;

before(async () => {
  service = await startService({ http: { maxBodyBytes: LIMIT } }, { security: lenientSecurity });
  pool = new Pool(service.base, { connections: 2 });
  admin = { authorization: `Bearer ${service.adminKey}`, 'content-type': 'application/json' };
});
after(async () => {
  await pool.close();
  await service.close();
});

const bodyRoutes = allRoutes.filter((r) => r.body !== undefined);
const pathOf = (r: Route): string => fillPath(r.path, (n) => PARAM_SAMPLES[n] ?? 'sample-0001');
const post = (body: string | Buffer, path = '/v1/memories'): Promise<Answer> =>
  send(pool, { method: 'POST', path, headers: admin, body });

/** A 400 naming `field` (a JSON Pointer, '' for the whole body); returns the problems. */
function assertRefused(answer: Answer, field: string, what: string): unknown {
  assert.equal(answer.status, 400, `${what}: ${answer.text.slice(0, 300)}`);
  const e = assertCodedError(answer, what);
  assert.equal(e.code, 'JAMEY_ERR_VALIDATION', what);
  const named =
    field === ''
      ? (e.details as Array<{ path: string }>).some((d) => d.path === '' || d.path === '/')
      : namesField(e.details, field.slice(1));
  assert.ok(named, `${what}: the problems name "${field}": ${JSON.stringify(e.details)}`);
  return e.details;
}

/** Stores a memory from a raw body and reads it back by id. */
async function storeAndRead(body: string | Buffer): Promise<Record<string, unknown>> {
  const created = await post(body);
  assert.equal(created.status, 201, created.text.slice(0, 300));
  const id = (JSON.parse(created.text) as { id: string }).id;
  const read = await send(pool, { method: 'GET', path: `/v1/memories/${id}`, headers: admin });
  assert.equal(read.status, 200, read.text);
  return JSON.parse(read.text) as Record<string, unknown>;
}

async function assertReady(): Promise<void> {
  const ready = await send(pool, { method: 'GET', path: '/readyz' });
  assert.equal(ready.status, 200, `ready: ${ready.text.slice(0, 300)}`);
}

describe('body size', () => {
  /** A JSON object of exactly `size` bytes. */
  const jsonOfSize = (size: number): string => `{"x":"${'a'.repeat(size - 8)}"}`;

  test('a body over the limit is a 413 on every route, announced by Content-Length or not', async () => {
    for (const route of bodyRoutes) {
      const path = pathOf(route);
      const declared = await send(pool, {
        method: route.method,
        path,
        headers: admin,
        body: jsonOfSize(LIMIT + 1),
      });
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let sent = 0; sent <= LIMIT; sent += 64 * 1024) yield Buffer.alloc(64 * 1024, 0x20);
      }
      // A body without a length goes out chunked.
      const chunked = await pool.request({
        method: route.method as 'POST',
        path,
        headers: admin,
        body: Readable.from(chunks()),
      });
      const chunkedAnswer: Answer = {
        status: chunked.statusCode,
        headers: chunked.headers,
        text: await chunked.body.text(),
      };
      for (const [how, answer] of [
        ['Content-Length', declared],
        ['chunked', chunkedAnswer],
      ] as const) {
        const what = `${route.method} ${path} (${how})`;
        assert.equal(answer.status, 413, `${what}: ${answer.text.slice(0, 200)}`);
        assert.equal(assertCodedError(answer, what).code, 'JAMEY_ERR_PAYLOAD_TOO_LARGE');
      }
    }
    await assertReady();
  });

  test('a body of exactly the limit is read (and refused for what it says, not its size)', async () => {
    const answer = await post(jsonOfSize(LIMIT));
    assertRefused(answer, '/x', 'a 1 MiB body');
  });

  test('after a refused chunked body the connection still serves the next request', {
    timeout: 60_000,
  }, async () => {
    const port = Number(new URL(service.base).port);
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      received += d;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v1/memories HTTP/1.1\r\nHost: jamey\r\nAuthorization: ${admin['authorization']}\r\n` +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = `10000\r\n${' '.repeat(0x10000)}\r\n`;
    for (let i = 0; i < 20; i++) socket.write(chunk);
    socket.write('0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: jamey\r\nConnection: close\r\n\r\n');
    await closed;
    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['413', '200'], received.slice(0, 500));
  });

  test('a client that goes away in the middle of its body is not a server error', {
    timeout: 60_000,
  }, async () => {
    // A bare server around readJson, so the test can wait for the reader's own outcome.
    let outcome: Promise<unknown> | undefined;
    let arrived!: () => void;
    const request = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const server = createServer((req: IncomingMessage) => {
      outcome = readJson(req, LIMIT).then(
        () => 'read',
        (err: unknown) => err,
      );
      arrived();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
      );
      await request;
      socket.destroy();
      const err = await outcome;
      assert.ok(err instanceof JameyError, String(err));
      assert.equal(err.code, 'JAMEY_ERR_ABORTED');
      assert.ok(err.status < 500);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('nesting', () => {
  const DEEP = 100_000;
  const deepArray = `${'['.repeat(DEEP)}1${']'.repeat(DEEP)}`;
  const deepObject = `${'{"a":'.repeat(DEEP)}1${'}'.repeat(DEEP)}`;

  test('a body nested 100 000 levels deep is a 400, as arrays or as objects', async () => {
    for (const route of bodyRoutes) {
      for (const body of [deepArray, deepObject]) {
        const answer = await send(pool, { method: route.method, path: pathOf(route), headers: admin, body });
        assert.equal(answer.status, 400, `${route.method} ${route.path}: ${answer.text.slice(0, 200)}`);
        assert.equal(assertCodedError(answer, route.path).code, 'JAMEY_ERR_VALIDATION');
      }
    }
    await assertReady();
  });

  test('any field of any route nested 100 000 levels deep is a 400 naming the field', async () => {
    for (const route of bodyRoutes) {
      const schema = route.body as Schema;
      const [base] = fc.sample(validBody(schema), { numRuns: 1, seed: 42 });
      for (const field of Object.keys(schema.properties ?? {})) {
        for (const deep of [deepArray, deepObject]) {
          const body = JSON.stringify({ ...base, [field]: 0 }).replace(
            `"${field}":0`,
            () => `"${field}":${deep}`,
          );
          const answer = await send(pool, {
            method: route.method,
            path: pathOf(route),
            headers: admin,
            body,
          });
          assertRefused(answer, `/${field}`, `${route.method} ${route.path} with a deep "${field}"`);
        }
      }
    }
    await assertReady();
  });

  test(`${MAX_JSON_DEPTH} levels are accepted, one more is refused`, async () => {
    const nest = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    // The body is level 1 and metadata level 2.
    const ok = await storeAndRead(
      `{"layer":"episodic","content":"deep but fine","metadata":${nest(MAX_JSON_DEPTH - 1)}}`,
    );
    assert.equal(JSON.stringify(ok['metadata']), nest(MAX_JSON_DEPTH - 1));
    const answer = await post(
      `{"layer":"episodic","content":"one too deep","metadata":${nest(MAX_JSON_DEPTH)}}`,
    );
    assertRefused(answer, '/metadata', 'one level too deep');
  });

  test('deep metadata, again and again, neither crashes the memory actor nor makes the service unready', async () => {
    // Regression: metadata nested 100 000 deep reached the memory actor, whose JSON.stringify
    // overflowed the stack (500 JAMEY_ERR_ACTOR_CRASHED, a restart each time, then escalation).
    for (let i = 0; i < 8; i++) {
      const answer = await post(`{"layer":"episodic","content":"deep ${i}","metadata":{"a":${deepArray}}}`);
      assertRefused(answer, '/metadata', `deep metadata #${i}`);
    }
    await assertReady();
    await storeAndRead('{"layer":"episodic","content":"the memory actor still stores"}');
  });
});

describe('encoding', () => {
  const around = (bytes: number[]): Buffer =>
    Buffer.concat([
      Buffer.from('{"layer":"episodic","content":"bad '),
      Buffer.from(bytes),
      Buffer.from(' bytes"}'),
    ]);

  test('invalid UTF-8 anywhere in a body is a 400, never replaced by U+FFFD', async () => {
    const cases: Array<[string, number[]]> = [
      ['a 2-byte lead and a non-continuation', [0xc3, 0x28]],
      ['a lone 0xFF', [0xff]],
      ['a lone continuation byte', [0x80]],
      ['an overlong "/" (2 bytes)', [0xc0, 0xaf]],
      ['an overlong "/" (3 bytes)', [0xe0, 0x80, 0xaf]],
      ['an overlong NUL', [0xc0, 0x80]],
      ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
      ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['a truncated 3-byte sequence', [0xe2, 0x82]],
    ];
    for (const [what, bytes] of cases) {
      const answer = await post(around(bytes));
      assertRefused(answer, '', what);
      assert.match(answer.text, /UTF-8/, what);
    }
    // In a field name, and in a route that stores nothing.
    assertRefused(await post(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), '', 'in a name');
    assertRefused(await post(around([0xff]), '/v1/conscience/evaluate'), '', 'on evaluate');
  });

  test('valid UTF-8 of every width is stored and read back verbatim', async () => {
    const content = 'ascii é ß 中文 😀 𝄞 \u200d\u2028\u2029 "quoted" \\ \u0000 end';
    const read = await storeAndRead(JSON.stringify({ layer: 'episodic', content }));
    assert.equal(read['content'], content);
  });

  test('an escaped lone surrogate is a 400 naming the field; an escaped pair is one character', async () => {
    const cases: Array<[string, string]> = [
      ['{"layer":"episodic","content":"\\ud800"}', '/content'],
      ['{"layer":"episodic","content":"x\\udc00y"}', '/content'],
      ['{"layer":"episodic","content":"\\udc00\\ud800"}', '/content'],
      ['{"layer":"episodic","content":"ok","metadata":{"list":["fine","\\uDBFF"]}}', '/metadata/list/1'],
      ['{"layer":"episodic","content":"ok","metadata":{"\\ud800":1}}', '/metadata/\ud800'],
    ];
    for (const [body, field] of cases) {
      const details = assertRefused(await post(body), field, body) as Array<{ path: string }>;
      assert.ok(
        details.some((d) => d.path === field),
        `${body}: names ${field}: ${JSON.stringify(details)}`,
      );
    }
    const paired = await storeAndRead(
      '{"layer":"episodic","content":"pair \\ud83d\\ude00 and \\\\ud800 as text"}',
    );
    assert.equal(paired['content'], 'pair 😀 and \\ud800 as text');
  });

  test('a leading byte order mark is ignored; anywhere else it is not JSON', async () => {
    const read = await storeAndRead(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"layer":"episodic","content":"after a BOM"}'),
      ]),
    );
    assert.equal(read['content'], 'after a BOM');
    assertRefused(await post(Buffer.from([0xef, 0xbb, 0xbf])), '', 'only a BOM');
    assertRefused(await post('{"layer":"episodic",\ufeff"content":"x"}'), '', 'a BOM inside');
    // UTF-16 is not UTF-8.
    assertRefused(
      await post(Buffer.from('\ufeff{"layer":"episodic","content":"x"}', 'utf16le')),
      '',
      'UTF-16',
    );
  });
});

describe('syntax', () => {
  test('every truncation of a valid body is a 400', async () => {
    const body = JSON.stringify({
      layer: 'episodic',
      content: 'cut short',
      entityId: 'ann',
      metadata: { n: [1, 2.5, true, null] },
    });
    for (let end = 0; end < body.length; end++) {
      assertRefused(await post(body.slice(0, end)), '', `truncated at ${end}: ${body.slice(0, end)}`);
    }
  });

  test('random texts that are not JSON are a 400 with the whole body named', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
        async (text) => {
          assertRefused(await post(text), '', JSON.stringify(text));
        },
      ),
      fuzzParameters(40),
    );
  });

  test('of duplicate names the last one wins, for validation and for what is stored alike', async () => {
    const read = await storeAndRead('{"layer":"episodic","content":"first","content":"second"}');
    assert.equal(read['content'], 'second');
    const relayered = await storeAndRead(
      '{"layer":"no-such-layer","content":"dup layer","layer":"episodic"}',
    );
    assert.equal(relayered['layer'], 'episodic');
    assertRefused(
      await post('{"layer":"episodic","content":"ok","layer":"no-such-layer"}'),
      '/layer',
      'last one invalid',
    );
  });

  test('numbers past a double are a 400 naming the field; underflow and long integers are doubles', async () => {
    assertRefused(await post('{"layer":"episodic","content":"x","salience":1e400}'), '/salience', '1e400');
    assertRefused(
      await post('{"layer":"episodic","content":"x","metadata":{"n":-1e400}}'),
      '/metadata/n',
      '-1e400',
    );
    assertRefused(
      await post(`{"layer":"episodic","content":"x","metadata":{"n":1${'0'.repeat(400)}}}`),
      '/metadata/n',
      '10^400',
    );
    assertRefused(await post('{"tpm":[[1e999]],"state":[0]}', '/v1/phi'), '/tpm/0/0', 'in a TPM');
    const read = await storeAndRead(
      '{"layer":"episodic","content":"doubles","metadata":{"tiny":1e-400,"big":12345678901234567890}}',
    );
    assert.deepEqual(read['metadata'], { tiny: 0, big: 12345678901234567000 });
  });
});

describe('prototype pollution', () => {
  const hostile = { ['__proto__']: { polluted: 'yes' }, constructor: { prototype: { polluted: 'yes' } } };

  function assertClean(): void {
    const probe: Record<string, unknown> = {};
    assert.equal(probe['polluted'], undefined, 'Object.prototype is clean');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
    assert.equal((Array.prototype as unknown as Record<string, unknown>)['polluted'], undefined);
    assert.equal((Function.prototype as unknown as Record<string, unknown>)['polluted'], undefined);
  }

  test('__proto__ and constructor names, at the top and in every free-form object, pollute nothing', async () => {
    for (const route of bodyRoutes) {
      const schema = route.body as Schema;
      const [base] = fc.sample(validBody(schema), { numRuns: 1, seed: 7 });
      const bodies: Record<string, unknown>[] = [{ ...base, ...hostile }];
      for (const [field, s] of Object.entries(schema.properties ?? {})) {
        if (s.type === 'object' || s.anyOf?.some((a) => a.type === 'object'))
          bodies.push({ ...base, [field]: hostile });
      }
      for (const body of bodies) {
        const answer = await send(pool, {
          method: route.method,
          path: pathOf(route),
          headers: admin,
          body: JSON.stringify(body),
        });
        assert.ok(answer.status < 500, `${route.method} ${route.path}: ${answer.text.slice(0, 300)}`);
        if (answer.status >= 400) assertCodedError(answer, route.path);
      }
    }
    assertClean();
    await assertReady();
  });

  test('a __proto__ name in stored metadata reads back as an ordinary field', async () => {
    const read = await storeAndRead(
      JSON.stringify({ layer: 'episodic', content: 'proto metadata', metadata: hostile }),
    );
    const metadata = read['metadata'] as Record<string, unknown>;
    assert.ok(Object.hasOwn(metadata, '__proto__'), 'kept as an own field');
    assert.deepEqual(Object.getPrototypeOf(metadata), Object.prototype);
    assert.deepEqual(JSON.parse(JSON.stringify(metadata)), JSON.parse(JSON.stringify(hostile)));
    assertClean();
  });
});
