/**
 * API keys (admin scope): create (the secret is in this response and never again), list, get,
 * rotate (the old key keeps working for a grace period, default 7 days) and revoke. Every change is
 * audited with the admin key that made it.
 */
import { SECURITY_ACTOR, SecurityClient, type SecurityMessage } from '../../actors/security/index.js';
import { JameyError } from '../../runtime/errors.js';
import type { Runtime } from '../../runtime/runtime.js';
import { readJson } from '../body.js';
import { sendJson } from '../respond.js';
import { defineRoutes, type RequestContext } from '../route.js';
import { createKeySchema, KEY_ID_PATTERN, rotateKeySchema } from '../schemas/keys.js';
import { bodyValidator } from '../validate.js';

const validateCreate = bodyValidator(createKeySchema);
const validateRotate = bodyValidator(rotateKeySchema);

const clients = new WeakMap<Runtime, SecurityClient>();
function keys(runtime: Runtime): SecurityClient {
  let c = clients.get(runtime);
  if (c === undefined) {
    c = new SecurityClient(runtime.actor<SecurityMessage, unknown>(SECURITY_ACTOR));
    clients.set(runtime, c);
  }
  return c;
}

function keyId(params: Readonly<Record<string, string>>): string {
  const id = params['id'] ?? '';
  if (!KEY_ID_PATTERN.test(id)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'not a key id', {
      details: [{ path: '/id', problem: 'is not a key id' }],
    });
  }
  return id;
}

const by = (ctx: RequestContext): string => `key:${ctx.principal.keyId ?? 'unknown'}`;

export default defineRoutes([
  {
    method: 'POST',
    path: '/v1/keys',
    body: createKeySchema,
    scope: 'admin',
    handler: async (ctx) => {
      const body = validateCreate(await readJson(ctx.req));
      const created = await keys(ctx.runtime).createKey(
        {
          name: body.name,
          scopes: body.scopes,
          ...(body.rateLimit == null ? {} : { rateLimit: body.rateLimit }),
          ...(body.expiresInMs == null ? {} : { expiresInMs: body.expiresInMs }),
        },
        by(ctx),
      );
      sendJson(ctx.res, 201, { ...created.key, key: created.token });
      return undefined;
    },
  },
  {
    method: 'GET',
    path: '/v1/keys',
    scope: 'admin',
    handler: async ({ runtime }) => ({ data: await keys(runtime).listKeys() }),
  },
  {
    method: 'GET',
    path: '/v1/keys/:id',
    scope: 'admin',
    handler: ({ runtime, params }) => keys(runtime).getKey(keyId(params)),
  },
  {
    method: 'POST',
    path: '/v1/keys/:id/rotate',
    body: rotateKeySchema,
    scope: 'admin',
    handler: async (ctx) => {
      const hasBody =
        Number(ctx.req.headers['content-length'] ?? 0) > 0 ||
        ctx.req.headers['transfer-encoding'] !== undefined;
      const body = hasBody ? validateRotate(await readJson(ctx.req)) : {};
      const rotated = await keys(ctx.runtime).rotateKey(keyId(ctx.params), {
        ...(body.graceMs == null ? {} : { graceMs: body.graceMs }),
        by: by(ctx),
      });
      sendJson(ctx.res, 201, { ...rotated.key, key: rotated.token, replaces: rotated.old });
      return undefined;
    },
  },
  {
    method: 'DELETE',
    path: '/v1/keys/:id',
    scope: 'admin',
    handler: async (ctx) => keys(ctx.runtime).revokeKey(keyId(ctx.params), by(ctx)),
  },
]);
