/**
 * JSON Schemas of the OpenAI-compatible routes (OpenAI API reference: "Create chat completion",
 * "Create embeddings"). Fields the API defines that Jamey does not act on (seed, penalties, logit
 * bias…) are accepted and ignored, so existing clients work unchanged; a field the API does not
 * define is refused, naming it. `n` above 1 is refused: one choice per request.
 */
import type { JSONSchemaType } from 'ajv';
import { MAX_NAME_CHARS } from '../../actors/memory/types.js';

/** Longest message text accepted (the body cap bounds the total). */
const MAX_TEXT = 1_000_000;

const text = { type: 'string', maxLength: MAX_TEXT } as const;
const contentPart = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['text', 'image_url', 'input_audio', 'file', 'refusal'] },
    text,
    refusal: text,
  },
  additionalProperties: true,
} as const;

const toolCall = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256 },
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 256 }, arguments: text },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
    content: {
      anyOf: [text, { type: 'null' }, { type: 'array', maxItems: 1000, items: contentPart }],
    },
    name: { type: 'string', minLength: 1, maxLength: 256 },
    tool_calls: { type: 'array', maxItems: 128, items: toolCall },
    tool_call_id: { type: 'string', minLength: 1, maxLength: 256 },
    refusal: { anyOf: [text, { type: 'null' }] },
  },
  additionalProperties: false,
} as const;

const nullableNumber = (minimum: number, maximum: number) =>
  ({ anyOf: [{ type: 'number', minimum, maximum }, { type: 'null' }] }) as const;
const nullableInt = (minimum: number, maximum: number) =>
  ({ anyOf: [{ type: 'integer', minimum, maximum }, { type: 'null' }] }) as const;

export const chatCompletionSchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: { type: 'array', minItems: 1, maxItems: 10_000, items: message },
    stream: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
    stream_options: {
      anyOf: [
        {
          type: 'object',
          properties: { include_usage: { type: 'boolean' }, include_obfuscation: { type: 'boolean' } },
          additionalProperties: false,
        },
        { type: 'null' },
      ],
    },
    max_tokens: nullableInt(1, 10_000_000),
    max_completion_tokens: nullableInt(1, 10_000_000),
    temperature: nullableNumber(0, 2),
    top_p: nullableNumber(0, 1),
    stop: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: 1000 },
        { type: 'array', maxItems: 4, items: { type: 'string', minLength: 1, maxLength: 1000 } },
        { type: 'null' },
      ],
    },
    tools: { type: 'array', maxItems: 128, items: { type: 'object' } },
    tool_choice: { anyOf: [{ type: 'string', enum: ['none', 'auto', 'required'] }, { type: 'object' }] },
    parallel_tool_calls: { type: 'boolean' },
    response_format: {
      anyOf: [
        {
          type: 'object',
          required: ['type'],
          properties: { type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] } },
        },
        { type: 'null' },
      ],
    },
    user: { type: 'string', minLength: 1, maxLength: MAX_NAME_CHARS },
    conversation_id: { type: 'string', pattern: '^conv_[A-Za-z0-9_-]{8,64}$' },
    n: nullableInt(1, 1),
    seed: nullableInt(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    presence_penalty: nullableNumber(-2, 2),
    frequency_penalty: nullableNumber(-2, 2),
    logit_bias: { anyOf: [{ type: 'object' }, { type: 'null' }] },
    logprobs: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
    top_logprobs: nullableInt(0, 20),
    metadata: { anyOf: [{ type: 'object' }, { type: 'null' }] },
    store: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
    service_tier: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    reasoning_effort: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    modalities: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
  },
  additionalProperties: false,
  examples: [
    { messages: [{ role: 'user', content: 'Hello, who are you?' }] },
    {
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: [{ type: 'text', text: 'What did I say about the cello?' }] },
      ],
      user: 'robin',
      temperature: 0,
      max_tokens: 64,
    },
    { messages: [{ role: 'user', content: 'Stream it.' }], stream: true },
  ],
} as const;

export interface EmbeddingsBody {
  model?: string;
  input: string | string[];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export const embeddingsSchema: JSONSchemaType<EmbeddingsBody> = {
  type: 'object',
  required: ['input'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256, nullable: true },
    input: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: 100_000 },
        {
          type: 'array',
          minItems: 1,
          maxItems: 2048,
          items: { type: 'string', minLength: 1, maxLength: 100_000 },
        },
      ],
    } as unknown as JSONSchemaType<EmbeddingsBody>['properties']['input'],
    encoding_format: { type: 'string', enum: ['float', 'base64'], nullable: true },
    dimensions: { type: 'integer', minimum: 1, maximum: 65_536, nullable: true },
    user: { type: 'string', minLength: 1, maxLength: MAX_NAME_CHARS, nullable: true },
  },
  additionalProperties: false,
};
