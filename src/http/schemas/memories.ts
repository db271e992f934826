/** Request types of the memory API and their JSON Schemas (checked against each other by Ajv's types). */
import type { JSONSchemaType } from 'ajv';
import { LAYERS, type Layer, MAX_CONTENT_CHARS, MAX_NAME_CHARS } from '../../actors/memory/types.js';

export interface CreateMemoryBody {
  layer: Layer;
  content: string;
  entityId?: string;
  preferredModel?: string;
  provider?: string;
  salience?: number;
  metadata?: Record<string, unknown>;
}

const name = { type: 'string', minLength: 1, maxLength: MAX_NAME_CHARS } as const;

export const createMemorySchema: JSONSchemaType<CreateMemoryBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['layer', 'content'],
  properties: {
    layer: { type: 'string', enum: [...LAYERS] },
    content: { type: 'string', minLength: 1, maxLength: MAX_CONTENT_CHARS, pattern: '\\S' },
    entityId: { ...name, nullable: true },
    preferredModel: { ...name, nullable: true },
    provider: { ...name, nullable: true },
    salience: { type: 'number', minimum: 0, maximum: 1, nullable: true },
    metadata: { type: 'object', nullable: true, required: [], additionalProperties: true },
  },
};

export interface ListMemoriesQuery {
  layer?: Layer;
  entityId?: string;
  limit?: number;
  cursor?: string;
}

export const listMemoriesSchema: JSONSchemaType<ListMemoriesQuery> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    layer: { type: 'string', enum: [...LAYERS], nullable: true },
    entityId: { ...name, nullable: true },
    limit: { type: 'integer', minimum: 1, maximum: 100, nullable: true },
    cursor: { type: 'string', minLength: 1, maxLength: 200, nullable: true },
  },
};

export interface SearchMemoriesBody {
  query: string;
  entityId?: string;
  layers?: Layer[];
  limit?: number;
}

export const searchMemoriesSchema: JSONSchemaType<SearchMemoriesBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1, maxLength: MAX_CONTENT_CHARS, pattern: '\\S' },
    entityId: { ...name, nullable: true },
    layers: {
      type: 'array',
      nullable: true,
      minItems: 1,
      maxItems: LAYERS.length,
      uniqueItems: true,
      items: { type: 'string', enum: [...LAYERS] },
    },
    limit: { type: 'integer', minimum: 1, maximum: 100, nullable: true },
  },
};

export const MEMORY_ID_PATTERN = /^mem_[A-Za-z0-9_-]{1,64}$/;
