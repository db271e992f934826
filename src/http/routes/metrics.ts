/** Prometheus exposition of the runtime's own registry. */
import { defineRoutes } from '../route.js';

export default defineRoutes([
  {
    method: 'GET',
    path: '/metrics',
    handler: async ({ runtime, res }) => {
      const body = await runtime.metrics.render();
      res.statusCode = 200;
      res.setHeader('Content-Type', runtime.metrics.contentType);
      res.end(body);
      return undefined;
    },
  },
]);
