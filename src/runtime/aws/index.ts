/**
 * AWS SDK v3 adapters of the pipeline ports, used by the Lambda handlers and by the CLI's `status`/`redrive`.
 */
export * from './clients.js';
export * from './dynamo-metadata-store.js';
export * from './s3-object-store.js';
export * from './sfn-workflow.js';
export * from './sqs-queue.js';
export * from './ssm-dataset-configs.js';
