/** Request types of the consciousness API and their JSON Schemas (checked against each other by Ajv's types). */
import type { JSONSchemaType } from 'ajv';
import { MAX_NAME_CHARS } from '../../actors/memory/types.js';

export const MAX_PROCESS_CHARS = 32_768;

export interface ProcessBody {
  content: string;
  entityId?: string;
  /** 0..1, the poster's own weight of the content. */
  priority?: number;
}

export const processSchema: JSONSchemaType<ProcessBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['content'],
  properties: {
    content: { type: 'string', minLength: 1, maxLength: MAX_PROCESS_CHARS, pattern: '\\S' },
    entityId: { type: 'string', minLength: 1, maxLength: MAX_NAME_CHARS, nullable: true },
    priority: { type: 'number', minimum: 0, maximum: 1, nullable: true },
  },
};
