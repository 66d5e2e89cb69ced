import type { Naming } from '../config/naming.js';
import { COMMON_ENV } from '../runtime/contract.js';
import type { FoundationsReferences } from './foundations-references.js';
import { DEFAULT_EXECUTION_TTL_DAYS } from './settings.js';

/** The {@link COMMON_ENV} variables every sdlf function gets, with the names of the foundations' tables. */
export function commonEnvironment(
  foundations: FoundationsReferences,
  naming: Naming,
  executionTtlDays = DEFAULT_EXECUTION_TTL_DAYS,
): Record<string, string> {
  return {
    [COMMON_ENV.prefix]: naming.context.prefix,
    [COMMON_ENV.env]: naming.context.env,
    [COMMON_ENV.objectMetadataTable]: foundations.table('object-metadata').tableName,
    [COMMON_ENV.datasetsTable]: foundations.table('datasets').tableName,
    [COMMON_ENV.pipelinesTable]: foundations.table('pipelines').tableName,
    [COMMON_ENV.executionHistoryTable]: foundations.table('execution-history').tableName,
    [COMMON_ENV.executionTtlDays]: String(executionTtlDays),
  };
}
