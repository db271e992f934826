/**
 * The memory API: store, list (filters, cursor paging), get, delete and search (hybrid recall).
 * Validation is by JSON Schema (schemas/memories.ts); the work is done by the memory actor.
 */
import {
  MEMORY_ACTOR,
  MemoryClient,
  type MemoryMessage,
  type StoredMemory,
} from '../../actors/memory/memory.js';
import { JameyError } from '../../runtime/errors.js';
import type { Runtime } from '../../runtime/runtime.js';
import { readJson } from '../body.js';
import { sendJson } from '../respond.js';
import { defineRoutes } from '../route.js';
import {
  createMemorySchema,
  listMemoriesSchema,
  MEMORY_ID_PATTERN,
  searchMemoriesSchema,
} from '../schemas/memories.js';
import { bodyValidator, queryObject, queryValidator } from '../validate.js';

const validateCreate = bodyValidator(createMemorySchema);
const validateList = queryValidator(listMemoriesSchema);
const validateSearch = bodyValidator(searchMemoriesSchema);

const clients = new WeakMap<Runtime, MemoryClient>();
function memory(runtime: Runtime): MemoryClient {
  let c = clients.get(runtime);
  if (c === undefined) {
    c = new MemoryClient(runtime.actor<MemoryMessage, unknown>(MEMORY_ACTOR));
    clients.set(runtime, c);
  }
  return c;
}

function memoryId(params: Readonly<Record<string, string>>): string {
  const id = params['id'] ?? '';
  if (!MEMORY_ID_PATTERN.test(id)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', `"${id.slice(0, 80)}" is not a memory id`, {
      details: [{ path: '/id', problem: 'must look like mem_…' }],
    });
  }
  return id;
}

export default defineRoutes([
  {
    method: 'POST',
    path: '/v1/memories',
    body: createMemorySchema,
    scope: 'memory:write',
    handler: async ({ runtime, req, res }) => {
      const body = validateCreate(await readJson(req));
      const stored: StoredMemory = await memory(runtime).store(body.layer, body.content, {
        entityId: body.entityId ?? null,
        preferredModel: body.preferredModel ?? null,
        provider: body.provider ?? null,
        ...(body.salience === undefined || body.salience === null ? {} : { salience: body.salience }),
        metadata: body.metadata ?? null,
        source: 'api',
      });
      // A merge into an existing memory creates nothing: 200 with the memory it went into.
      sendJson(res, stored.merged === undefined ? 201 : 200, stored);
      return undefined;
    },
  },
  {
    method: 'GET',
    path: '/v1/memories',
    query: listMemoriesSchema,
    scope: 'memory:read',
    cache: { namespace: 'memory' },
    handler: async ({ runtime, url }) => {
      const q = validateList(queryObject(url));
      const filter: Parameters<MemoryClient['list']>[0] = {};
      if (q.layer != null) filter.layer = q.layer;
      if (q.entityId != null) filter.entityId = q.entityId;
      if (q.limit != null) filter.limit = q.limit;
      if (q.cursor != null) filter.cursor = q.cursor;
      return memory(runtime).list(filter);
    },
  },
  {
    method: 'GET',
    path: '/v1/memories/:id',
    scope: 'memory:read',
    handler: ({ runtime, params }) => memory(runtime).get(memoryId(params)),
  },
  {
    method: 'DELETE',
    path: '/v1/memories/:id',
    scope: 'memory:write',
    handler: async ({ runtime, params, res }) => {
      await memory(runtime).delete(memoryId(params));
      res.statusCode = 204;
      res.end();
      return undefined;
    },
  },
  {
    method: 'POST',
    path: '/v1/memories/search',
    body: searchMemoriesSchema,
    scope: 'memory:read',
    cache: { namespace: 'memory', post: true },
    handler: async ({ runtime, req }) => {
      const body = validateSearch(await readJson(req));
      const hits = await memory(runtime).recall({
        query: body.query,
        ...(body.entityId == null ? {} : { entityId: body.entityId }),
        ...(body.layers == null ? {} : { layers: body.layers }),
        ...(body.limit == null ? {} : { limit: body.limit }),
      });
      return {
        results: hits.map((h) => ({
          id: h.id,
          content: h.content,
          layer: h.layer,
          entityId: h.entityId,
          score: h.score,
        })),
      };
    },
  },
]);
