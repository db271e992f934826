/**
 * POST /v1/predict over real HTTP and SQLite: repetition lowers surprise, `bits` is the arithmetic
 * code length under the snapshot the route reports, validation names the fields, `learn: false`
 * leaves the models as they were, and the learned models survive a restart on the same data folder.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { encodeWithBits, TextModel } from '../src/actors/predictive/index.js';
import { createJamey, type Jamey, type JameyOptions } from '../src/jamey.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-predict-');
after(() => tmp.cleanup());

const unlimited = { rps: 1e6, burst: 1e6 };
const options: JameyOptions = {
  security: { rateLimit: { defaultLimit: unlimited }, preAuthIpLimit: unlimited },
  llm: { env: {} },
  // Small models keep the test quick; a snapshot after every learned message makes learning visible at once.
  predictive: { globalModelBytes: 1 << 20, snapshotEveryMessages: 1, saveIntervalMs: 0 },
};

interface Predicted {
  text: { bits: number; bpc: number; chars: number; snapshot: number; entityBpc: number | null };
  content: { distance: number } | null;
  timing: { intervalMs: number; bits: number } | null;
  surprise: { score: number; energy: number; levels: Record<string, number> };
}

async function start(): Promise<{
  jamey: Jamey;
  post(body: unknown): Promise<Response>;
  predict(body: unknown): Promise<Predicted>;
  close(): Promise<void>;
}> {
  const jamey = createJamey({ dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } }, options);
  await jamey.start();
  const server = jamey.server();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key = (await jamey.keys.createKey({ name: `predict-${Date.now()}`, scopes: ['chat'] })).token;
  const post = (body: unknown): Promise<Response> =>
    fetch(`${base}/v1/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return {
    jamey,
    post,
    predict: async (body) => {
      const res = await post(body);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Predicted;
    },
    close: async () => {
      await server.shutdown();
      await jamey.close();
    },
  };
}

const MESSAGE = 'The quarterly report is due on Friday; please send the figures to Dana before noon.';

describe('POST /v1/predict', () => {
  let restartFrom: Predicted | undefined;

  it('a repeated message becomes less surprising; bits is its code length under the reported snapshot', async () => {
    const s = await start();
    try {
      const first = await s.predict({ text: MESSAGE, entity: 'dana' });
      assert.equal(first.text.chars, Buffer.byteLength(MESSAGE));
      assert.ok(first.text.bpc > 4, `an untrained model: ${first.text.bpc} bpc`);
      assert.equal(first.content, null, 'no content prediction before the first message');
      assert.equal(first.timing, null, 'no interval before the first message');
      let last = first;
      for (let i = 0; i < 6; i++) last = await s.predict({ text: MESSAGE, entity: 'dana' });
      assert.ok(last.text.bits < first.text.bits / 4, `${first.text.bits} bits, then ${last.text.bits}`);
      assert.ok(last.text.entityBpc !== null && last.text.entityBpc < 2, `entity bpc ${last.text.entityBpc}`);
      assert.ok(last.content !== null && last.content.distance < 0.05, 'the same embedding is predicted');
      assert.ok(last.timing !== null && last.timing.bits >= 0);
      assert.ok(last.surprise.levels.text !== undefined, 'the text level takes part after its warm-up');

      // Score without learning, then code the text with the very snapshot the answer names.
      const probe = await s.predict({ text: `${MESSAGE} Thanks!`, learn: false });
      const snap = await s.jamey.predictive.snapshot();
      assert.equal(snap.version, probe.text.snapshot, 'no learning since the probe');
      const model = new TextModel(snap.buffer, { readOnly: true });
      const { code, bits } = encodeWithBits(new TextEncoder().encode(`${MESSAGE} Thanks!`), model, {
        learn: false,
      });
      assert.equal(bits, probe.text.bits, 'the model drives the coder with the probabilities it scored');
      const codeBits = code.length * 8;
      assert.ok(
        codeBits >= probe.text.bits - 32 && codeBits <= probe.text.bits + 6 * 8,
        `code ${codeBits} bits, reported ${probe.text.bits}`,
      );
      restartFrom = last;
    } finally {
      await s.close();
    }
  });

  it('learn: false changes no later score', async () => {
    const s = await start();
    try {
      const before = await s.jamey.predictive.stats();
      const text = 'A sentence the models have never been taught, about zebras in Zanzibar.';
      const a = await s.predict({ text, entity: 'zed', learn: false });
      const b = await s.predict({ text, entity: 'zed', learn: false });
      assert.deepEqual(b.text, a.text);
      assert.equal(b.timing, null, 'no interval was learned');
      const after = await s.jamey.predictive.stats();
      assert.equal(after.learnedMessages, before.learnedMessages);
      const learned = await s.predict({ text, entity: 'zed' });
      assert.deepEqual(learned.text.bits, a.text.bits, 'scored before it was learned');
      const c = await s.predict({ text, entity: 'zed', learn: false });
      assert.ok(c.text.bits < a.text.bits, 'learning does change it');
    } finally {
      await s.close();
    }
  });

  it('invalid bodies are 400 and name each field', async () => {
    const s = await start();
    try {
      const cases: Array<[unknown, string[]]> = [
        [{}, ['/text']],
        [{ text: '' }, ['/text']],
        [{ text: 'x'.repeat(32_769) }, ['/text']],
        [{ text: 'hi', entity: 'e'.repeat(257) }, ['/entity']],
        [{ text: 'hi', learn: 'yes', extra: 1 }, ['/learn', '/extra']],
      ];
      for (const [body, paths] of cases) {
        const res = await s.post(body);
        assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
        const err = ((await res.json()) as { error: { code: string; details: Array<{ path: string }> } })
          .error;
        assert.equal(err.code, 'JAMEY_ERR_VALIDATION');
        assert.deepEqual(err.details.map((d) => d.path).sort(), [...paths].sort());
      }
      const stats = await s.jamey.predictive.stats();
      assert.equal(stats.scored, 0, 'nothing invalid reached the models');
    } finally {
      await s.close();
    }
  });

  it('the learned models survive a restart', async () => {
    assert.ok(restartFrom !== undefined, 'runs after the first test');
    const s = await start();
    try {
      // A fresh model needs more than 4 bits per char for this message (the first test checks it).
      const again = await s.predict({ text: MESSAGE, entity: 'dana', learn: false });
      assert.ok(again.text.bpc < 1, `${again.text.bpc} bpc after the restart`);
      assert.ok(
        again.text.snapshot === 0 && restartFrom.text.snapshot > 0,
        'a new process, a new snapshot series',
      );
      assert.ok(again.text.entityBpc !== null && again.text.entityBpc < 2, 'the entity model came back');
      assert.ok(again.content !== null, 'the content model came back');
      assert.ok(again.timing !== null, 'the timing model came back');
      const row = s.jamey.store.reader
        .statement("SELECT messages FROM predictive_models WHERE scope = 'entity:dana'")
        .get() as { messages: number };
      assert.ok(row.messages >= 7);
    } finally {
      await s.close();
    }
  });
});
