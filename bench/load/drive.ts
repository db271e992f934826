/** Runs the load generator in a second process against a URL and returns its figures. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadOptions, LoadResult } from './generator.js';

const GENERATOR = fileURLToPath(new URL('./generator.js', import.meta.url));

export function drive(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [GENERATOR, JSON.stringify(options)],
      { maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`load generator failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as LoadResult);
      },
    );
  });
}
