/**
 * Client for OpenAI-compatible embedding endpoints: POST {baseUrl}/v1/embeddings with
 * {model, input: string[]}, answer {data: [{index, embedding}]} (OpenAI API reference, "Create
 * embeddings"; also served by vLLM, llama.cpp server, LM Studio, LocalAI). A baseUrl already ending in
 * /v1 is not doubled.
 */
import type { RemoteEmbedderOptions } from './remote.js';
import { RemoteEmbedder } from './remote.js';

export interface OpenAIEmbedderOptions extends RemoteEmbedderOptions {
  /** Sent as "Authorization: Bearer <apiKey>". */
  readonly apiKey?: string;
  /** Asks models that support it (text-embedding-3-*) to shorten vectors to `dimensions`. */
  readonly requestDimensions?: boolean;
}

export class OpenAIEmbedder extends RemoteEmbedder {
  readonly #apiKey: string | undefined;
  readonly #requestDimensions: boolean;

  constructor(options: OpenAIEmbedderOptions) {
    const v1 = /\/v1\/?$/.test(new URL(options.baseUrl, 'http://invalid').pathname);
    super('openai', v1 ? '/embeddings' : '/v1/embeddings', options);
    this.#apiKey = options.apiKey;
    this.#requestDimensions = options.requestDimensions ?? false;
  }

  protected override headers(): Record<string, string> {
    return this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` };
  }

  protected requestBody(texts: string[]): unknown {
    return {
      model: this.model,
      input: texts,
      encoding_format: 'float',
      ...(this.#requestDimensions ? { dimensions: this.dimensions } : {}),
    };
  }

  protected parseVectors(body: unknown, expected: number): unknown[] | undefined {
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length !== expected) return undefined;
    const out = new Array<unknown>(expected);
    data.forEach((item: { index?: unknown; embedding?: unknown }, i) => {
      // `index` gives the input position; fall back to array order when a server omits it.
      const at = Number.isInteger(item?.index) ? (item.index as number) : i;
      if (at >= 0 && at < expected) out[at] = item?.embedding;
    });
    return out.includes(undefined) ? undefined : out;
  }
}
