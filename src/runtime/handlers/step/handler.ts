/**
 * Step: the pre-update, post-update and error states of the stage A and stage B state machines.
 */
import type { Context } from 'aws-lambda';
import { lazyClient, runtimeClientConfig } from '../../aws/clients.js';
import { DynamoMetadataStore } from '../../aws/dynamo-metadata-store.js';
import { S3ObjectStore } from '../../aws/s3-object-store.js';
import { DynamoDBClient } from '../../aws/sdk/dynamodb.js';
import { SqsQueue } from '../../aws/sqs-queue.js';
import { SsmDatasetConfigs } from '../../aws/ssm-dataset-configs.js';
import { HANDLER_ENV, type StepInput } from '../../contract.js';
import { cachedDatasetConfig } from '../../core/ports.js';
import { runStep, type StepResult } from '../../core/step.js';
import { readCommonEnv, requireEnv } from '../env.js';
import { createLogger, withRecordKeys } from '../logger.js';

const common = readCommonEnv();
const env = HANDLER_ENV.step;
const team = requireEnv(env.team);
const pipeline = requireEnv(env.pipeline);
const options = {
  ttlDays: common.executionTtlDays,
  stageADeadLetterQueueUrl: requireEnv(env.stageADeadLetterQueueUrl),
  stageBucket: requireEnv(env.stageBucket),
  stageBWakeQueueUrl: process.env[env.stageBWakeQueueUrl] || undefined,
};
// Read so a misconfigured function fails at cold start; the Glue runner writes there, the step only reports it.
requireEnv(env.analyticsBucket);
const logger = createLogger('step', { team, pipeline });
const clientConfig = runtimeClientConfig();
// Every step reads and writes the execution history (DynamoDB). The other clients serve some steps only, so each
// is created, and its SDK code loaded, on the first step that needs it: S3 by the stage B post-update (the job
// result), SQS by the stage A post-update (the stage B queue) and the error steps (the dead-letter queues), SSM
// by the pre-updates and the stage B error step (the dataset's configuration).
const deps = {
  store: new S3ObjectStore(lazyClient(async () => new (await import('../../aws/sdk/s3.js')).S3Client(clientConfig))),
  metadata: new DynamoMetadataStore(new DynamoDBClient(clientConfig), common.tables),
  queue: new SqsQueue(lazyClient(async () => new (await import('../../aws/sdk/sqs.js')).SQSClient(clientConfig))),
  configs: cachedDatasetConfig(
    new SsmDatasetConfigs(
      lazyClient(async () => new (await import('../../aws/sdk/ssm.js')).SSMClient(clientConfig)),
      common,
    ),
  ),
  logger,
  clock: () => new Date(),
};

/** Runs the step the state machine asks for and returns its result as the state's output. */
export async function handler(event: StepInput, context?: Context): Promise<StepResult> {
  if (context) logger.addContext(context);
  const execution = event?.execution;
  return withRecordKeys(logger, { team: execution?.team, dataset: execution?.dataset }, async () => {
    logger.info('Running step', { step: event?.step, stage: execution?.stage, executionId: execution?.executionId });
    return runStep(event, deps, options);
  });
}
