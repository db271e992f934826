import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createJamey } from '../src/jamey.js';
import { tempDir } from './fixtures/store.js';

const tmp = tempDir('jamey-service-');
after(() => tmp.cleanup());

test('the service runtime keeps memories in its data folder across a restart', async () => {
  const options = { dataDir: tmp.dir, logLevel: 'silent' as const, pool: { maxThreads: 1 } };
  const first = createJamey(options);
  await first.start();
  assert.ok(existsSync(join(tmp.dir, 'jamey.db')));
  const stored = await first.memory.storeWithProvider(
    'semantic',
    'The router in the hallway is a Fritzbox 7590.',
    'me',
    'llama3',
  );
  await first.memory.store('episodic', 'We talked about the home network.', { entityId: 'me' });
  const report = await first.store.maintain();
  assert.equal(report.optimized, true);
  const metrics = await first.runtime.metrics.render();
  assert.match(metrics, /^jamey_store_maintenance_runs_total 1$/m, 'maintenance is visible in the metrics');
  assert.match(metrics, /jamey_memory_items\{layer="semantic"\} 1/);
  assert.match(metrics, /jamey_store_batch_size_count [1-9]/);
  assert.match(metrics, /jamey_store_database_bytes [1-9]/);
  assert.deepEqual(
    first.runtime.health().actors.map((a) => [a.name, a.status]),
    [
      ['store', 'running'],
      ['monitor', 'running'],
      ['security', 'running'],
      ['cache', 'running'],
      ['memory', 'running'],
      ['memory-consolidation', 'running'],
      ['router', 'running'],
      ['context', 'running'],
      ['conscience', 'running'],
      ['integrated-info', 'running'],
      ['predictive', 'running'],
      ['workspace', 'running'],
    ],
  );
  await first.close();

  const second = createJamey(options);
  await second.start();
  const [hit] = await second.memory.recall({ query: 'which wifi box do we have', entityId: 'me' });
  assert.equal(hit?.id, stored.id, 'recalled from the reloaded index after a restart');
  assert.equal((await second.memory.get(stored.id)).preferredModel, 'llama3');
  await second.close();
});
