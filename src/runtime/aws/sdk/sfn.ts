/**
 * The AWS Step Functions SDK code of the runtime: the client and what `SfnWorkflow` sends. Imported
 * statically by a handler that needs it on every invocation, dynamically by one that needs it on some
 * (`lazyClient`).
 */
export { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
