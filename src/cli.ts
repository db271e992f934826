#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
/**
 * The `jamey` command.
 *
 *   jamey serve                      run the service (same as `npm start`)
 *   jamey keys create --name N --scopes chat,memory:read [--rps R --burst B] [--expires-days D]
 *   jamey keys list
 *   jamey keys rotate <id> [--grace-days D]
 *   jamey keys revoke <id>
 *   jamey backup <file>              online backup of the database, progress on stderr
 *   jamey restore <file>             replace the database with a backup (stop the service first)
 *   jamey maintain [tasks]           prune, optimize, incremental-vacuum, checkpoint (default: all)
 *   jamey memory import <file.jsonl> memories from JSON lines ({layer, content, entityId?, …}), progress on stderr
 *   jamey memory export              every memory as JSON lines on stdout
 *   jamey memory add --layer L [--entity E] [--salience S] <text…>   store one memory, print it
 *   jamey memory search [--entity E] [--limit N] <query…>           [{id, content, layer, entityId, score}]
 *   jamey phi <file.json>            Φ of a network ({tpm, cm?, state, nodes?}, the body of POST /v1/phi)
 *   jamey predict [--entity E] [--no-learn] [text…]   surprise of a text (stdin when no text is given)
 *   jamey chat [--model M] [--user U] [--url URL --key KEY]   a conversation, one line per message
 *   jamey bench [suites]             the benchmarks (a source checkout only), e.g. jamey bench actor,ask
 *   jamey config check [--config F]  the effective configuration as JSON (secrets masked), or every problem
 *
 * Memory commands, predict and chat (without --url) open the whole runtime on the data folder: run
 * them while the service is stopped (a running service loads its vector index and its predictive
 * models at start and would not see what they add until a restart; use the HTTP API, or chat --url,
 * for a running one). phi needs no data folder: it computes in this process's worker pool.
 *
 * Key commands work on the data folder (`JAMEY_DATA_DIR`, default ./data) directly, through the
 * same store and security layer as the service; they are safe while the service runs (SQLite
 * serialises the two writers). A running service notices a revocation within its key-cache
 * lifetime (60 s); revoke through `DELETE /v1/keys/:id` for an immediate effect. Wrong usage prints
 * one line and exits with status 2.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { request } from 'undici';
import {
  createIntegratedInfoActor,
  INTEGRATED_INFO,
  type IntegratedInfoMessage,
} from './actors/integrated-info/actor.js';
import type { PhiOutcome } from './actors/integrated-info/phi-service.js';
import { LAYERS, type Layer } from './actors/memory/types.js';
import {
  SCOPES,
  type Scope,
  SecurityClient,
  SecurityLayer,
  securityActorSpec,
  securityWriters,
} from './actors/security/index.js';
import { MAINTENANCE_TASKS, type MaintenanceTask, Store } from './actors/store/store.js';
import { checkConfig } from './config-report.js';
import { parsePhiBody } from './http/routes/phi.js';
import { createJamey, DATABASE_FILE, type Jamey } from './jamey.js';
import { isJameyError } from './runtime/errors.js';
import { optionsFromEnv } from './runtime/options.js';
import { createRuntime } from './runtime/runtime.js';

class UsageError extends Error {}

const USAGE = `usage: jamey serve [--config FILE] [--host HOST] [--port N] [--data-dir DIR] [--log-level LEVEL] [--socket PATH] | jamey keys create --name NAME --scopes ${SCOPES.join(',')} [--rps N --burst N] [--expires-days N] | jamey keys list | jamey keys rotate ID [--grace-days N] | jamey keys revoke ID | jamey backup FILE | jamey restore FILE | jamey maintain [${MAINTENANCE_TASKS.join(',')}] | jamey memory import FILE.jsonl | jamey memory export | jamey memory add --layer ${LAYERS.join('|')} [--entity E] [--salience S] TEXT… | jamey memory search [--entity E] [--limit N] QUERY… | jamey phi FILE.json | jamey predict [--entity E] [--no-learn] [TEXT…] | jamey chat [--model M] [--user U] [--url URL --key KEY] | jamey bench [SUITES] | jamey config check [--config FILE]`;

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, got "${raw}"`);
  return n;
}

async function withKeys<T>(run: (keys: SecurityClient) => Promise<T>): Promise<T> {
  const runtime = createRuntime(
    { ...optionsFromEnv(process.env), logLevel: 'error' },
    { defaultMetrics: false },
  );
  mkdirSync(runtime.options.dataDir, { recursive: true });
  const store = new Store({
    file: join(runtime.options.dataDir, DATABASE_FILE),
    writers: { security: securityWriters },
    maintenanceIntervalMs: 0,
  });
  store.register(runtime);
  const layer = new SecurityLayer({ store, clock: runtime.clock, log: runtime.log });
  const keys = new SecurityClient(runtime.spawn(securityActorSpec(layer)));
  await runtime.start();
  try {
    return await run(keys);
  } finally {
    await runtime.close();
  }
}

/** The store of the data folder, opened for one command (the service may be running). */
async function withStore<T>(run: (store: Store) => Promise<T>): Promise<T> {
  const runtime = createRuntime(
    { ...optionsFromEnv(process.env), logLevel: 'error' },
    { defaultMetrics: false },
  );
  mkdirSync(runtime.options.dataDir, { recursive: true });
  const store = new Store({ file: join(runtime.options.dataDir, DATABASE_FILE), maintenanceIntervalMs: 0 });
  store.register(runtime);
  await runtime.start();
  try {
    return await run(store);
  } finally {
    await runtime.close();
  }
}

/** One progress line per tenth of the work, on stderr (stdout carries the result). */
function progressReporter(what: string): (done: number, total: number) => void {
  let lastTenth = -1;
  return (done, total) => {
    const tenth = total <= 0 ? 10 : Math.floor((done / total) * 10);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    process.stderr.write(`${what}: ${Math.min(100, tenth * 10)}% (${done}/${total} pages)\n`);
  };
}

async function storeCommand(command: 'backup' | 'restore' | 'maintain', args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  if (command === 'maintain') {
    const tasks = (positionals[0] ?? MAINTENANCE_TASKS.join(',')).split(',').map((t) => t.trim());
    const bad = tasks.filter((t) => !(MAINTENANCE_TASKS as readonly string[]).includes(t));
    if (bad.length > 0)
      throw new UsageError(`unknown maintenance task "${bad[0]}" (tasks: ${MAINTENANCE_TASKS.join(', ')})`);
    const report = await withStore(async (store) => {
      const out = [];
      // One task at a time, so each shows as it ends.
      for (const task of tasks as MaintenanceTask[]) {
        process.stderr.write(`maintain: ${task}…\n`);
        out.push({ task, ...(await store.maintain([task])) });
      }
      return out;
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const file = positionals[0];
  if (file === undefined) throw new UsageError(`${command} needs a file`);
  if (command === 'backup') {
    const report = progressReporter('backup');
    const result = await withStore((store) =>
      store.backup(file, (p) => report(p.totalPages - p.remainingPages, p.totalPages)),
    );
    report(result.totalPages, result.totalPages);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stderr.write(`restore: checking ${file}…\n`);
  const result = await withStore((store) => store.restore(file));
  process.stderr.write('restore: done\n');
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** parseArgs whose every complaint is a usage error (one line, status 2). */
function parse<O extends ParseArgsConfig['options']>(
  args: string[],
  options: O,
): {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
} {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The whole runtime on the data folder for one command, with no provider besides the local one. */
async function withJamey<T>(run: (jamey: Jamey) => Promise<T>): Promise<T> {
  const jamey = createJamey({ ...optionsFromEnv(process.env), logLevel: 'error' }, { llm: { env: {} } });
  await jamey.start();
  try {
    return await run(jamey);
  } finally {
    await jamey.close();
  }
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function memoryAdd(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    layer: { type: 'string' },
    entity: { type: 'string' },
    salience: { type: 'string' },
  });
  if (values.layer === undefined) throw new UsageError(`memory add needs --layer (${LAYERS.join(', ')})`);
  if (!(LAYERS as readonly string[]).includes(values.layer))
    throw new UsageError(`unknown layer "${values.layer}" (layers: ${LAYERS.join(', ')})`);
  const text = positionals.join(' ');
  if (text.trim() === '') throw new UsageError('memory add needs the text to remember');
  let salience: number | undefined;
  if (values.salience !== undefined) {
    salience = Number(values.salience);
    if (values.salience.trim() === '' || !Number.isFinite(salience))
      throw new UsageError(`--salience must be a number, got "${values.salience}"`);
  }
  const stored = await withJamey((j) =>
    j.memory.store(values.layer as Layer, text, {
      source: 'cli',
      ...(values.entity === undefined ? {} : { entityId: values.entity }),
      ...(salience === undefined ? {} : { salience }),
    }),
  );
  printJson(stored);
}

async function memorySearch(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { entity: { type: 'string' }, limit: { type: 'string' } });
  const query = positionals.join(' ');
  if (query.trim() === '') throw new UsageError('memory search needs a query');
  const limit = positive('limit', values.limit);
  if (limit !== undefined && !Number.isInteger(limit))
    throw new UsageError(`--limit must be a whole number, got "${values.limit}"`);
  const hits = await withJamey((j) =>
    j.memory.recall({
      query,
      ...(values.entity === undefined ? {} : { entityId: values.entity }),
      ...(limit === undefined ? {} : { limit }),
    }),
  );
  printJson(
    hits.map((h) => ({ id: h.id, content: h.content, layer: h.layer, entityId: h.entityId, score: h.score })),
  );
}

/** One line for a coded error, its details included (a validation error names every field). */
function oneLine(err: unknown): string {
  if (!isJameyError(err)) return err instanceof Error ? err.message : String(err);
  const details = (err as { details?: unknown }).details;
  const problems = Array.isArray(details)
    ? details
        .map((d) =>
          typeof d === 'object' && d !== null && 'problem' in d
            ? `${(d as { path: string }).path || 'body'} ${(d as { problem: string }).problem}`
            : String(d),
        )
        .join('; ')
    : '';
  return `${err.message}${problems === '' || problems === err.message ? '' : ` (${problems})`} (${err.code})`;
}

async function phiCommand(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError('phi needs a network file (JSON: {tpm, cm?, state, nodes?})');
  if (extra.length > 0) throw new UsageError('too many arguments');
  let body: unknown;
  try {
    body = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`phi: ${file}: ${(err as Error).message}`);
  }
  let parsed: ReturnType<typeof parsePhiBody>;
  try {
    parsed = parsePhiBody(body);
  } catch (err) {
    throw new Error(`phi: ${file}: ${oneLine(err)}`);
  }
  const runtime = createRuntime(
    { ...optionsFromEnv(process.env), logLevel: 'error' },
    { defaultMetrics: false },
  );
  runtime.spawn(createIntegratedInfoActor(runtime));
  await runtime.start();
  try {
    // Asked as POST /v1/phi asks it, so the network is checked and computed by the same code.
    const r = await runtime
      .actor<IntegratedInfoMessage, PhiOutcome>(INTEGRATED_INFO)
      .ask(
        { type: 'phi', input: parsed.input, complex: parsed.complex, deadlineMs: parsed.deadlineMs },
        { deadlineMs: parsed.deadlineMs + 1_000 },
      )
      .catch((err: unknown) => {
        throw new Error(`phi: ${file}: ${oneLine(err)}`);
      });
    printJson({ phi: r.phi, cut: r.cut, concepts: r.concepts, nodes: r.nodes, elapsedMs: r.elapsedMs });
  } finally {
    await runtime.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function predictCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    entity: { type: 'string' },
    'no-learn': { type: 'boolean' },
  });
  let text = positionals.join(' ');
  if (positionals.length === 0) {
    if (process.stdin.isTTY) throw new UsageError('predict needs a text (arguments or stdin)');
    text = (await readStdin()).replace(/\r?\n$/, '');
  }
  if (text === '') throw new UsageError('predict needs a non-empty text');
  const result = await withJamey((j) =>
    j.predictive.score({
      text,
      ...(values.entity === undefined ? {} : { entity: values.entity }),
      ...(values['no-learn'] === true ? { learn: false } : {}),
    }),
  );
  printJson(result);
}

interface Turn {
  answer: string;
  conversationId: string | null;
}

type Ask = (line: string, conversationId: string | null) => Promise<Turn>;

function answerOf(json: string): string {
  const body = JSON.parse(json) as { choices?: { message?: { content?: string | null } }[] };
  return body.choices?.[0]?.message?.content ?? '';
}

function httpAsk(url: string, key: string, model: string, user: string | undefined): Ask {
  const endpoint = `${url.replace(/\/+$/, '')}/v1/chat/completions`;
  return async (line, conversationId) => {
    const res = await request(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(conversationId === null ? {} : { 'x-jamey-conversation': conversationId }),
      },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: line }],
        ...(user === undefined ? {} : { user }),
      }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let message = text;
      try {
        const e = (JSON.parse(text) as { error?: { message?: string; code?: string } }).error;
        if (e?.message !== undefined) message = `${e.message}${e.code === undefined ? '' : ` (${e.code})`}`;
      } catch {}
      throw new Error(`chat: ${res.statusCode} ${message.split('\n')[0]}`);
    }
    const header = res.headers['x-jamey-conversation'];
    return {
      answer: answerOf(text),
      conversationId: (Array.isArray(header) ? header[0] : header) ?? conversationId,
    };
  };
}

async function chatCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    model: { type: 'string' },
    user: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError('chat takes no arguments: it reads messages from stdin');
  if ((values.url === undefined) !== (values.key === undefined))
    throw new UsageError('--url and --key go together');
  const model = values.model ?? 'jamey-local';
  const user = values.user;
  const converse = async (ask: Ask): Promise<void> => {
    const tty = process.stdin.isTTY === true;
    const lines = createInterface({
      input: process.stdin,
      ...(tty ? { output: process.stdout, prompt: '> ' } : {}),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let conversationId: string | null = null;
    if (tty) lines.prompt();
    for await (const line of lines) {
      if (line.trim() !== '') {
        const turn = await ask(line, conversationId);
        conversationId = turn.conversationId;
        process.stdout.write(`${turn.answer}\n`);
      }
      if (tty) lines.prompt();
    }
    if (tty) process.stdout.write('\n');
  };
  if (values.url !== undefined && values.key !== undefined)
    return converse(httpAsk(values.url, values.key, model, user));
  await withJamey((j) =>
    converse(async (line, conversationId) => {
      const out = await j.chat.complete(
        { model, messages: [{ role: 'user', content: line }], ...(user === undefined ? {} : { user }) },
        { keyId: null, tenant: 'cli', entityId: user ?? null, conversationId },
      );
      return { answer: answerOf(out.json), conversationId: out.conversationId ?? conversationId };
    }),
  );
}

async function benchCommand(args: string[]): Promise<void> {
  const { positionals } = parse(args, {});
  if (positionals.length > 1) throw new UsageError('bench takes one comma-separated list of suites');
  const runner = fileURLToPath(new URL('../bench/run.js', import.meta.url));
  if (!existsSync(runner))
    throw new UsageError('benchmarks run from a source checkout (npm run build there, then jamey bench)');
  const suites = positionals[0];
  const child = spawn(process.execPath, [runner, ...(suites === undefined ? [] : ['--only', suites])], {
    stdio: 'inherit',
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  process.exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
}

async function memoryCommand(args: string[]): Promise<void> {
  const [sub, file, ...extra] = args;
  if (sub === 'add') return memoryAdd(args.slice(1));
  if (sub === 'search') return memorySearch(args.slice(1));
  if (sub !== 'import' && sub !== 'export') {
    throw new UsageError(
      sub === undefined
        ? 'memory needs a command: import, export, add or search'
        : `unknown memory command "${sub}"`,
    );
  }
  if (sub === 'import' && file === undefined) throw new UsageError('memory import needs a JSON-lines file');
  if (extra.length > 0 || (sub === 'export' && file !== undefined))
    throw new UsageError('too many arguments');
  const jamey = createJamey({ ...optionsFromEnv(process.env), logLevel: 'error' }, { llm: { env: {} } });
  await jamey.start();
  try {
    if (sub === 'export') {
      let cursor: string | undefined;
      let n = 0;
      for (;;) {
        const page = await jamey.memory.list({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
        for (const m of page.data) {
          if (!process.stdout.write(`${JSON.stringify(m)}\n`)) await once(process.stdout, 'drain');
          n++;
        }
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      process.stderr.write(`export: ${n} memories\n`);
      return;
    }
    // Streamed line by line: a file of any size, at most one memory in flight per line read.
    const lines = createInterface({
      input: createReadStream(file as string),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let line = 0;
    let stored = 0;
    let merged = 0;
    const started = performance.now();
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch {
        throw new UsageError(`line ${line} of ${file} is not JSON`);
      }
      try {
        // The fields a memory is made from; an export's own (id, times, embedding…) are not taken.
        const o = input as Record<string, unknown>;
        const m = await jamey.memory.store(o['layer'] as never, o['content'] as string, {
          source: 'import',
          ...(o['entityId'] == null ? {} : { entityId: o['entityId'] as string }),
          ...(o['preferredModel'] == null ? {} : { preferredModel: o['preferredModel'] as string }),
          ...(o['provider'] == null ? {} : { provider: o['provider'] as string }),
          ...(o['salience'] == null ? {} : { salience: o['salience'] as number }),
          ...(o['metadata'] == null ? {} : { metadata: o['metadata'] as Record<string, unknown> }),
        });
        if (m.merged === undefined) stored++;
        else merged++;
      } catch (err) {
        throw new Error(`line ${line}: ${(err as Error).message}`);
      }
      if (line % 1000 === 0) {
        const rate = Math.round(line / ((performance.now() - started) / 1000));
        process.stderr.write(`import: ${line} lines (${stored} stored, ${merged} merged, ${rate}/s)\n`);
      }
    }
    process.stderr.write(`import: done, ${line} lines (${stored} stored, ${merged} merged)\n`);
    process.stdout.write(`${JSON.stringify({ lines: line, stored, merged })}\n`);
  } finally {
    await jamey.close();
  }
}

/** Problems go to stderr, counted on the first line, and exit with status 2 like other bad usage. */
function configCommand(args: string[]): void {
  const [sub, ...rest] = args;
  if (sub !== 'check')
    throw new UsageError(
      sub === undefined ? 'config needs a command: check' : `unknown config command "${sub}"`,
    );
  let values: { config?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: { config: { type: 'string' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const report = checkConfig({
    env: process.env,
    ...(values.config === undefined ? {} : { configFile: values.config }),
  });
  if (report.problems.length > 0) {
    const n = report.problems.length;
    process.stderr.write(
      `jamey: config check: ${n} problem${n === 1 ? '' : 's'}\n${report.problems.map((p) => `  ${p}\n`).join('')}`,
    );
    process.exitCode = 2;
    return;
  }
  for (const w of report.warnings) process.stderr.write(`jamey: config check: warning: ${w}\n`);
  process.stdout.write(`${JSON.stringify(report.effective, null, 2)}\n`);
}

async function keysCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      rps: { type: 'string' },
      burst: { type: 'string' },
      'expires-days': { type: 'string' },
      'grace-days': { type: 'string' },
    },
  });
  const by = 'cli';
  switch (sub) {
    case 'create': {
      if (values.name === undefined) throw new UsageError('keys create needs --name');
      if (values.scopes === undefined)
        throw new UsageError(`keys create needs --scopes (any of ${SCOPES.join(', ')})`);
      const scopes = values.scopes.split(',').map((s) => s.trim());
      const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (bad.length > 0) throw new UsageError(`unknown scope "${bad[0]}" (scopes: ${SCOPES.join(', ')})`);
      const rps = positive('rps', values.rps);
      const burst = positive('burst', values.burst);
      if ((rps === undefined) !== (burst === undefined))
        throw new UsageError('--rps and --burst go together');
      const days = positive('expires-days', values['expires-days']);
      const created = await withKeys((k) =>
        k.createKey(
          {
            name: values.name as string,
            scopes: scopes as Scope[],
            ...(rps === undefined || burst === undefined
              ? {}
              : { rateLimit: { rps, burst: Math.round(burst) } }),
            ...(days === undefined ? {} : { expiresInMs: Math.round(days * 86_400_000) }),
          },
          by,
        ),
      );
      process.stdout.write(`${JSON.stringify({ ...created.key, key: created.token }, null, 2)}\n`);
      process.stderr.write('The key is shown once; store it now.\n');
      return;
    }
    case 'list': {
      const list = await withKeys((k) => k.listKeys());
      process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return;
    }
    case 'rotate': {
      const id = positionals[0];
      if (id === undefined) throw new UsageError('keys rotate needs the key id');
      const days = positive('grace-days', values['grace-days']);
      const rotated = await withKeys((k) =>
        k.rotateKey(id, { by, ...(days === undefined ? {} : { graceMs: Math.round(days * 86_400_000) }) }),
      );
      process.stdout.write(
        `${JSON.stringify({ ...rotated.key, key: rotated.token, replaces: rotated.old.id }, null, 2)}\n`,
      );
      return;
    }
    case 'revoke': {
      const id = positionals[0];
      if (id === undefined) throw new UsageError('keys revoke needs the key id');
      const revoked = await withKeys((k) => k.revokeKey(id, by));
      process.stdout.write(`${JSON.stringify(revoked, null, 2)}\n`);
      return;
    }
    default:
      throw new UsageError(
        sub === undefined
          ? 'keys needs a command: create, list, rotate or revoke'
          : `unknown keys command "${sub}"`,
      );
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // `jamey <command> … --help`: the usage lines of that command.
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    const forms = USAGE.replace(/^usage: /, '')
      .split(' | ')
      .filter((f) => f === `jamey ${command}` || f.startsWith(`jamey ${command} `));
    if (forms.length === 0) throw new UsageError(`unknown command "${command}"`);
    process.stdout.write(`usage:\n${forms.map((f) => `  ${f}`).join('\n')}\n`);
    return;
  }
  if (command === undefined || command === 'serve') {
    await import('./main.js');
    return;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === 'keys') return keysCommand(rest);
  if (command === 'memory') return memoryCommand(rest);
  if (command === 'config') return configCommand(rest);
  if (command === 'phi') return phiCommand(rest);
  if (command === 'predict') return predictCommand(rest);
  if (command === 'chat') return chatCommand(rest);
  if (command === 'bench') return benchCommand(rest);
  if (command === 'backup' || command === 'restore' || command === 'maintain')
    return storeCommand(command, rest);
  throw new UsageError(`unknown command "${command}"`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string })?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`jamey: ${(err as Error).message} (jamey --help for usage)\n`);
    process.exit(2);
  }
  process.stderr.write(
    `jamey: ${isJameyError(err) ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
