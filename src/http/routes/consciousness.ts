/**
 * The state of the "consciousness" subsystems: the global workspace (focus, recent broadcasts,
 * competition figures; docs/workspace.md), the latest combined surprise of predictive processing,
 * and the live Φ of the runtime (docs/phi.md). `POST /v1/consciousness/process` runs one content
 * through prediction, conscience and the workspace competition at once.
 *
 * The predictive and conscience actors are optional: each is asked only when it runs, with a short
 * deadline, and a missing or failing one gives null rather than failing the request.
 */
import { randomUUID } from 'node:crypto';
import { INTEGRATED_INFO, type PhiSnapshot } from '../../actors/integrated-info/actor.js';
import {
  type CycleReport,
  isActorRunning,
  WORKSPACE_ACTOR,
  type WorkspaceMessage,
  type WorkspaceState,
} from '../../actors/workspace/actor.js';
import type { ConscienceSignal, Salience } from '../../actors/workspace/competition.js';
import type { Runtime } from '../../runtime/runtime.js';
import { readJson } from '../body.js';
import { defineRoutes } from '../route.js';
import { processSchema } from '../schemas/consciousness.js';
import { bodyValidator } from '../validate.js';

const PREDICTIVE = 'predictive';
const CONSCIENCE = 'conscience';
/** Broadcasts listed by GET /v1/consciousness. */
const RECENT_BROADCASTS = 10;
/** How long the route waits for an optional specialist. */
const SPECIALIST_DEADLINE_MS = 2000;
/** The stats of `predictive` are a nicety of the GET: it does not wait long for them. */
const STATS_DEADLINE_MS = 500;

const validateProcess = bodyValidator(processSchema);

function running(runtime: Runtime, name: string): boolean {
  return isActorRunning(runtime.system, name);
}

/** Asks an optional actor; null when it is absent, refuses or misses the deadline. */
async function askOptional<R>(
  runtime: Runtime,
  name: string,
  message: unknown,
  deadlineMs: number,
): Promise<R | null> {
  if (!running(runtime, name)) return null;
  try {
    return (await runtime.actor(name).ask(message, { deadlineMs, retry: false })) as R;
  } catch (err) {
    runtime.log.debug('optional specialist did not answer', {
      actor: name,
      code: (err as { code?: unknown }).code,
    });
    return null;
  }
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function record(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
}

/** The combined surprise score in a `score` reply (`surprise.score`) or a number `surprise`. */
export function surpriseScore(reply: unknown): number | null {
  const r = record(reply);
  if (r === null) return null;
  return finite(r['surprise']) ?? finite(record(r['surprise'])?.['score']);
}

/** The latest combined surprise in a `stats` reply: `latest`/`last` holding a surprise, or one at the top. */
export function latestSurprise(stats: unknown): number | null {
  const r = record(stats);
  if (r === null) return null;
  return (
    surpriseScore(r['latest']) ?? surpriseScore(r['last']) ?? finite(r['latestSurprise']) ?? surpriseScore(r)
  );
}

function conscienceSignal(reply: unknown): ConscienceSignal | undefined {
  const r = record(reply);
  if (r === null) return undefined;
  const verdict = r['verdict'];
  if (verdict === 'block') return 'block';
  const score = finite(r['score']);
  if (score !== null && score >= 0 && score <= 1) return score;
  return verdict === 'allow' || verdict === 'flag' ? verdict : undefined;
}

function workspace(runtime: Runtime) {
  return runtime.actor<WorkspaceMessage, unknown>(WORKSPACE_ACTOR);
}

export default defineRoutes([
  {
    method: 'GET',
    path: '/v1/consciousness',
    scope: 'chat',
    handler: async ({ runtime }) => {
      const [phi, stats, ws] = await Promise.all([
        askOptional<PhiSnapshot | null>(runtime, INTEGRATED_INFO, { type: 'snapshot' }, 2000),
        askOptional<unknown>(runtime, PREDICTIVE, { type: 'stats' }, STATS_DEADLINE_MS),
        running(runtime, WORKSPACE_ACTOR)
          ? (workspace(runtime).ask(
              { type: 'state' },
              { priority: 'high', deadlineMs: 2000 },
            ) as Promise<WorkspaceState>)
          : Promise.resolve(null),
      ]);
      return {
        focus: ws?.focus ?? null,
        broadcasts: ws?.broadcasts.slice(0, RECENT_BROADCASTS) ?? [],
        // The stats reply may not carry a surprise; the latest one posted to the workspace stands in.
        surprise: running(runtime, PREDICTIVE) ? (latestSurprise(stats) ?? ws?.lastSurprise ?? null) : null,
        phi: phi ?? null,
        workspace:
          ws === null
            ? null
            : {
                cycleMs: ws.cycleMs,
                capacity: ws.capacity,
                threshold: ws.threshold,
                candidates: ws.candidates,
                counters: ws.counters,
              },
      };
    },
  },
  {
    method: 'POST',
    path: '/v1/consciousness/process',
    body: processSchema,
    scope: 'chat',
    handler: async ({ runtime, req }) => {
      const body = validateProcess(await readJson(req));
      const entity = body.entityId ?? undefined;
      const [prediction, conscience] = await Promise.all([
        askOptional<unknown>(
          runtime,
          PREDICTIVE,
          {
            type: 'score',
            input:
              entity === undefined
                ? { text: body.content, learn: true }
                : { text: body.content, entity, learn: true },
          },
          SPECIALIST_DEADLINE_MS,
        ),
        askOptional<unknown>(
          runtime,
          CONSCIENCE,
          { type: 'evaluate', text: body.content, context: { role: 'user' } },
          SPECIALIST_DEADLINE_MS,
        ),
      ]);
      const salience: Salience = {};
      const surprise = surpriseScore(prediction);
      if (surprise !== null) salience.surprise = surprise;
      const signal = conscienceSignal(conscience);
      if (signal !== undefined) salience.conscience = signal;
      if (body.priority !== undefined && body.priority !== null) salience.priority = body.priority;
      const id = randomUUID();
      const ws = workspace(runtime);
      ws.tell({
        type: 'post',
        candidate: {
          id,
          source: 'api',
          content: body.content,
          salience,
          ...(entity === undefined ? {} : { entity }),
        },
      });
      const cycle = (await ws.ask({ type: 'cycle' }, { priority: 'normal' })) as CycleReport;
      const mine = cycle.activations.find((a) => a.id === id);
      return {
        prediction,
        conscience,
        candidate: { id, activation: mine?.activation ?? 0 },
        cycle: { winner: cycle.winner, broadcast: cycle.broadcast, competitors: cycle.competitors },
        broadcastTo: cycle.broadcastTo,
      };
    },
  },
]);
