/**
 * The OpenAI-compatible API: `POST /v1/chat/completions` (JSON, or SSE with `stream: true`),
 * `GET /v1/models`, `POST /v1/embeddings`. Request and response shapes are OpenAI's, so the official
 * SDKs work pointed at Jamey with `baseURL`. Jamey's additions: the entity whose memory is used
 * (`user`, or the `X-Jamey-Entity` header), the conversation to continue (`conversation_id`, or the
 * `X-Jamey-Conversation` header; the response names it in the same header), and a `jamey` object
 * in the response. A stream that breaks after its first chunk ends with an error event and no
 * `[DONE]`, so a client can never mistake it for a complete answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cacheModeOf } from '../../actors/cache/cache-control.js';
import { type Caller, type ChatCompletionBody, chatServiceOf } from '../../actors/context/chat.js';
import { CONVERSATION_ID } from '../../actors/context/conversations.js';
import type { ChatMessage } from '../../actors/llm/types.js';
import { MAX_NAME_CHARS } from '../../actors/memory/types.js';
import { JameyError, toJameyError } from '../../runtime/errors.js';
import { readJson } from '../body.js';
import { defineRoutes, type RequestContext } from '../route.js';
import { chatCompletionSchema, type EmbeddingsBody, embeddingsSchema } from '../schemas/chat.js';
import { bodyValidator } from '../validate.js';

const validateChat = bodyValidator<ChatCompletionBody>(
  chatCompletionSchema as unknown as Parameters<typeof bodyValidator<ChatCompletionBody>>[0],
);
const validateEmbeddings = bodyValidator<EmbeddingsBody>(embeddingsSchema);

interface WireMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | null | Array<{ type: string; text?: string; refusal?: string }>;
  name?: string;
  tool_calls?: ChatMessage['tool_calls'];
  tool_call_id?: string;
}

/** OpenAI's message variants as Jamey's: `developer` is a system message; text parts are joined. */
function normaliseMessages(messages: readonly WireMessage[]): ChatMessage[] {
  return messages.map((m, i) => {
    let content: string | null;
    if (Array.isArray(m.content)) {
      const texts: string[] = [];
      m.content.forEach((p, j) => {
        if (p.type === 'text' && typeof p.text === 'string') texts.push(p.text);
        else if (p.type === 'refusal' && typeof p.refusal === 'string') texts.push(p.refusal);
        else {
          throw new JameyError(
            'JAMEY_ERR_VALIDATION',
            `content parts of type "${p.type}" are not supported`,
            {
              details: [
                { path: `/messages/${i}/content/${j}/type`, problem: 'only "text" parts are supported' },
              ],
            },
          );
        }
      });
      content = texts.join('\n');
    } else {
      content = m.content ?? null;
    }
    if (content === null && (m.role !== 'assistant' || m.tool_calls === undefined)) {
      throw new JameyError('JAMEY_ERR_VALIDATION', `messages[${i}] has no content`, {
        details: [{ path: `/messages/${i}/content`, problem: 'is required for this role' }],
      });
    }
    if (m.role === 'tool' && m.tool_call_id === undefined) {
      throw new JameyError('JAMEY_ERR_VALIDATION', `messages[${i}] answers no tool call`, {
        details: [{ path: `/messages/${i}/tool_call_id`, problem: 'is required for role "tool"' }],
      });
    }
    const out: { -readonly [K in keyof ChatMessage]: ChatMessage[K] } = {
      role: m.role === 'developer' ? 'system' : m.role,
      content,
    };
    if (m.name !== undefined) out.name = m.name;
    if (m.tool_calls !== undefined) out.tool_calls = m.tool_calls;
    if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
    return out;
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function callerOf(
  ctx: RequestContext,
  body: { user?: string | null; conversation_id?: string },
  signal: AbortSignal,
): Caller {
  const entity = body.user ?? header(ctx.req, 'x-jamey-entity') ?? null;
  if (entity !== null && entity.length > MAX_NAME_CHARS) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'the entity name is too long', {
      details: [{ path: '/user', problem: `must be at most ${MAX_NAME_CHARS} characters` }],
    });
  }
  const conversation = body.conversation_id ?? header(ctx.req, 'x-jamey-conversation') ?? null;
  if (conversation !== null && !CONVERSATION_ID.test(conversation)) {
    throw new JameyError('JAMEY_ERR_VALIDATION', 'not a conversation id', {
      details: [{ path: '/conversation_id', problem: 'must look like conv_…' }],
    });
  }
  const h = ctx.req.headers;
  return {
    keyId: ctx.principal.keyId,
    tenant: ctx.principal.tenant,
    entityId: entity,
    conversationId: conversation,
    signal,
    ...(h['cache-control'] === undefined && h.pragma === undefined ? {} : { cacheMode: cacheModeOf(h) }),
  };
}

/** Aborted when the client goes away before the response is complete. */
function clientGone(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished)
      ac.abort(new JameyError('JAMEY_ERR_ABORTED', 'the client closed the connection'));
  });
  return ac.signal;
}

function write(res: ServerResponse, text: string): Promise<void> | undefined {
  if (res.write(text)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function streamChat(ctx: RequestContext, body: ChatCompletionBody, caller: Caller): Promise<void> {
  const { res } = ctx;
  const opened = await chatServiceOf(ctx.runtime).openStream(body, caller);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
    'X-Jamey-Conversation': opened.conversationId,
  });
  try {
    for await (const chunk of opened.chunks) {
      if (res.destroyed) return;
      const wait = write(res, `data: ${JSON.stringify(chunk)}\n\n`);
      if (wait !== undefined) await wait;
    }
    res.end('data: [DONE]\n\n');
  } catch (err) {
    const e = toJameyError(err);
    ctx.runtime.log.warn('chat stream broke', { requestId: ctx.requestId, code: e.code, message: e.message });
    if (!res.destroyed) {
      // OpenAI's clients raise an error on an event that carries `error`; no [DONE] follows.
      const error = { ...e.toJSON(), type: 'upstream_error' };
      res.end(`event: error\ndata: ${JSON.stringify({ error })}\n\n`);
    }
  }
}

export default defineRoutes([
  {
    method: 'POST',
    path: '/v1/chat/completions',
    body: chatCompletionSchema,
    scope: 'chat',
    handler: async (ctx) => {
      const raw = validateChat(await readJson(ctx.req)) as ChatCompletionBody & { messages: WireMessage[] };
      const body: ChatCompletionBody = { ...raw, messages: normaliseMessages(raw.messages) };
      const caller = callerOf(ctx, body, clientGone(ctx.res));
      if (body.stream === true) {
        await streamChat(ctx, body, caller);
        return undefined;
      }
      const out = await chatServiceOf(ctx.runtime).complete(body, caller);
      const res = ctx.res;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Content-Length', Buffer.byteLength(out.json));
      res.setHeader('X-Cache', out.cached ? 'HIT' : 'MISS');
      if (out.conversationId !== null) res.setHeader('X-Jamey-Conversation', out.conversationId);
      res.end(out.json);
      return undefined;
    },
  },
  {
    method: 'GET',
    path: '/v1/models',
    scope: 'chat',
    handler: async ({ runtime }) => {
      const { models, status } = await chatServiceOf(runtime).models();
      return {
        object: 'list',
        data: models.map((m) => {
          const s = status.find((x) => x.id === m.id);
          return {
            id: m.id,
            object: 'model',
            created: 0,
            owned_by: m.provider,
            jamey: {
              provider: m.provider,
              kind: m.kind,
              contextTokens: m.contextTokens,
              maxOutputTokens: m.maxOutputTokens,
              pricePerMTokIn: m.pricePerMTokIn,
              pricePerMTokOut: m.pricePerMTokOut,
              capabilities: [...m.capabilities],
              breaker: s?.state ?? 'closed',
            },
          };
        }),
      };
    },
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    body: embeddingsSchema,
    scope: 'chat',
    handler: async (ctx) => {
      const body = validateEmbeddings(await readJson(ctx.req));
      const texts = typeof body.input === 'string' ? [body.input] : body.input;
      const out = await chatServiceOf(ctx.runtime).embed(
        { model: body.model ?? undefined, texts, dimensions: body.dimensions ?? undefined },
        callerOf(ctx, { ...(body.user == null ? {} : { user: body.user }) }, clientGone(ctx.res)),
      );
      const base64 = body.encoding_format === 'base64';
      return {
        object: 'list',
        data: out.vectors.map((v, index) => ({
          object: 'embedding',
          index,
          // base64: the little-endian float32 bytes, as OpenAI sends them (and its SDKs ask by default).
          embedding: base64 ? Buffer.from(Float32Array.from(v).buffer).toString('base64') : v,
        })),
        model: out.model.id,
        usage: { prompt_tokens: out.promptTokens, total_tokens: out.promptTokens },
      };
    },
  },
]);
