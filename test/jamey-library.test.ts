/** The whole runtime as a library: the subsystems called directly, without HTTP. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createJamey, createRuntime, type Jamey } from '../src/index.js';
import { BASIC_NETWORK, BASIC_PHI } from './fixtures/iit/basic-network.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-library-');
let jamey: Jamey;

before(async () => {
  assert.equal(createRuntime, createJamey, "the package's createRuntime is the whole runtime");
  jamey = createRuntime(
    { dataDir: tmp.dir, logLevel: 'silent', pool: { maxThreads: 1 } },
    { llm: { env: {} }, predictive: { snapshotEveryMessages: 1 } },
  );
  await jamey.start();
});
after(async () => {
  await jamey.close();
  tmp.cleanup();
});

test('phi, predict, evaluate, memory and chat, called directly', async () => {
  // PyPhi's basic network (Oizumi et al. 2014, fig. 1): Φ = 2.3125.
  const phi = await jamey.phi(BASIC_NETWORK);
  assert.equal(phi.phi, BASIC_PHI);
  await assert.rejects(jamey.phi({ state: [1] }), { code: 'JAMEY_ERR_VALIDATION' });

  const first = await jamey.predictive.score({ text: 'the library is a quiet place to read' });
  const again = await jamey.predictive.score({ text: 'the library is a quiet place to read' });
  assert.ok(again.text.bits < first.text.bits, 'a repeated text is less surprising');

  const verdict = await jamey.conscience.evaluate('how do I kill the process on port 8080?');
  assert.equal(verdict.verdict, 'allow');

  await jamey.memory.store('semantic', 'Robin waters the ferns on Sundays.', { entityId: 'robin' });
  const out = await jamey.chat.complete(
    { model: 'jamey-local', messages: [{ role: 'user', content: 'When are the plants watered?' }] },
    { keyId: null, tenant: 'library', entityId: 'robin', conversationId: null },
  );
  const answer = JSON.parse(out.json) as { choices: Array<{ message: { content: string } }> };
  assert.match(answer.choices[0]?.message.content ?? '', /ferns on Sundays/);
});

test('answered questions are observed in windows: every one scored and posted, in fewer pool tasks', async () => {
  await jamey.chat.settled(); // what earlier tests asked
  const before1 = await jamey.predictive.stats();
  const posted0 = (await jamey.workspace.state()).counters.posted;
  const questions = Array.from({ length: 12 }, (_, i) => `What did the gardener plant in bed number ${i}?`);
  await Promise.all(
    questions.map((q) =>
      jamey.chat.complete(
        { model: 'jamey-local', messages: [{ role: 'user', content: q }] },
        { keyId: null, tenant: 'library', entityId: 'robin', conversationId: null },
      ),
    ),
  );
  await jamey.chat.settled();
  const after1 = await jamey.predictive.stats();
  assert.equal(after1.scored - before1.scored, questions.length, 'every question was scored');
  const tasks = after1.poolTasks - before1.poolTasks;
  assert.ok(tasks >= 1 && tasks < questions.length, `${questions.length} questions in ${tasks} pool tasks`);
  // Each was posted to the workspace (low-priority tells: wait for them to be handled).
  let posted = 0;
  for (let i = 0; i < 100 && posted < questions.length; i++) {
    posted = (await jamey.workspace.state()).counters.posted - posted0;
    if (posted < questions.length) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(posted, questions.length);
});
