/**
 * Step: the pre-update, post-update and error states of the stage A and stage B state machines.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { runtimeClientConfig } from '../../aws/clients.js';
import { DynamoMetadataStore } from '../../aws/dynamo-metadata-store.js';
import { S3ObjectStore } from '../../aws/s3-object-store.js';
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
};
// Read so a misconfigured function fails at cold start; the Glue runner writes there, the step only reports it.
requireEnv(env.analyticsBucket);
const logger = createLogger('step', { team, pipeline });
const clientConfig = runtimeClientConfig();
const deps = {
  store: new S3ObjectStore(new S3Client(clientConfig)),
  metadata: new DynamoMetadataStore(new DynamoDBClient(clientConfig), common.tables),
  queue: new SqsQueue(new SQSClient(clientConfig)),
  configs: cachedDatasetConfig(new SsmDatasetConfigs(new SSMClient(clientConfig), common)),
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
