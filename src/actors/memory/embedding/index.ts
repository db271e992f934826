export type { BuiltinEmbedderOptions, BuiltinEmbedderWeights } from './builtin.js';
export {
  americanSpelling,
  BUILTIN_EMBEDDER_ID,
  BuiltinEmbedder,
  DEFAULT_BUILTIN_WEIGHTS,
  ENGLISH_STOP_WORDS,
  hashString,
  SEMANTIC_DIMS,
  tokenize,
} from './builtin.js';
export type { EmbeddingCacheStats } from './cache.js';
export { EmbeddingCache, textKey, withEmbeddingCache } from './cache.js';
export type { OllamaEmbedderOptions } from './ollama.js';
export { OllamaEmbedder } from './ollama.js';
export type { OpenAIEmbedderOptions } from './openai.js';
export { OpenAIEmbedder } from './openai.js';
export type { EmbeddingProvider } from './provider.js';
export { cosine, l2Normalise } from './provider.js';
export type { RemoteEmbedderOptions, UpstreamErrorDetails } from './remote.js';
export { RemoteEmbedder } from './remote.js';
export type { WordVectors } from './word-vectors.js';
export {
  DEFAULT_WORD_VECTORS_FILE,
  defaultWordVectorsPath,
  loadWordVectors,
  packageRoot,
  parseWordVectors,
  WORD_VECTORS_MAGIC,
  WORD_VECTORS_VERSION,
} from './word-vectors.js';
