/**
 * Client for Ollama's embedding endpoint: POST {baseUrl}/api/embed with {model, input: string[]},
 * answer {embeddings: number[][]} (Ollama API docs, "Generate Embeddings"; the older /api/embeddings
 * takes one prompt per call and is not used).
 */
import type { RemoteEmbedderOptions } from './remote.js';
import { RemoteEmbedder } from './remote.js';

export interface OllamaEmbedderOptions extends RemoteEmbedderOptions {
  /** How long Ollama keeps the model loaded after the call, e.g. "5m". */
  readonly keepAlive?: string;
}

export class OllamaEmbedder extends RemoteEmbedder {
  readonly #keepAlive: string | undefined;

  constructor(options: OllamaEmbedderOptions) {
    super('ollama', '/api/embed', options);
    this.#keepAlive = options.keepAlive;
  }

  protected requestBody(texts: string[]): unknown {
    return {
      model: this.model,
      input: texts,
      ...(this.#keepAlive === undefined ? {} : { keep_alive: this.#keepAlive }),
    };
  }

  protected parseVectors(body: unknown, expected: number): unknown[] | undefined {
    const embeddings = (body as { embeddings?: unknown } | null)?.embeddings;
    return Array.isArray(embeddings) && embeddings.length === expected ? embeddings : undefined;
  }
}
