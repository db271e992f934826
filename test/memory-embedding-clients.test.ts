import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  OllamaEmbedder,
  OpenAIEmbedder,
  type UpstreamErrorDetails,
} from '../src/actors/memory/embedding/index.js';
import { isJameyError, type JameyError } from '../src/runtime/errors.js';

/** What the fake server does for the next requests: answer normally, fail, hang, or send junk. */
type Mode = 'ok' | 'status-503' | 'hang' | 'bad-json' | 'wrong-dims';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: { model?: string; input?: string[] };
}

let server: Server;
let base: string;
let mode: Mode = 'ok';
const seen: Seen[] = [];
const DIMS = 3;

/** A deterministic fake vector for a text: not normalised, so the client's normalisation shows. */
function fakeVector(text: string, dims = DIMS): number[] {
  return Array.from({ length: dims }, (_, i) => text.length + i);
}

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as Seen['body'];
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const input = body.input ?? [];
      if (mode === 'hang') return; // never answers; the client's deadline must fire
      if (mode === 'status-503') return reply(res, 503, { error: { message: 'model overloaded' } });
      if (mode === 'bad-json') return reply(res, 200, '{"data": [');
      const dims = mode === 'wrong-dims' ? DIMS + 1 : DIMS;
      if (req.method === 'POST' && req.url === '/v1/embeddings') {
        // Reversed on purpose: clients must place rows by `index`, not by position.
        const data = input.map((t, index) => ({
          object: 'embedding',
          index,
          embedding: fakeVector(t, dims),
        }));
        return reply(res, 200, { object: 'list', model: body.model, data: data.reverse() });
      }
      if (req.method === 'POST' && req.url === '/api/embed') {
        return reply(res, 200, { model: body.model, embeddings: input.map((t) => fakeVector(t, dims)) });
      }
      reply(res, 404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function expectUpstream(reason: UpstreamErrorDetails['reason'], status?: number) {
  return (err: unknown) => {
    assert.ok(
      isJameyError(err, reason === 'timeout' ? 'JAMEY_ERR_UPSTREAM_TIMEOUT' : 'JAMEY_ERR_UPSTREAM'),
      String(err),
    );
    const details = (err as JameyError).details as UpstreamErrorDetails;
    assert.equal(details.reason, reason);
    if (status !== undefined) assert.equal(details.status, status);
    return true;
  };
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => Math.fround(x / n));
}

const clients = [
  {
    name: 'OpenAI-compatible',
    path: '/v1/embeddings',
    make: (opts: { timeoutMs?: number; batchSize?: number; dimensions?: number } = {}) =>
      new OpenAIEmbedder({
        baseUrl: base,
        model: 'text-embed-test',
        dimensions: DIMS,
        apiKey: 'sk-test',
        ...opts,
      }),
  },
  {
    name: 'Ollama',
    path: '/api/embed',
    make: (opts: { timeoutMs?: number; batchSize?: number; dimensions?: number } = {}) =>
      new OllamaEmbedder({ baseUrl: base, model: 'nomic-embed-text', dimensions: DIMS, ...opts }),
  },
];

for (const c of clients) {
  test(`${c.name}: embeds in batches, in input order, normalised; empty texts skip the wire`, async () => {
    mode = 'ok';
    seen.length = 0;
    const client = c.make({ batchSize: 2 });
    try {
      const texts = ['a', 'bbb', '', 'cc', 'dddd', 'eeeee'];
      const out = await client.embed(texts);
      assert.equal(out.length, texts.length);
      texts.forEach((t, i) => {
        if (t === '') assert.deepEqual([...out[i]!], [0, 0, 0]);
        else assert.deepEqual([...out[i]!], unit(fakeVector(t)));
      });
      assert.equal(seen.length, 3, 'five non-empty texts in batches of two');
      assert.ok(seen.every((s) => s.path === c.path));
      assert.deepEqual(seen[0]!.body.input, ['a', 'bbb']);
      assert.equal(seen[0]!.body.model, client.model);
      if (c.name === 'OpenAI-compatible') assert.equal(seen[0]!.headers.authorization, 'Bearer sk-test');
      assert.deepEqual(await client.embed([]), []);
      assert.equal(seen.length, 3);
    } finally {
      await client.close();
    }
  });

  test(`${c.name}: an upstream error status is JAMEY_ERR_UPSTREAM with the status in details`, async () => {
    mode = 'status-503';
    const client = c.make();
    try {
      await assert.rejects(client.embed(['hello']), (err) => {
        expectUpstream('status', 503)(err);
        assert.match(((err as JameyError).details as UpstreamErrorDetails).body ?? '', /overloaded/);
        return true;
      });
      mode = 'bad-json';
      await assert.rejects(client.embed(['hello']), expectUpstream('bad-response', 200));
      mode = 'wrong-dims';
      await assert.rejects(client.embed(['hello']), expectUpstream('bad-response', 200));
    } finally {
      await client.close();
    }
  });

  test(`${c.name}: a hanging upstream times out; a caller abort is JAMEY_ERR_ABORTED`, async () => {
    mode = 'hang';
    const client = c.make({ timeoutMs: 150 });
    try {
      const start = performance.now();
      await assert.rejects(client.embed(['slow']), expectUpstream('timeout'));
      const took = performance.now() - start;
      assert.ok(took >= 100 && took < 2000, `timed out after ${took.toFixed(0)} ms`);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('user went away')), 30);
      await assert.rejects(client.embed(['slow'], controller.signal), (err) =>
        isJameyError(err, 'JAMEY_ERR_ABORTED'),
      );
      await assert.rejects(client.embed(['x'], AbortSignal.abort()), (err) =>
        isJameyError(err, 'JAMEY_ERR_ABORTED'),
      );
    } finally {
      await client.close();
    }
  });

  test(`${c.name}: bad input and bad options have their codes`, async () => {
    mode = 'ok';
    const client = c.make();
    try {
      await assert.rejects(client.embed([1 as unknown as string]), (err) =>
        isJameyError(err, 'JAMEY_ERR_VALIDATION'),
      );
      await assert.rejects(client.embed('x' as unknown as string[]), (err) =>
        isJameyError(err, 'JAMEY_ERR_VALIDATION'),
      );
    } finally {
      await client.close();
    }
    assert.throws(
      () => c.make({ dimensions: 0 }),
      (err) => isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'),
    );
  });
}

test('an unreachable service is JAMEY_ERR_UPSTREAM with reason "network"', async () => {
  // Bind a port, then free it, so nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const client = new OllamaEmbedder({ baseUrl: `http://127.0.0.1:${port}`, model: 'm', dimensions: 3 });
  try {
    await assert.rejects(client.embed(['x']), expectUpstream('network'));
  } finally {
    await client.close();
  }
  assert.throws(
    () => new OpenAIEmbedder({ baseUrl: 'not a url', model: 'm', dimensions: 3 }),
    (err) => isJameyError(err, 'JAMEY_ERR_INVALID_OPTION'),
  );
});

test('OpenAI-compatible: a baseUrl ending in /v1 is not doubled', async () => {
  mode = 'ok';
  seen.length = 0;
  const client = new OpenAIEmbedder({ baseUrl: `${base}/v1/`, model: 'm', dimensions: DIMS });
  try {
    await client.embed(['abc']);
    assert.equal(seen[0]!.path, '/v1/embeddings');
    assert.equal(client.id, 'openai:m');
  } finally {
    await client.close();
  }
});
