/**
 * Environment of the Lambda handlers: read once at cold start, failing there with the variable's name.
 */

import type { MetadataTables } from '../aws/dynamo-metadata-store.js';
import { COMMON_ENV } from '../contract.js';

/** A handler whose environment is incomplete: the function was deployed without a variable it needs. */
export class MissingEnvironmentError extends Error {
  constructor(
    readonly variable: string,
    reason = 'is not set',
  ) {
    super(`Environment variable ${variable} ${reason}. The function was deployed without it: redeploy with "sdlf deploy".`);
    this.name = 'MissingEnvironmentError';
  }
}

/** Reads a required environment variable; throws {@link MissingEnvironmentError} naming it when it is missing or empty. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new MissingEnvironmentError(name);
  return value;
}

/** Reads a required environment variable holding a positive number. */
export function requireNumberEnv(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const text = requireEnv(name, env);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new MissingEnvironmentError(name, `must be a positive number, got "${text}"`);
  return value;
}

/** The environment every handler gets ({@link COMMON_ENV}). */
export interface CommonEnvironment {
  readonly prefix: string;
  readonly env: string;
  readonly tables: MetadataTables;
  readonly executionTtlDays: number;
}

/** Reads {@link COMMON_ENV}; throws at the first missing variable. */
export function readCommonEnv(env: NodeJS.ProcessEnv = process.env): CommonEnvironment {
  return {
    prefix: requireEnv(COMMON_ENV.prefix, env),
    env: requireEnv(COMMON_ENV.env, env),
    tables: {
      objectMetadata: requireEnv(COMMON_ENV.objectMetadataTable, env),
      datasets: requireEnv(COMMON_ENV.datasetsTable, env),
      pipelines: requireEnv(COMMON_ENV.pipelinesTable, env),
      executionHistory: requireEnv(COMMON_ENV.executionHistoryTable, env),
    },
    executionTtlDays: requireNumberEnv(COMMON_ENV.executionTtlDays, env),
  };
}
