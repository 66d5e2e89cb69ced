/**
 * Routing: EventBridge "Object Created" on the raw bucket → `ObjectMetadata` + the team's stage A queue.
 */
import type { Context, S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import { runtimeClientConfig } from '../../aws/clients.js';
import { DynamoMetadataStore } from '../../aws/dynamo-metadata-store.js';
import { DynamoDBClient } from '../../aws/sdk/dynamodb.js';
import { SQSClient } from '../../aws/sdk/sqs.js';
import { SSMClient } from '../../aws/sdk/ssm.js';
import { SqsQueue } from '../../aws/sqs-queue.js';
import { SsmDatasetConfigs } from '../../aws/ssm-dataset-configs.js';
import { HANDLER_ENV } from '../../contract.js';
import { cachedDatasetConfig } from '../../core/ports.js';
import { type RouteResult, routeObject } from '../../core/route.js';
import { readCommonEnv, requireEnv } from '../env.js';
import { createLogger, withRecordKeys } from '../logger.js';

const common = readCommonEnv();
const options = {
  team: requireEnv(HANDLER_ENV.routing.team),
  pipeline: requireEnv(HANDLER_ENV.routing.pipeline),
  stageAQueueUrl: requireEnv(HANDLER_ENV.routing.stageAQueueUrl),
};
const logger = createLogger('routing', { team: options.team, pipeline: options.pipeline });
const clientConfig = runtimeClientConfig();
// Every routed object is recorded, checked against its dataset's configuration and queued: all three clients.
const deps = {
  metadata: new DynamoMetadataStore(new DynamoDBClient(clientConfig), common.tables),
  queue: new SqsQueue(new SQSClient(clientConfig)),
  configs: cachedDatasetConfig(new SsmDatasetConfigs(new SSMClient(clientConfig), common)),
  logger,
  clock: () => new Date(),
};

/** Routes one raw object. Bad events and unknown prefixes are logged and dropped; store failures throw (and retry). */
export async function handler(event: S3ObjectCreatedNotificationEvent, context?: Context): Promise<RouteResult> {
  if (context) logger.addContext(context);
  const key: unknown = event?.detail?.object?.key;
  const [, dataset] = typeof key === 'string' ? key.split('/') : [];
  return withRecordKeys(logger, { team: options.team, ...(dataset ? { dataset } : {}) }, () => routeObject(event, deps, options));
}
