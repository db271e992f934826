/** Every route of the HTTP API; a new route module is added to this list. */
import type { Route } from '../route.js';
import chat from './chat.js';
import conscience from './conscience.js';
import consciousness from './consciousness.js';
import health from './health.js';
import keys from './keys.js';
import memories from './memories.js';
import metrics from './metrics.js';
import phi from './phi.js';
import predict from './predict.js';

export const allRoutes: readonly Route[] = [
  ...health,
  ...metrics,
  ...keys,
  ...memories,
  ...phi,
  ...predict,
  ...consciousness,
  ...conscience,
  ...chat,
];
