/** Liveness and readiness: /healthz answers while the process can; /readyz only when it can serve. */

import { sendJson } from '../respond.js';
import { defineRoutes } from '../route.js';

export default defineRoutes([
  {
    method: 'GET',
    path: '/healthz',
    handler: ({ runtime }) => ({ status: 'ok', state: runtime.health().state }),
  },
  {
    method: 'GET',
    path: '/readyz',
    handler: ({ runtime, res }) => {
      const h = runtime.health();
      if (h.ready) return { status: 'ready', actors: h.actors };
      res.setHeader('Retry-After', '5');
      sendJson(res, 503, {
        status: 'not_ready',
        reason: h.reason ?? 'not ready',
        ...(h.escalation === undefined ? {} : { escalation: h.escalation }),
        actors: h.actors,
      });
      return undefined;
    },
  },
]);
