/**
 * Keeps docs/configuration.md in step with the code: an option, a default, an environment variable
 * or a config-file key added without documentation fails here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CHAT_OPTIONS } from '../src/actors/context/chat.js';
import { DEFAULT_CONTEXT_OPTIONS } from '../src/actors/context/context.js';
import { PROVIDER_KINDS } from '../src/actors/llm/config.js';
import { DEFAULT_BREAKER_OPTIONS } from '../src/actors/router/breaker.js';
import { DEFAULT_SCORE_WEIGHTS } from '../src/actors/router/score.js';
import { CONFIG_KEYS, CONFIG_LLM_KEYS } from '../src/config-file.js';
import { defaultOptions, ENV_OPTIONS } from '../src/runtime/options.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
const compiled = join(root, 'dist', 'src');

/** `{ a: { b: 1 } }` → [['a.b', 1]]. */
function flatten(o: object, prefix = ''): [string, unknown][] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? flatten(v as object, `${prefix}${k}.`)
      : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

/** Table rows of the doc whose first cell is a backticked name: name → the other cells. */
function rows(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([^`]+)` \|(.*)\|\s*$/.exec(line);
    if (m)
      out.set(
        m[1] as string,
        (m[2] as string).split(' | ').map((c) => c.trim()),
      );
  }
  return out;
}

/** The section of the doc under the heading `title`, up to the next heading of that level. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}`);
  assert.ok(start >= 0, `docs/configuration.md has a "## ${title}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/** Every environment variable the compiled service reads by name. */
function variablesInCode(): Set<string> {
  const names = new Set<string>();
  for (const file of jsFiles(compiled)) {
    // Comment lines are left out: they mention variables as examples (e.g. what a detector looks for).
    const js = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
      .join('\n');
    for (const m of js.matchAll(/\bJAMEY_[A-Z][A-Z0-9_]*/g))
      if (!m[0].startsWith('JAMEY_ERR_')) names.add(m[0]);
    for (const m of js.matchAll(/\benv\[['"`]([A-Z][A-Z0-9_]*)['"`]\]/g)) names.add(m[1] as string);
    for (const m of js.matchAll(/\bprocess\.env\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1] as string);
  }
  // The model-list variables are built from the provider kind (`JAMEY_${KIND}_MODELS`).
  const templated = jsFiles(compiled).some((f) => readFileSync(f, 'utf8').includes('`JAMEY_${'));
  if (templated)
    for (const k of PROVIDER_KINDS) if (k !== 'local') names.add(`JAMEY_${k.toUpperCase()}_MODELS`);
  return names;
}

test('every runtime option is documented with its default', () => {
  const table = rows(section('Runtime options'));
  const flat = flatten(defaultOptions());
  assert.ok(flat.length > 20, 'the defaults are flattened');
  for (const [key, value] of flat) {
    const cells = table.get(key);
    assert.ok(cells, `runtime option "${key}" is in the runtime options table`);
    // The one default that depends on the machine is documented by its formula.
    if (key === 'pool.maxThreads') continue;
    assert.ok(cells[1]?.includes(`\`${String(value)}\``), `"${key}" documents its default ${String(value)}`);
  }
  for (const key of table.keys()) {
    assert.ok(
      flat.some(([k]) => k === key),
      `documented runtime option "${key}" exists`,
    );
  }
});

test('the LLM option groups and the config file keys are documented with their defaults', () => {
  const table = rows(doc);
  const groups: [string, object][] = [
    ['llm.chat', DEFAULT_CHAT_OPTIONS],
    ['llm.context', DEFAULT_CONTEXT_OPTIONS],
    ['llm.router.breaker', DEFAULT_BREAKER_OPTIONS],
    ['llm.router.weights', DEFAULT_SCORE_WEIGHTS],
  ];
  for (const [prefix, defaults] of groups) {
    for (const [key, value] of flatten(defaults, `${prefix}.`)) {
      const cells = table.get(key);
      assert.ok(cells, `"${key}" is documented`);
      assert.ok(cells[1]?.includes(String(value)), `"${key}" documents its default ${String(value)}`);
    }
  }
  for (const key of CONFIG_KEYS) assert.ok(table.has(key), `config file key "${key}" is documented`);
  for (const key of CONFIG_LLM_KEYS)
    assert.ok(table.has(`llm.${key}`), `config file key "llm.${key}" is documented`);
});

test("every group of createJamey's options is documented", () => {
  const source = readFileSync(join(root, 'src', 'jamey.ts'), 'utf8');
  const body = /export interface JameyOptions \{([\s\S]*?)\n\}/.exec(source)?.[1];
  assert.ok(body, 'JameyOptions is found');
  const fields = [...body.matchAll(/^ {2}(?:readonly )?(\w+)\??:/gm)].map((m) => m[1] as string);
  assert.ok(fields.length >= 9, `fields found: ${fields.join(', ')}`);
  const table = rows(section('Subsystem option groups'));
  for (const f of fields) assert.ok(table.has(f), `createJamey option group "${f}" is documented`);
  for (const f of table.keys()) assert.ok(fields.includes(f), `documented group "${f}" exists`);
});

test('the environment variables in the code and in the doc are the same', () => {
  const inCode = variablesInCode();
  for (const v of Object.keys(ENV_OPTIONS)) assert.ok(inCode.has(v), `${v} is found in the compiled code`);
  for (const v of ['JAMEY_CONFIG', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_API_KEY', 'OLLAMA_HOST'])
    assert.ok(inCode.has(v), `${v} is found in the compiled code`);
  const table = rows(section('Environment variables'));
  for (const v of inCode) assert.ok(table.has(v), `environment variable ${v} is in the doc's table`);
  for (const v of table.keys()) assert.ok(inCode.has(v), `documented variable ${v} is read by the code`);
});
