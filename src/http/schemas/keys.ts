/** Request types of the key API and their JSON Schemas. */
import type { JSONSchemaType } from 'ajv';
import { SCOPES, type Scope } from '../../actors/security/index.js';

export interface CreateKeyBody {
  name: string;
  scopes: Scope[];
  rateLimit?: { rps: number; burst: number };
  expiresInMs?: number;
}

export const createKeySchema: JSONSchemaType<CreateKeyBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } },
    rateLimit: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['rps', 'burst'],
      properties: {
        rps: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
        burst: { type: 'integer', minimum: 1, maximum: 10_000_000 },
      },
    },
    expiresInMs: { type: 'integer', minimum: 1000, maximum: 10 * 365 * 86_400_000, nullable: true },
  },
};

export interface RotateKeyBody {
  /** How long the old key keeps working. @default 7 days */
  graceMs?: number;
}

export const rotateKeySchema: JSONSchemaType<RotateKeyBody> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    graceMs: { type: 'integer', minimum: 0, maximum: 365 * 86_400_000, nullable: true },
  },
};

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{4,64}$/;
