/**
 * POST /v1/phi: exact IIT 3.0 big Φ of a network in a state, computed in the worker pool.
 *
 * Body: `{"tpm": [[...]], "cm"?: [[...]], "state": [...], "nodes"?: [...], "complex"?: false,
 * "deadlineMs"?: 60000}`; the answer is `{phi, cut, concepts, nodes, elapsedMs}`. Validation errors
 * are 400 and name the field (unknown fields, non-binary state, TPM shape, probabilities outside
 * [0, 1], a system too large for the deadline); an unreachable state is 422; a missed deadline 504.
 *
 * Which code computes: the `integrated-info` actor when the runtime has one (so requests share its
 * metrics and its concurrency), else the Φ service directly on `runtime.pool`. Both paths end in
 * `requestPhi`, so the answer and the metrics are the same either way.
 */

import type { IntegratedInfoMessage } from '../../actors/integrated-info/actor.js';
import { INTEGRATED_INFO, MAX_REQUEST_DEADLINE_MS, requestPhi } from '../../actors/integrated-info/actor.js';
import type { SubsystemInput } from '../../actors/integrated-info/big-phi.js';
import type { PhiOutcome } from '../../actors/integrated-info/phi-service.js';
import { JameyError } from '../../runtime/errors.js';
import type { Runtime } from '../../runtime/runtime.js';
import { readJson } from '../body.js';
import { defineRoutes } from '../route.js';

/**
 * The body's fields as a JSON Schema, for the route table. The checks themselves are
 * `parsePhiBody`'s and the Φ service's, whose messages say more than a schema's would (the TPM's
 * shape, an unreachable state).
 */
export const phiBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tpm', 'state'],
  properties: {
    tpm: {
      type: 'array',
      minItems: 2,
      maxItems: 4096,
      items: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
    },
    cm: { type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 1 } } },
    state: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 1 } },
    nodes: { type: 'array', items: { type: 'integer', minimum: 0 } },
    complex: { type: 'boolean' },
    // null, like leaving it out, is the longest deadline.
    deadlineMs: { type: 'number', exclusiveMinimum: 0, maximum: MAX_REQUEST_DEADLINE_MS, nullable: true },
  },
  examples: [
    {
      tpm: [
        [0, 0, 0],
        [0, 0, 1],
        [1, 0, 1],
        [1, 0, 0],
        [1, 1, 0],
        [1, 1, 1],
        [1, 1, 1],
        [1, 1, 0],
      ],
      cm: [
        [0, 0, 1],
        [1, 0, 1],
        [1, 1, 0],
      ],
      state: [1, 0, 0],
      nodes: [0, 1, 2],
      complex: false,
    },
  ],
} as const;

const FIELDS = new Set(Object.keys(phiBodySchema.properties));

interface Problem {
  path: string;
  problem: string;
}

interface PhiBody {
  input: SubsystemInput;
  complex: boolean;
  deadlineMs: number;
}

/** Checks the envelope; the network itself is validated by the Φ service (`prepareNetwork`). */
export function parsePhiBody(body: unknown): PhiBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'the body must be a JSON object', {
      details: [{ path: '', problem: 'must be an object' }],
    });
  }
  const b = body as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const key of Object.keys(b)) {
    if (!FIELDS.has(key)) problems.push({ path: key, problem: 'unknown field' });
  }
  if (b.tpm === undefined) problems.push({ path: 'tpm', problem: 'is required' });
  else if (!Array.isArray(b.tpm)) problems.push({ path: 'tpm', problem: 'must be an array of rows' });
  if (b.state === undefined) problems.push({ path: 'state', problem: 'is required' });
  else if (!Array.isArray(b.state)) problems.push({ path: 'state', problem: 'must be an array of 0 and 1' });
  if (b.cm !== undefined && !Array.isArray(b.cm))
    problems.push({ path: 'cm', problem: 'must be an array of rows' });
  if (b.nodes !== undefined && !Array.isArray(b.nodes)) {
    problems.push({ path: 'nodes', problem: 'must be an array of node indices' });
  }
  if (b.complex !== undefined && typeof b.complex !== 'boolean') {
    problems.push({ path: 'complex', problem: 'must be true or false' });
  }
  const deadlineMs = b.deadlineMs ?? MAX_REQUEST_DEADLINE_MS;
  if (typeof deadlineMs !== 'number' || !(deadlineMs > 0 && deadlineMs <= MAX_REQUEST_DEADLINE_MS)) {
    problems.push({
      path: 'deadlineMs',
      problem: `must be a number of ms in (0, ${MAX_REQUEST_DEADLINE_MS}]`,
    });
  }
  if (problems.length > 0) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      problems.length === 1 ? problems[0]!.problem : 'invalid request',
      {
        details: problems,
      },
    );
  }
  const input: SubsystemInput = {
    tpm: b.tpm as number[][],
    state: b.state as number[],
    ...(b.cm === undefined ? {} : { cm: b.cm as number[][] }),
    ...(b.nodes === undefined ? {} : { nodes: b.nodes as number[] }),
  };
  return { input, complex: b.complex === true, deadlineMs: deadlineMs as number };
}

function hasActor(runtime: Runtime): boolean {
  return runtime.system.host(INTEGRATED_INFO) !== undefined;
}

async function compute(runtime: Runtime, body: PhiBody, signal: AbortSignal): Promise<PhiOutcome> {
  if (hasActor(runtime)) {
    const actor = runtime.actor<IntegratedInfoMessage, PhiOutcome>(INTEGRATED_INFO);
    // The ask outlives the computation's own deadline by a little, so the computation's error wins.
    return actor.ask(
      { type: 'phi', input: body.input, complex: body.complex, deadlineMs: body.deadlineMs },
      { deadlineMs: body.deadlineMs + 1_000, signal },
    );
  }
  return requestPhi(runtime, {
    input: body.input,
    complex: body.complex,
    deadlineMs: body.deadlineMs,
    signal,
  });
}

export default defineRoutes([
  {
    method: 'POST',
    path: '/v1/phi',
    body: phiBodySchema,
    // Compute-heavy (up to the pool's threads for 60 s): callers need a key. There is no compute
    // scope; 'chat' is the scope of the assistant's ordinary users.
    scope: 'chat',
    handler: async ({ runtime, req, res }) => {
      const body = parsePhiBody(await readJson(req));
      // A client that goes away cancels the computation (its pool tasks are aborted).
      const ac = new AbortController();
      const onClose = (): void => {
        if (!res.writableEnded) ac.abort(new Error('client closed the connection'));
      };
      res.once('close', onClose);
      try {
        const r = await compute(runtime, body, ac.signal);
        return { phi: r.phi, cut: r.cut, concepts: r.concepts, nodes: r.nodes, elapsedMs: r.elapsedMs };
      } finally {
        res.off('close', onClose);
      }
    },
  },
]);
