/**
 * Predictive processing: prediction error as surprisal over a hierarchy of predictors (text,
 * content, timing) and its precision-weighted combination. Pure modules over typed arrays and
 * plain data; `predict-task.js` is the worker module that scores batches of texts on a snapshot;
 * `actor.js` is the actor that owns their learning, `persistence.js` its rows in the store.
 */

import { fileURLToPath } from 'node:url';

export {
  createPredictiveActor,
  MAX_ENTITY_CHARS,
  MAX_PREDICT_CHARS,
  PREDICTIVE_ACTOR,
  type PredictInput,
  type PredictiveActor,
  PredictiveClient,
  type PredictiveDeps,
  type PredictiveMessage,
  type PredictiveObserver,
  type PredictiveOptions,
  type PredictiveReply,
  type PredictiveStats,
  type PredictResult,
  type SnapshotInfo,
} from './actor.js';
export {
  byteLength,
  type CoderOptions,
  decode,
  decodeBytes,
  encode,
  encodeBytes,
  encodeWithBits,
} from './arithmetic-coder.js';
export {
  ContentModel,
  type ContentModelJson,
  type ContentModelOptions,
  cosineDistance,
} from './content-model.js';
export { registerPredictiveMetrics } from './metrics.js';
export {
  entityScope,
  GLOBAL_SCOPE,
  type ModelKind,
  PREDICTIVE_QUERIES,
  packModel,
  predictiveWriters,
  type SavedModel,
  unpackModel,
} from './persistence.js';
export type { ScoreBatchPayload, ScoredText } from './predict-task.js';
export {
  LEVELS,
  type Level,
  type LevelErrors,
  SurpriseCombiner,
  type SurpriseJson,
  type SurpriseOptions,
  type SurpriseScore,
} from './surprise.js';
export {
  type BitCoder,
  TEXT_MODEL_DEFAULT_BYTES,
  TEXT_MODEL_MIN_BYTES,
  TextModel,
  type TextModelOptions,
  type TextScore,
  type WrapOptions,
} from './text-model.js';
export { TimingModel, type TimingModelJson, type TimingModelOptions } from './timing-model.js';
export { RunningStats } from './welford.js';

/** Path of the compiled worker module, for `TaskPool.run({ filename, name: 'scoreBatch' }, payload)`. */
export const PREDICT_TASK_FILE = fileURLToPath(new URL('./predict-task.js', import.meta.url));
