import { readFileSync } from 'node:fs';
import { SdlfError } from '../core/errors.js';

type DuckDb = typeof import('@duckdb/node-api');

/** The version of `@duckdb/node-api` this sdlf was tested with (its optionalDependencies pin). */
export function duckDbVersion(): string {
  const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    optionalDependencies?: Record<string, string>;
  };
  return own.optionalDependencies?.['@duckdb/node-api'] ?? 'latest';
}

/** The command that installs the DuckDB sdlf expects into a project. */
export function duckDbInstallCommand(): string {
  return `npm install --save-optional @duckdb/node-api@${duckDbVersion()}`;
}

/**
 * Loads DuckDB, an optional dependency of sdlf: `run --local` needs it, a CodeBuild synth does not. Returns
 * `undefined` when it is not installed (npm skipped it with `--omit=optional`, or its native binary is missing
 * for this platform).
 */
export async function tryLoadDuckDb(): Promise<DuckDb | undefined> {
  try {
    return await import('@duckdb/node-api');
  } catch {
    return undefined;
  }
}

/** Loads DuckDB for `what`, or fails with exit 2 and the command that installs it. */
export async function loadDuckDb(what: string): Promise<DuckDb> {
  const duckdb = await tryLoadDuckDb();
  if (duckdb !== undefined) return duckdb;
  throw new SdlfError(`${what} needs DuckDB, and @duckdb/node-api is not installed (it is an optional dependency of sdlf).`, {
    code: 'DUCKDB_MISSING',
    suggestions: [
      `Install it in the project: ${duckDbInstallCommand()} (npm ci --omit=optional leaves it out).`,
      'Or run the heavy transform on Spark: sdlf run --local --engine spark.',
    ],
  });
}
