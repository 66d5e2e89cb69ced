/**
 * Stage B trigger: on its schedule, batches each dataset's stage B queue into stage B executions; invoked with a
 * {@link StageBStartRequest} (`sdlf trigger`), starts one dataset's stage B now.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
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
};
const logger = createLogger('stage-b-trigger', { team: options.team, pipeline: options.pipeline });
const clientConfig = runtimeClientConfig();
// Every tick lists the team's datasets (SSM) and receives their stage B queues (SQS). Only a tick with a batch to
// start looks its execution up (DynamoDB), writes its manifest (S3) and starts it (Step Functions): most ticks
// have none, so those clients are created, and their SDK code loaded, on the first batch.
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
 * Starts the stage B batches of every dataset of the team's pipeline (the schedule), or of one dataset with
 * whatever it has staged (a {@link StageBStartRequest}). Throws after handling every dataset when a batch could not
 * start (its messages are retried on the next schedule), so the failure shows in the metrics.
 */
export async function handler(event: ScheduledEvent | StageBStartRequest, context?: Context): Promise<DatasetTriggerResult[]> {
  if (context) logger.addContext(context);
  const request = isStageBStartRequest(event) ? event : undefined;
  if (request) logger.info('Stage B start requested', { dataset: request.dataset });
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
