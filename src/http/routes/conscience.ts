/**
 * The conscience API: evaluate a text against the principles (any `chat` key) and read the rules
 * (`chat`); create, change and delete rules (`admin`, audited with the key that did it). Validation
 * is by JSON Schema (schemas/conscience.ts); the work is done by the conscience actor. Responses are
 * redacted: personal data and credentials found in the text are masked.
 */
import { CONSCIENCE_ACTOR, ConscienceClient, type ConscienceMessage } from '../../actors/conscience/actor.js';
import type { Evaluation } from '../../actors/conscience/evaluate.js';
import { MAX_RULE_NAME, type PrincipleRule, RULE_NAME_PATTERN } from '../../actors/conscience/principles.js';
import type { RulePatch } from '../../actors/conscience/rule-store.js';
import { JameyError } from '../../runtime/errors.js';
import type { Runtime } from '../../runtime/runtime.js';
import { readJson } from '../body.js';
import { sendJson } from '../respond.js';
import { defineRoutes, type RequestContext } from '../route.js';
import { createRuleSchema, evaluateSchema, updateRuleSchema } from '../schemas/conscience.js';
import { bodyValidator } from '../validate.js';

const validateEvaluate = bodyValidator(evaluateSchema);
const validateCreate = bodyValidator(createRuleSchema);
const validateUpdate = bodyValidator(updateRuleSchema);

const clients = new WeakMap<Runtime, ConscienceClient>();
function conscience(runtime: Runtime): ConscienceClient {
  let c = clients.get(runtime);
  if (c === undefined) {
    c = new ConscienceClient(runtime.actor<ConscienceMessage, unknown>(CONSCIENCE_ACTOR));
    clients.set(runtime, c);
  }
  return c;
}

function ruleName(params: Readonly<Record<string, string>>): string {
  const name = params['name'] ?? '';
  if (name.length > MAX_RULE_NAME || !RULE_NAME_PATTERN.test(name)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'not a rule name', {
      details: [{ path: '/name', problem: 'must be a kebab-case rule name (a-z, 0-9, single hyphens)' }],
    });
  }
  return name;
}

const by = (ctx: RequestContext): string =>
  ctx.principal.keyId === null ? ctx.principal.tenant : `key:${ctx.principal.keyId}`;

function evaluationBody(e: Evaluation) {
  return {
    verdict: e.verdict,
    score: e.score,
    principles: e.principles.map((p) => ({ name: p.name, score: p.score, outcome: p.outcome })),
    reasons: e.reasons.map((r) => ({
      principle: r.principle,
      detector: r.detector,
      span: r.span,
      excerpt: r.excerpt,
      why: r.why,
    })),
  };
}

export default defineRoutes([
  {
    method: 'POST',
    path: '/v1/conscience/evaluate',
    body: evaluateSchema,
    scope: 'chat',
    handler: async (ctx) => {
      const body = validateEvaluate(await readJson(ctx.req));
      const role = body.context?.role;
      const e = await conscience(ctx.runtime).evaluate(body.text, role == null ? {} : { role }, {
        by: by(ctx),
        source: 'api',
      });
      return evaluationBody(e);
    },
  },
  {
    method: 'GET',
    path: '/v1/conscience/rules',
    scope: 'chat',
    handler: async ({ runtime }) => ({ data: await conscience(runtime).rules() }),
  },
  {
    method: 'GET',
    path: '/v1/conscience/rules/:name',
    scope: 'chat',
    handler: ({ runtime, params }) => conscience(runtime).rule(ruleName(params)),
  },
  {
    method: 'POST',
    path: '/v1/conscience/rules',
    body: createRuleSchema,
    scope: 'admin',
    handler: async (ctx) => {
      const body = validateCreate(await readJson(ctx.req));
      const rule: PrincipleRule = {
        name: body.name,
        description: body.description,
        weight: body.weight,
        detectors: body.detectors,
        action: body.action,
      };
      if (body.enabled != null) rule.enabled = body.enabled;
      sendJson(ctx.res, 201, await conscience(ctx.runtime).create(rule, by(ctx)));
      return undefined;
    },
  },
  {
    method: 'PUT',
    path: '/v1/conscience/rules/:name',
    body: updateRuleSchema,
    scope: 'admin',
    handler: async (ctx) => {
      const name = ruleName(ctx.params);
      const body = validateUpdate(await readJson(ctx.req));
      const patch: RulePatch = {};
      if (body.description != null) patch.description = body.description;
      if (body.weight != null) patch.weight = body.weight;
      if (body.detectors != null) patch.detectors = body.detectors;
      if (body.action != null) patch.action = body.action;
      if (body.enabled != null) patch.enabled = body.enabled;
      return conscience(ctx.runtime).update(name, patch, by(ctx));
    },
  },
  {
    method: 'DELETE',
    path: '/v1/conscience/rules/:name',
    scope: 'admin',
    handler: async (ctx) => {
      await conscience(ctx.runtime).delete(ruleName(ctx.params), by(ctx));
      ctx.res.statusCode = 204;
      ctx.res.end();
      return undefined;
    },
  },
]);
