/**
 * The AWS Systems Manager SDK code of the runtime: the client and what `SsmDatasetConfigs` sends. Imported
 * statically by a handler that needs it on every invocation, dynamically by one that needs it on some
 * (`lazyClient`).
 */
export { GetParameterCommand, paginateGetParametersByPath, SSMClient } from '@aws-sdk/client-ssm';
