/**
 * POST /v1/predict: how surprising a message is to the predictive models, and (by default) learn
 * it. Body `{text, entity?, learn?}`; the answer is `{text: {bits, bpc, chars, snapshot,
 * entityBpc}, content, timing, surprise}` (see docs/predictive.md). `content` and `timing` need an
 * entity (they are per-entity predictions) and a history: null until then.
 */
import {
  PREDICTIVE_ACTOR,
  type PredictInput,
  type PredictiveMessage,
  type PredictResult,
} from '../../actors/predictive/actor.js';
import { JameyError } from '../../runtime/errors.js';
import { readJson } from '../body.js';
import { defineRoutes } from '../route.js';
import { predictSchema } from '../schemas/predict.js';
import { bodyValidator } from '../validate.js';

const validate = bodyValidator(predictSchema);

export default defineRoutes([
  {
    method: 'POST',
    path: '/v1/predict',
    body: predictSchema,
    scope: 'chat',
    handler: async ({ runtime, req }) => {
      const body = validate(await readJson(req));
      if (runtime.system.host(PREDICTIVE_ACTOR) === undefined) {
        throw new JameyError('JAMEY_ERR_NOT_READY', 'the predictive actor is not running');
      }
      const input: PredictInput = { text: body.text };
      if (body.entity !== undefined) input.entity = body.entity;
      if (body.learn !== undefined) input.learn = body.learn;
      const r = await runtime
        .actor<PredictiveMessage, PredictResult>(PREDICTIVE_ACTOR)
        .ask({ type: 'score', input });
      return { text: r.text, content: r.content, timing: r.timing, surprise: r.surprise };
    },
  },
]);
