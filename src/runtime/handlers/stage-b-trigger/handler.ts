/**
 * Stage B trigger: woken by its wake queue (an SQS event source that gathers the wakes of one batching window),
 * batches each dataset's stage B queue into stage B executions; invoked with a {@link StageBStartRequest}
 * (`sdlf trigger`), starts one dataset's stage B now.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { lazyClient, runtimeClientConfig } from '../../aws/clients.js';
import { DynamoMetadataStore } from '../../aws/dynamo-metadata-store.js';
import { S3ObjectStore } from '../../aws/s3-object-store.js';
import { SQSClient } from '../../aws/sdk/sqs.js';
import { SSMClient } from '../../aws/sdk/ssm.js';
import { SfnWorkflow } from '../../aws/sfn-workflow.js';
import { SqsQueue } from '../../aws/sqs-queue.js';
import { SsmDatasetConfigs } from '../../aws/ssm-dataset-configs.js';
import { HANDLER_ENV, isStageBStartRequest, type StageBStartRequest } from '../../contract.js';
import { cachedDatasetConfig } from '../../core/ports.js';
import { type DatasetTriggerResult, triggerStageB } from '../../core/stage-b.js';
import { readCommonEnv, requireEnv } from '../env.js';
import { createLogger } from '../logger.js';

const common = readCommonEnv();
const env = HANDLER_ENV['stage-b-trigger'];
const options = {
  team: requireEnv(env.team),
  pipeline: requireEnv(env.pipeline),
  stateMachineArn: requireEnv(env.stateMachineArn),
  artifactsBucket: requireEnv(env.artifactsBucket),
  wakeQueueUrl: process.env[env.wakeQueueUrl] || undefined,
};
const logger = createLogger('stage-b-trigger', { team: options.team, pipeline: options.pipeline });
const clientConfig = runtimeClientConfig();
// Every run lists the team's datasets (SSM) and receives their stage B queues (SQS). Only a run with a batch to
// start looks its execution up (DynamoDB), writes its manifest (S3) and starts it (Step Functions): a run that
// holds everything below `minItemsProcess` has none, so those clients are created, and their SDK code loaded, on
// the first batch.
const deps = {
  store: new S3ObjectStore(lazyClient(async () => new (await import('../../aws/sdk/s3.js')).S3Client(clientConfig))),
  metadata: new DynamoMetadataStore(
    lazyClient(async () => new (await import('../../aws/sdk/dynamodb.js')).DynamoDBClient(clientConfig)),
    common.tables,
  ),
  queue: new SqsQueue(new SQSClient(clientConfig)),
  configs: cachedDatasetConfig(new SsmDatasetConfigs(new SSMClient(clientConfig), common)),
  workflow: new SfnWorkflow(lazyClient(async () => new (await import('../../aws/sdk/sfn.js')).SFNClient(clientConfig))),
  logger,
};

/**
 * Starts the stage B batches of every dataset of the team's pipeline (woken by its wake queue), or of one dataset
 * with whatever it has staged (a {@link StageBStartRequest}). Throws after handling every dataset when a batch
 * could not start, so the failure shows in the metrics and the event source puts the wakes back: they come again
 * after the wake queue's visibility timeout, when the batch's stage B messages are visible again.
 */
export async function handler(event: SQSEvent | StageBStartRequest, context?: Context): Promise<DatasetTriggerResult[]> {
  if (context) logger.addContext(context);
  const request = isStageBStartRequest(event) ? event : undefined;
  if (request) logger.info('Stage B start requested', { dataset: request.dataset });
  else logger.info('Stage B woken', { wakes: wakesOf(event) });
  const results = await triggerStageB(deps, request ? { ...options, dataset: request.dataset, now: true } : options);
  const failed = results.flatMap((r) => r.failed.map((f) => `${r.team}/${r.dataset} ${f.executionId}: ${f.error}`));
  for (const result of results) {
    logger.info('Stage B trigger result', {
      team: result.team,
      dataset: result.dataset,
      started: result.executions.filter((e) => e.started).length,
      held: result.held,
      invalid: result.invalid,
    });
  }
  if (failed.length > 0) throw new Error(`${failed.length} stage B batch(es) could not start: ${failed.join('; ')}`);
  return results;
}

/** How many wake messages an event holds (0 for an event from elsewhere, which wakes the trigger all the same). */
function wakesOf(event: unknown): number {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records) ? records.length : 0;
}
