/** The memory system's vocabulary: layers, the memory record, and the limits on its fields. */

export const LAYERS = ['short-term', 'working', 'long-term', 'episodic', 'semantic'] as const;
export type Layer = (typeof LAYERS)[number];

export function isLayer(value: unknown): value is Layer {
  return typeof value === 'string' && (LAYERS as readonly string[]).includes(value);
}

/** Longest content accepted, in characters. */
export const MAX_CONTENT_CHARS = 32_768;
/** Longest entity id, model name or source. */
export const MAX_NAME_CHARS = 256;

/** Where a merged memory came from: kept when duplicates are merged into one. */
export interface ProvenanceEntry {
  id: string;
  source: string;
  createdAt: number;
  /** How it was merged: an exact duplicate (same hash) or a near duplicate (embedding similarity). */
  merge: 'exact' | 'near';
  similarity?: number;
}

export interface Memory {
  id: string;
  layer: Layer;
  entityId: string | null;
  content: string;
  contentHash: string;
  salience: number;
  provider: string | null;
  preferredModel: string | null;
  source: string;
  metadata: Record<string, unknown> | null;
  provenance: ProvenanceEntry[];
  createdAt: number;
  lastAccessedAt: number;
  accessCount: number;
  expiresAt: number | null;
  embeddingModel: string | null;
}

/** A row as stored, embedding included. */
export interface MemoryRecord extends Memory {
  embedding: Float32Array | null;
}
