/**
 * Worker module of the predictive text level: scores a batch of texts against a snapshot of a text
 * model shared as a SharedArrayBuffer. A pool round trip costs about 0.1 ms, as much as scoring a
 * short message, so one task takes a whole batch; the snapshot is wrapped read-only (no copy), and
 * the wrapper is cached per buffer so a batch stream over the same snapshot builds it once.
 */

import { JameyError } from '../../runtime/errors.js';
import { defineTask } from '../../runtime/worker-task.js';
import { TextModel, type TextScore } from './text-model.js';

export interface ScoreBatchPayload {
  /** A `TextModel.snapshot()`. */
  model: SharedArrayBuffer;
  texts: string[];
  /** Also return each text's per-byte surprisal. @default false */
  perSymbol?: boolean;
}

export interface ScoredText extends TextScore {
  /** Surprisal in bits of each UTF-8 byte, when asked for. */
  symbols?: number[];
}

let cached: { buffer: SharedArrayBuffer; model: TextModel } | undefined;

function wrap(buffer: SharedArrayBuffer): TextModel {
  if (cached?.buffer === buffer) return cached.model;
  let model: TextModel;
  try {
    model = new TextModel(buffer, { readOnly: true });
  } catch (err) {
    throw new JameyError('JAMEY_ERR_VALIDATION', `model snapshot: ${(err as Error).message}`);
  }
  cached = { buffer, model };
  return model;
}

/**
 * A snapshot of a live model kept in a SharedArrayBuffer: the copy (16 MiB for the default global
 * model, some milliseconds) is made here instead of on the event loop. The owner does not learn
 * until the copy is back, so the snapshot is consistent.
 */
export const copyModel = defineTask(
  ({ model, into }: { model: SharedArrayBuffer; into?: SharedArrayBuffer }): SharedArrayBuffer => {
    if (!(model instanceof SharedArrayBuffer)) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'model must be a SharedArrayBuffer');
    }
    if (
      into !== undefined &&
      (!(into instanceof SharedArrayBuffer) || into.byteLength !== model.byteLength)
    ) {
      throw new JameyError('JAMEY_ERR_VALIDATION', "into must be a SharedArrayBuffer of the model's size");
    }
    // Into a retired snapshot when there is one: see the actor's snapshot buffers.
    const copy = into ?? new SharedArrayBuffer(model.byteLength);
    new Uint8Array(copy).set(new Uint8Array(model));
    return copy;
  },
);

/** Scores each text against the frozen snapshot, in order. */
export const scoreBatch = defineTask(({ model, texts, perSymbol }: ScoreBatchPayload): ScoredText[] => {
  if (!(model instanceof SharedArrayBuffer)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'model must be a SharedArrayBuffer snapshot');
  }
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'texts must be an array of strings');
  }
  const m = wrap(model);
  return texts.map((text) => {
    if (perSymbol !== true) return m.score(text);
    const bytes = new TextEncoder().encode(text);
    const symbols = new Float64Array(bytes.length);
    const r: ScoredText = m.score(bytes, symbols);
    r.symbols = Array.from(symbols);
    return r;
  });
});
