/** Request types of the conscience API and their JSON Schemas (checked against each other by Ajv's types). */
import type { JSONSchemaType } from 'ajv';
import {
  ACTIONS,
  type Action,
  DETECTOR_IDS,
  type DetectorId,
  MAX_RULE_DESCRIPTION,
  MAX_RULE_NAME,
  RULE_NAME_PATTERN,
} from '../../actors/conscience/index.js';

export const MAX_EVALUATE_CHARS = 32_768;

export interface CreateRuleBody {
  name: string;
  description: string;
  weight: number;
  detectors: DetectorId[];
  action: Action;
  enabled?: boolean;
}

const props = {
  name: { type: 'string', minLength: 1, maxLength: MAX_RULE_NAME, pattern: RULE_NAME_PATTERN.source },
  description: { type: 'string', maxLength: MAX_RULE_DESCRIPTION },
  weight: { type: 'number', minimum: 0, maximum: 1 },
  detectors: {
    type: 'array',
    minItems: 1,
    maxItems: DETECTOR_IDS.length,
    uniqueItems: true,
    items: { type: 'string', enum: [...DETECTOR_IDS] },
  },
  action: { type: 'string', enum: [...ACTIONS] },
} as const;

export const createRuleSchema: JSONSchemaType<CreateRuleBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'weight', 'detectors', 'action'],
  properties: {
    ...props,
    detectors: { ...props.detectors, items: { type: 'string', enum: [...DETECTOR_IDS] } },
    enabled: { type: 'boolean', nullable: true },
  },
};

/** A partial update: any subset of the fields, at least one. The name identifies the rule in the route. */
export interface UpdateRuleBody {
  description?: string;
  weight?: number;
  detectors?: DetectorId[];
  action?: Action;
  enabled?: boolean;
}

export const updateRuleSchema: JSONSchemaType<UpdateRuleBody> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  minProperties: 1,
  properties: {
    description: { ...props.description, nullable: true },
    weight: { ...props.weight, nullable: true },
    detectors: { ...props.detectors, items: { type: 'string', enum: [...DETECTOR_IDS] }, nullable: true },
    action: { ...props.action, nullable: true },
    enabled: { type: 'boolean', nullable: true },
  },
};

export interface EvaluateBody {
  text: string;
  context?: { role?: 'user' | 'assistant' | 'system' };
}

export const evaluateSchema: JSONSchemaType<EvaluateBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: {
    text: { type: 'string', maxLength: MAX_EVALUATE_CHARS },
    context: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: [],
      properties: { role: { type: 'string', enum: ['user', 'assistant', 'system'], nullable: true } },
    },
  },
};
