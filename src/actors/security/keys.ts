/**
 * API keys.
 *
 * - A key is `jmy_<id>_<secret>`: a 12-character id (60 random bits, lowercase base32, the primary
 *   key) and a 24-byte random secret in base64url (192 bits, from `crypto.randomBytes`). It is shown
 *   once, when created or rotated; only SHA-256(secret) is stored. A fast hash is enough because the
 *   secret is random and long, not a password (OWASP "Password Storage Cheat Sheet" is about
 *   low-entropy secrets; NIST SP 800-63B 5.1.1.2 asks for salted slow hashes only for memorized ones).
 * - Verification parses the id, finds the key (in memory, else one primary-key read on the store's
 *   read-only connection) and compares SHA-256 digests with `crypto.timingSafeEqual`. An unknown id is
 *   compared against a dummy digest so it takes the same path as a wrong secret.
 * - Verified keys are cached (bounded LRU, entries re-read after `cacheTtlMs`), so the request path
 *   does no SQL for a known key; rotate and revoke drop the cache entry.
 * - Scopes: `chat`, `memory:read`, `memory:write`, `admin`; `admin` implies every other.
 * - Rotation makes a new key with the same name, scopes and rate limit; the old one keeps working
 *   for a grace period (7 days by default), then is refused. Revocation is immediate.
 * - `last_used_at` is written at most once per `touchIntervalMs` per key, in batches.
 * - Every change writes its audit row in the same transaction as the change.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import { LRUMapWithDelete } from 'mnemonist';
import type { Clock } from '../../runtime/clock.js';
import { systemClock } from '../../runtime/clock.js';
import { JameyError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import { OptionChecker } from '../../runtime/options.js';
import type { Store, WriteHandler } from '../store/store.js';
import { AUDIT_INSERT_SQL, type AuditRow, auditRow } from './audit.js';
import { checkRateLimit, type RateLimit } from './rate-limiter.js';

export const SCOPES = ['chat', 'memory:read', 'memory:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** True when `scopes` grant `required` (`admin` grants everything). */
export function hasScope(scopes: readonly Scope[], required: Scope): boolean {
  return scopes.includes('admin') || scopes.includes(required);
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/** What is known of a key, never its secret or hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  /** The key's own limit; null means the default. */
  rateLimit: RateLimit | null;
  createdAt: number;
  /** When it stops working (a rotated key's grace end, or a key made with a lifetime); null for never. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** The key that replaced it by rotation. */
  replacedBy: string | null;
  lastUsedAt: number | null;
}

/** A new key: the token is shown here and never again. */
export interface CreatedKey {
  key: ApiKeyInfo;
  token: string;
}

export interface CreateKeyInput {
  name: string;
  scopes: readonly Scope[];
  rateLimit?: RateLimit | null;
  /** Lifetime in ms from now; omitted for a key that does not expire. */
  expiresInMs?: number;
}

/** Who made a change, for the audit log: `key:<id>` or `system`. */
export type AuditActor = string;

export interface KeyOptions {
  /** Verified keys kept in memory. @default 10000 */
  cacheSize: number;
  /** A cached key is re-read from the database after this long, in ms (changes made outside this process). @default 60000 */
  cacheTtlMs: number;
  /** `last_used_at` is written at most this often per key, in ms. @default 60000 */
  touchIntervalMs: number;
  /** How long a rotated key keeps working, in ms. @default 604800000 (7 days) */
  rotationGraceMs: number;
}

export const DEFAULT_KEY_OPTIONS: Readonly<KeyOptions> = Object.freeze({
  cacheSize: 10_000,
  cacheTtlMs: 60_000,
  touchIntervalMs: 60_000,
  rotationGraceMs: 7 * 86_400_000,
});

export function resolveKeyOptions(input: Partial<KeyOptions> = {}, prefix = 'keys'): KeyOptions {
  const c = new OptionChecker();
  const d = DEFAULT_KEY_OPTIONS;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(d, key)) c.problems.push(`unknown option "${prefix}.${key}"`);
  }
  const out: KeyOptions = {
    cacheSize: c.integer(`${prefix}.cacheSize`, input.cacheSize ?? d.cacheSize, 1, 10_000_000),
    cacheTtlMs: c.number(`${prefix}.cacheTtlMs`, input.cacheTtlMs ?? d.cacheTtlMs, 0, 86_400_000),
    touchIntervalMs: c.number(
      `${prefix}.touchIntervalMs`,
      input.touchIntervalMs ?? d.touchIntervalMs,
      0,
      86_400_000,
    ),
    rotationGraceMs: c.number(
      `${prefix}.rotationGraceMs`,
      input.rotationGraceMs ?? d.rotationGraceMs,
      0,
      365 * 86_400_000,
    ),
  };
  c.throwIfAny();
  return out;
}

// ---- tokens --------------------------------------------------------------------------------------

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_LENGTH = 12;
const SECRET_BYTES = 24;
/** `jmy_` + 12 id characters + `_` + 32 base64url characters. */
const TOKEN_RE = /^jmy_([a-z2-7]{12})_([A-Za-z0-9_-]{32})$/;

export function newKeyId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b & 31];
  return id;
}

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function formatToken(id: string, secret: string): string {
  return `jmy_${id}_${secret}`;
}

/** The id and secret of a well-formed token, or undefined. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_RE.exec(token);
  if (m === null) return undefined;
  return { id: m[1] as string, secret: m[2] as string };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 9110 11.1). */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (authorization === undefined || authorization === null) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return m === null ? undefined : m[1];
}

// ---- SQL -----------------------------------------------------------------------------------------

interface KeyRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  rate_limit: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  replaced_by: string | null;
  last_used_at: number | null;
}

const LIST_COLUMNS =
  'id, name, scopes, rate_limit, created_at, expires_at, revoked_at, replaced_by, last_used_at';

export const KEY_QUERIES = {
  /** The request path's read on a cache miss (primary key). */
  forVerify:
    'SELECT id, secret_hash, scopes, rate_limit, expires_at, revoked_at, last_used_at FROM api_keys WHERE id = ?',
  byId: `SELECT ${LIST_COLUMNS} FROM api_keys WHERE id = ?`,
  /** Newest first (index api_keys_created). */
  list: `SELECT ${LIST_COLUMNS} FROM api_keys ORDER BY created_at DESC LIMIT ?`,
  /** Start-up only: is there a usable admin key? (a scan of a small table). */
  activeAdmin: `SELECT id FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
    AND EXISTS (SELECT 1 FROM json_each(api_keys.scopes) WHERE json_each.value = 'admin') LIMIT 1`,
} as const;

function parseScopes(json: string): Scope[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter(isScope) : [];
  } catch {
    return [];
  }
}

function parseRateLimit(json: string | null): RateLimit | null {
  if (json === null) return null;
  try {
    const c = new OptionChecker();
    const limit = checkRateLimit(c, 'rate_limit', JSON.parse(json));
    return c.problems.length === 0 ? limit : null;
  } catch {
    return null;
  }
}

function rowToInfo(r: Omit<KeyRow, 'secret_hash'>): ApiKeyInfo {
  return {
    id: r.id,
    name: r.name,
    scopes: parseScopes(r.scopes),
    rateLimit: parseRateLimit(r.rate_limit),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    replacedBy: r.replaced_by,
    lastUsedAt: r.last_used_at,
  };
}

interface CreateArgs {
  id: string;
  name: string;
  secretHash: string;
  scopes: string;
  rateLimit: string | null;
  createdAt: number;
  expiresAt: number | null;
  audit: AuditRow;
}

interface RotateArgs {
  id: string;
  newId: string;
  secretHash: string;
  at: number;
  graceUntil: number;
  audit: AuditRow;
}

interface RevokeArgs {
  id: string;
  at: number;
  audit: AuditRow;
}

/** Write operations of API keys, registered with the store as part of `security.*`. */
export function keyWriters(db: Db): Record<string, WriteHandler> {
  const insert =
    db.prepare(`INSERT INTO api_keys (id, name, secret_hash, scopes, rate_limit, created_at, expires_at)
    VALUES (@id, @name, @secretHash, @scopes, @rateLimit, @createdAt, @expiresAt)`);
  const get = db.prepare('SELECT * FROM api_keys WHERE id = ?');
  const retire = db.prepare('UPDATE api_keys SET expires_at = ?, replaced_by = ? WHERE id = ?');
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const touch = db.prepare(
    'UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?',
  );
  const audit = db.prepare(AUDIT_INSERT_SQL);
  const infoOf = (id: string): ApiKeyInfo => rowToInfo(get.get(id) as KeyRow);
  return {
    createKey(args) {
      const a = args as CreateArgs;
      insert.run(a);
      audit.run(a.audit);
      return infoOf(a.id);
    },
    rotateKey(args) {
      const a = args as RotateArgs;
      const old = get.get(a.id) as KeyRow | undefined;
      if (old === undefined) throw new JameyError('JAMEY_ERR_NOT_FOUND', `no API key with id "${a.id}"`);
      if (old.revoked_at !== null)
        throw new JameyError('JAMEY_ERR_CONFLICT', `API key "${a.id}" is revoked and cannot be rotated`);
      if (old.replaced_by !== null) {
        throw new JameyError(
          'JAMEY_ERR_CONFLICT',
          `API key "${a.id}" was already rotated; rotate its replacement "${old.replaced_by}"`,
        );
      }
      if (old.expires_at !== null && old.expires_at <= a.at)
        throw new JameyError('JAMEY_ERR_CONFLICT', `API key "${a.id}" has expired and cannot be rotated`);
      // The replacement keeps the old key's lifetime, if it had one: rotation does not extend it.
      insert.run({
        id: a.newId,
        name: old.name,
        secretHash: a.secretHash,
        scopes: old.scopes,
        rateLimit: old.rate_limit,
        createdAt: a.at,
        expiresAt: old.expires_at,
      });
      retire.run(
        old.expires_at === null ? a.graceUntil : Math.min(old.expires_at, a.graceUntil),
        a.newId,
        a.id,
      );
      audit.run(a.audit);
      return { old: infoOf(a.id), key: infoOf(a.newId) };
    },
    revokeKey(args) {
      const a = args as RevokeArgs;
      const old = get.get(a.id) as KeyRow | undefined;
      if (old === undefined) throw new JameyError('JAMEY_ERR_NOT_FOUND', `no API key with id "${a.id}"`);
      const changed = revoke.run(a.at, a.id).changes;
      if (changed > 0) audit.run(a.audit);
      return { key: infoOf(a.id), changed: changed > 0 };
    },
    touchKeys(args) {
      let n = 0;
      for (const t of args as Array<{ id: string; at: number }>) n += touch.run(t.at, t.id).changes;
      return { touched: n };
    },
  };
}

// ---- the key manager -----------------------------------------------------------------------------

/** The result of checking a token. */
export type Verification =
  | { ok: true; key: VerifiedKey }
  | { ok: false; reason: 'malformed' | 'unknown' | 'mismatch' | 'revoked' | 'expired' };

export interface VerifiedKey {
  id: string;
  scopes: readonly Scope[];
  rateLimit: RateLimit | null;
}

interface CachedKey {
  id: string;
  hash: Buffer;
  scopes: readonly Scope[];
  rateLimit: RateLimit | null;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Last use known to be written or queued. */
  lastUsedAt: number | null;
  loadedAt: number;
  /**
   * The secret of the last successful verification. A request presenting the same secret is checked
   * against it with `timingSafeEqual` (constant time, like the hash comparison) instead of hashing
   * again: SHA-256 per request was a fifth of admission time. Only in memory, never stored.
   */
  verified?: Buffer;
}

interface MissingKey {
  missing: true;
  loadedAt: number;
}

/** A digest no secret hashes to in practice, compared against when the id is unknown. */
const DUMMY_HASH = createHash('sha256').update('jamey:no-such-key').digest();

export const ADMIN_KEY_FILE = 'admin.key';

export interface KeyManagerDeps {
  store: Store;
  clock?: Clock;
  log?: Logger;
  options?: Partial<KeyOptions>;
}

export class KeyManager {
  readonly options: Readonly<KeyOptions>;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly cache: LRUMapWithDelete<string, CachedKey | MissingKey>;
  private touches = new Map<string, number>();
  /** SQL reads done by `verify` (cache misses), for tests and metrics. */
  lookups = 0;

  constructor(deps: KeyManagerDeps) {
    this.options = Object.freeze(resolveKeyOptions(deps.options));
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log;
    this.cache = new LRUMapWithDelete(this.options.cacheSize);
  }

  /**
   * Checks a token on the request path: synchronous, no SQL for a cached key. Queues a
   * `last_used_at` write at most once per `touchIntervalMs` per key.
   */
  verify(token: string): Verification {
    const parsed = parseToken(token);
    if (parsed === undefined) return { ok: false, reason: 'malformed' };
    const now = this.clock.now();
    const entry = this.load(parsed.id, now);
    let match = false;
    const verified = 'missing' in entry ? undefined : entry.verified;
    if (verified !== undefined) {
      const secret = Buffer.from(parsed.secret, 'utf8');
      match = secret.length === verified.length && timingSafeEqual(secret, verified);
    }
    if (!match) {
      const presented = createHash('sha256').update(parsed.secret, 'utf8').digest();
      match = timingSafeEqual(presented, 'missing' in entry ? DUMMY_HASH : entry.hash);
      if (match && !('missing' in entry)) entry.verified = Buffer.from(parsed.secret, 'utf8');
    }
    if ('missing' in entry) return { ok: false, reason: 'unknown' };
    if (!match) return { ok: false, reason: 'mismatch' };
    if (entry.revokedAt !== null) return { ok: false, reason: 'revoked' };
    if (entry.expiresAt !== null && entry.expiresAt <= now) return { ok: false, reason: 'expired' };
    if (entry.lastUsedAt === null || now - entry.lastUsedAt >= this.options.touchIntervalMs) {
      entry.lastUsedAt = now;
      this.touches.set(entry.id, now);
    }
    return { ok: true, key: { id: entry.id, scopes: entry.scopes, rateLimit: entry.rateLimit } };
  }

  private load(id: string, now: number): CachedKey | MissingKey {
    const cached = this.cache.get(id);
    if (cached !== undefined && now - cached.loadedAt < this.options.cacheTtlMs) return cached;
    this.lookups++;
    const row = this.store.reader.statement(KEY_QUERIES.forVerify).get(id) as
      | Pick<
          KeyRow,
          'id' | 'secret_hash' | 'scopes' | 'rate_limit' | 'expires_at' | 'revoked_at' | 'last_used_at'
        >
      | undefined;
    let entry: CachedKey | MissingKey;
    if (row === undefined) {
      entry = { missing: true, loadedAt: now };
    } else {
      const hash = Buffer.from(row.secret_hash, 'hex');
      const lastUsed =
        cached !== undefined && !('missing' in cached) && cached.lastUsedAt !== null
          ? Math.max(cached.lastUsedAt, row.last_used_at ?? 0)
          : row.last_used_at;
      entry = {
        id: row.id,
        hash: hash.length === DUMMY_HASH.length ? hash : DUMMY_HASH,
        scopes: Object.freeze(parseScopes(row.scopes)),
        rateLimit: parseRateLimit(row.rate_limit),
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
        lastUsedAt: lastUsed,
        loadedAt: now,
      };
    }
    this.cache.set(id, entry);
    return entry;
  }

  /** Drops a key from the cache (its next use reads the database). */
  invalidate(id: string): void {
    this.cache.delete(id);
  }

  /** Writes the queued `last_used_at` values in one store write. Never rejects. */
  async flushTouches(): Promise<void> {
    if (this.touches.size === 0) return;
    const batch = [...this.touches].map(([id, at]) => ({ id, at }));
    this.touches = new Map();
    try {
      await this.store.write('security.touchKeys', batch);
    } catch (err) {
      // Last-use times are advisory; a lost batch is logged, not retried.
      this.log?.warn('could not record API key use', {
        keys: batch.length,
        code: (err as { code?: unknown }).code,
      });
    }
  }

  /** Creates a key; the token in the answer is the only time the secret is seen. */
  async create(input: CreateKeyInput, by: AuditActor = 'system', action = 'key.create'): Promise<CreatedKey> {
    const checked = checkCreateInput(input);
    const id = newKeyId();
    const secret = newSecret();
    const now = this.clock.now();
    const key = await this.store.write<ApiKeyInfo>('security.createKey', {
      id,
      name: checked.name,
      secretHash: hashSecret(secret),
      scopes: JSON.stringify(checked.scopes),
      rateLimit: checked.rateLimit === null ? null : JSON.stringify(checked.rateLimit),
      createdAt: now,
      expiresAt: checked.expiresInMs === undefined ? null : now + checked.expiresInMs,
      audit: auditRow(
        {
          actor: by,
          action,
          target: id,
          outcome: 'ok',
          details: { name: checked.name, scopes: checked.scopes, rateLimit: checked.rateLimit },
        },
        now,
      ),
    } satisfies CreateArgs);
    this.invalidate(id);
    return { key, token: formatToken(id, secret) };
  }

  /**
   * Replaces a key: the answer has the new key's token (shown once); the old key keeps working for
   * `graceMs` (default `rotationGraceMs`), then is refused.
   */
  async rotate(
    id: string,
    options: { graceMs?: number } = {},
    by: AuditActor = 'system',
  ): Promise<CreatedKey & { old: ApiKeyInfo }> {
    const graceMs = options.graceMs ?? this.options.rotationGraceMs;
    if (typeof graceMs !== 'number' || !(graceMs >= 0) || graceMs > 365 * 86_400_000) {
      throw new JameyError('JAMEY_ERR_VALIDATION', 'graceMs must be a number of ms from 0 to 365 days', {
        details: [{ path: '/graceMs', problem: 'must be a number from 0 to 31536000000' }],
      });
    }
    const newId = newKeyId();
    const secret = newSecret();
    const now = this.clock.now();
    this.invalidate(id);
    try {
      const result = await this.store.write<{ old: ApiKeyInfo; key: ApiKeyInfo }>('security.rotateKey', {
        id,
        newId,
        secretHash: hashSecret(secret),
        at: now,
        graceUntil: now + graceMs,
        audit: auditRow(
          {
            actor: by,
            action: 'key.rotate',
            target: id,
            outcome: 'ok',
            details: { replacedBy: newId, graceMs },
          },
          now,
        ),
      } satisfies RotateArgs);
      return { ...result, token: formatToken(newId, secret) };
    } finally {
      this.invalidate(id);
      this.invalidate(newId);
    }
  }

  /** Revokes a key: refused from now on. Revoking a revoked key changes nothing. */
  async revoke(id: string, by: AuditActor = 'system'): Promise<ApiKeyInfo> {
    const now = this.clock.now();
    this.invalidate(id);
    try {
      const result = await this.store.write<{ key: ApiKeyInfo }>('security.revokeKey', {
        id,
        at: now,
        audit: auditRow({ actor: by, action: 'key.revoke', target: id, outcome: 'ok' }, now),
      } satisfies RevokeArgs);
      return result.key;
    } finally {
      this.invalidate(id);
    }
  }

  /** Keys, newest first, without secrets or hashes. */
  list(limit = 1000): ApiKeyInfo[] {
    const n = Math.max(1, Math.min(10_000, Math.floor(limit)));
    return (this.store.reader.statement(KEY_QUERIES.list).all(n) as KeyRow[]).map(rowToInfo);
  }

  get(id: string): ApiKeyInfo {
    const row = this.store.reader.statement(KEY_QUERIES.byId).get(id) as KeyRow | undefined;
    if (row === undefined) throw new JameyError('JAMEY_ERR_NOT_FOUND', `no API key with id "${id}"`);
    return rowToInfo(row);
  }

  /** True when some admin key is neither revoked nor expired. */
  hasActiveAdminKey(): boolean {
    return this.store.reader.statement(KEY_QUERIES.activeAdmin).get(this.clock.now()) !== undefined;
  }

  /**
   * First-start bootstrap: when the database has no usable admin key and `<dataDir>/admin.key` does
   * not exist, creates an admin key, writes it to that file (mode 0600) and returns it so the caller
   * can print it once. Otherwise returns undefined, so a key is never shown twice.
   */
  async ensureAdminKey(dataDir: string): Promise<{ id: string; token: string; file: string } | undefined> {
    const file = join(dataDir, ADMIN_KEY_FILE);
    if (existsSync(file) || this.hasActiveAdminKey()) return undefined;
    const created = await this.create(
      { name: 'admin (bootstrap)', scopes: ['admin'] },
      'system',
      'key.bootstrap',
    );
    try {
      mkdirSync(dataDir, { recursive: true });
      // 'wx': never overwrite a file that appeared meanwhile; the mode applies on creation, chmod
      // makes it exact whatever the umask.
      writeFileSync(file, `${created.token}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    } catch (err) {
      await this.revoke(created.key.id, 'system').catch(() => undefined);
      throw new JameyError('JAMEY_ERR_INTERNAL', `cannot write the admin key file ${file}`, { cause: err });
    }
    return { id: created.key.id, token: created.token, file };
  }
}

function checkCreateInput(input: CreateKeyInput): {
  name: string;
  scopes: Scope[];
  rateLimit: RateLimit | null;
  expiresInMs: number | undefined;
} {
  const problems: Array<{ path: string; problem: string }> = [];
  const name = typeof input?.name === 'string' ? input.name.trim() : '';
  if (name.length === 0 || name.length > 200)
    problems.push({ path: '/name', problem: 'must be a string of 1 to 200 characters' });
  const scopes: Scope[] = [];
  if (!Array.isArray(input?.scopes) || input.scopes.length === 0) {
    problems.push({ path: '/scopes', problem: `must be a non-empty array of ${SCOPES.join(', ')}` });
  } else {
    input.scopes.forEach((s, i) => {
      if (!isScope(s))
        problems.push({ path: `/scopes/${i}`, problem: `must be one of ${SCOPES.join(', ')}` });
      else if (!scopes.includes(s)) scopes.push(s);
    });
  }
  let rateLimit: RateLimit | null = null;
  if (input?.rateLimit !== undefined && input.rateLimit !== null) {
    const c = new OptionChecker();
    rateLimit = checkRateLimit(c, 'rateLimit', input.rateLimit);
    for (const p of c.problems) problems.push({ path: '/rateLimit', problem: p });
  }
  const ttl = input?.expiresInMs;
  if (ttl !== undefined && (typeof ttl !== 'number' || !(ttl > 0) || ttl > 100 * 365 * 86_400_000))
    problems.push({ path: '/expiresInMs', problem: 'must be a positive number of ms' });
  if (problems.length > 0) {
    throw new JameyError(
      'JAMEY_ERR_VALIDATION',
      `invalid API key: ${problems[0]?.path} ${problems[0]?.problem}`,
      {
        details: problems,
      },
    );
  }
  return { name, scopes, rateLimit, expiresInMs: ttl };
}
