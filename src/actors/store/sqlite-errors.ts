/** Maps SQLite's error codes (as better-sqlite3 reports them) to Jamey's coded errors. */
import { JameyError } from '../../runtime/errors.js';

export function sqliteError(err: unknown, what: string): JameyError {
  if (err instanceof JameyError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const message = err instanceof Error ? err.message : String(err);
  const details = { sqlite: code || undefined };
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new JameyError('JAMEY_ERR_CONFLICT', `${what}: ${message}`, { cause: err, details });
  }
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || /database or disk is full/i.test(message)) {
    return new JameyError('JAMEY_ERR_STORAGE_FULL', `${what}: the disk is full`, { cause: err, details });
  }
  return new JameyError('JAMEY_ERR_STORE_FAILED', `${what}: ${message}`, { cause: err, details });
}
