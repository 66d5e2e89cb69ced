import type { Naming } from '../config/naming.js';
import { COMMON_ENV } from '../runtime/contract.js';
import { FOUNDATIONS_PARAMETERS } from './foundations.js';
import type { FoundationsReferences } from './foundations-references.js';
import { DEFAULT_EXECUTION_TTL_DAYS } from './settings.js';

/** The {@link COMMON_ENV} variables every sdlf function gets, with the table names read from the foundations. */
export function commonEnvironment(
  foundations: FoundationsReferences,
  naming: Naming,
  executionTtlDays = DEFAULT_EXECUTION_TTL_DAYS,
): Record<string, string> {
  return {
    [COMMON_ENV.prefix]: naming.context.prefix,
    [COMMON_ENV.env]: naming.context.env,
    [COMMON_ENV.objectMetadataTable]: foundations.value(FOUNDATIONS_PARAMETERS.table('object-metadata')),
    [COMMON_ENV.datasetsTable]: foundations.value(FOUNDATIONS_PARAMETERS.table('datasets')),
    [COMMON_ENV.pipelinesTable]: foundations.value(FOUNDATIONS_PARAMETERS.table('pipelines')),
    [COMMON_ENV.executionHistoryTable]: foundations.value(FOUNDATIONS_PARAMETERS.table('execution-history')),
    [COMMON_ENV.executionTtlDays]: String(executionTtlDays),
  };
}
