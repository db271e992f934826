/**
 * A fake OpenAI-compatible service in its own process (it answers at once, so that what a bench
 * measures in front of it is the proxy, not the model). Prints its origin on stdout, then serves
 * until it is killed.
 */
import { startFakeOpenAI } from '../../test/fixtures/upstreams.js';

const upstream = await startFakeOpenAI();
process.stdout.write(`${upstream.url}\n`);
process.on('SIGTERM', () => {
  void upstream.close().then(() => process.exit(0));
});
