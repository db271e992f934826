/** Runs the load generator in a second process against a URL and returns its figures. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadOptions, LoadResult } from './generator.js';

const GENERATOR = fileURLToPath(new URL('./generator.js', import.meta.url));

/** Aborting `signal` ends the generator process (and rejects). */
export function drive(options: LoadOptions, run: { signal?: AbortSignal } = {}): Promise<LoadResult> {
  // The options go through a file: many bodies exceed what one command-line argument may hold.
  const dir = mkdtempSync(join(tmpdir(), 'jamey-load-'));
  const file = join(dir, 'options.json');
  writeFileSync(file, JSON.stringify(options));
  return new Promise<LoadResult>((resolve, reject) => {
    const opts = { maxBuffer: 1 << 20, ...(run.signal === undefined ? {} : { signal: run.signal }) };
    execFile(process.execPath, [GENERATOR, `@${file}`], opts, (err, stdout, stderr) => {
      if (err) reject(new Error(`load generator failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as LoadResult);
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
