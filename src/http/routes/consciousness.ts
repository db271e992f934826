/**
 * The state of the "consciousness" subsystems. So far: the live Φ of the runtime (integrated
 * information over the activity of its supervised actors; docs/phi.md). The global workspace,
 * predictive processing and the conscience engine add their parts here as they land.
 */
import { INTEGRATED_INFO, type PhiSnapshot } from '../../actors/integrated-info/actor.js';
import { defineRoutes } from '../route.js';

export default defineRoutes([
  {
    method: 'GET',
    path: '/v1/consciousness',
    scope: 'chat',
    handler: async ({ runtime }) => {
      let phi: PhiSnapshot | null = null;
      if (runtime.system.host(INTEGRATED_INFO) !== undefined) {
        phi = (await runtime
          .actor(INTEGRATED_INFO)
          .ask({ type: 'snapshot' }, { deadlineMs: 2000 })) as PhiSnapshot | null;
      }
      return { phi };
    },
  },
]);
