/** Request type of POST /v1/predict and its JSON Schema. */
import type { JSONSchemaType } from 'ajv';
import { MAX_ENTITY_CHARS, MAX_PREDICT_CHARS } from '../../actors/predictive/actor.js';

export interface PredictBody {
  text: string;
  entity?: string;
  learn?: boolean;
}

export const predictSchema: JSONSchemaType<PredictBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: {
    text: { type: 'string', minLength: 1, maxLength: MAX_PREDICT_CHARS },
    entity: { type: 'string', minLength: 1, maxLength: MAX_ENTITY_CHARS, nullable: true },
    learn: { type: 'boolean', nullable: true },
  },
};
