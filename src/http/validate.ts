/**
 * Request validation from JSON Schemas (Ajv, draft 2019-09 subset). Schemas are typed with Ajv's
 * `JSONSchemaType<T>`, so the compiler checks that each schema and the TypeScript type of the
 * request agree. Every problem is reported (`allErrors`), each as `{ path, problem }` with a JSON
 * Pointer to the offending field.
 */
import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import { JameyError } from '../runtime/errors.js';

const bodies = new Ajv({ allErrors: true, strict: true, removeAdditional: false, useDefaults: false });
// Query strings arrive as text: coerce "10" to 10 there, and only there.
const queries = new Ajv({ allErrors: true, strict: true, coerceTypes: true });

export interface Problem {
  path: string;
  problem: string;
}

export function toProblems(errors: readonly ErrorObject[] | null | undefined): Problem[] {
  const out: Problem[] = [];
  for (const e of errors ?? []) {
    let path = e.instancePath;
    let problem = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path = `${path}/${(e.params as { missingProperty: string }).missingProperty}`;
      problem = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path = `${path}/${(e.params as { additionalProperty: string }).additionalProperty}`;
      problem = 'is not an accepted field';
    } else if (e.keyword === 'enum') {
      problem = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    out.push({ path: path || '/', problem });
  }
  return out;
}

export type Validator<T> = (value: unknown) => T;

function wrap<T>(fn: ValidateFunction<T>, what: string): Validator<T> {
  return (value: unknown): T => {
    if (fn(value)) return value;
    const problems = toProblems(fn.errors);
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `invalid ${what}: ${problems.map((p) => `${p.path} ${p.problem}`).join('; ')}`,
      { details: problems },
    );
  };
}

/** A validator for a JSON request body. */
export function bodyValidator<T>(schema: JSONSchemaType<T>): Validator<T> {
  return wrap(bodies.compile(schema), 'request body');
}

/** A validator for query parameters (strings coerced to the schema's types). */
export function queryValidator<T>(schema: JSONSchemaType<T>): Validator<T> {
  const fn = queries.compile(schema);
  return (params: unknown): T => wrap(fn, 'query')(params);
}

/** The query string as a plain object (a repeated name keeps its last value). */
export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}
