export type {
  ActorContext,
  ActorRef,
  ActorSpec,
  AskOptions,
  Behavior,
  SendOptions,
  StopReason,
  TellOptions,
} from './actor.js';
export { ActorHost } from './actor.js';
export { backoffDelay, nominalDelay } from './backoff.js';
export { type Clock, ManualClock, sleep, systemClock } from './clock.js';
export { type DeadLetter, type DeadLetterReason, DeadLetters } from './dead-letters.js';
export { createRuntimeInWorker, type EmbeddedRuntime, type EmbedOptions } from './embed.js';
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorData,
  fromErrorData,
  httpStatusOf,
  isJameyError,
  JameyError,
  toJameyError,
} from './errors.js';
export { createLogger, type Logger } from './log.js';
export { LANE, Mailbox, PRIORITIES, type Priority } from './mailbox.js';
export { RuntimeMetrics } from './metrics.js';
export {
  defaultOptions,
  type OverflowPolicy,
  optionsFromEnv,
  type RuntimeOptions,
  type RuntimeOptionsInput,
  resolveOptions,
  type SupervisionStrategy,
} from './options.js';
export { type RunOptions, TaskPool, type TaskRef } from './pool.js';
export { createRuntime, type Health, Runtime, type RuntimeDeps } from './runtime.js';
export { type ChildInfo, type ChildStatus, type Escalation, Supervisor } from './supervisor.js';
export { ActorSystem } from './system.js';
export { defineTask, type TaskResult } from './worker-task.js';
