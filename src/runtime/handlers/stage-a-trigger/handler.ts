/**
 * Stage A trigger: the team's stage A FIFO queue → one stage A state machine execution per message.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { runtimeClientConfig } from '../../aws/clients.js';
import { DynamoMetadataStore } from '../../aws/dynamo-metadata-store.js';
import { DynamoDBClient } from '../../aws/sdk/dynamodb.js';
import { SFNClient } from '../../aws/sdk/sfn.js';
import { SSMClient } from '../../aws/sdk/ssm.js';
import { SfnWorkflow } from '../../aws/sfn-workflow.js';
import { SsmDatasetConfigs } from '../../aws/ssm-dataset-configs.js';
import { HANDLER_ENV } from '../../contract.js';
import { cachedDatasetConfig } from '../../core/ports.js';
import { startStageA } from '../../core/stage-a.js';
import { readCommonEnv, requireEnv } from '../env.js';
import { createLogger, keysOfBody, withRecordKeys } from '../logger.js';

const common = readCommonEnv();
const stateMachineArn = requireEnv(HANDLER_ENV['stage-a-trigger'].stateMachineArn);
const logger = createLogger('stage-a-trigger');
const clientConfig = runtimeClientConfig();
// Every message reads its dataset's configuration, looks its execution up and starts it: all three clients.
const deps = {
  metadata: new DynamoMetadataStore(new DynamoDBClient(clientConfig), common.tables),
  workflow: new SfnWorkflow(new SFNClient(clientConfig)),
  configs: cachedDatasetConfig(new SsmDatasetConfigs(new SSMClient(clientConfig), common)),
  logger,
};

/**
 * Starts one execution per message. Reports failed messages as partial batch failures; on a FIFO queue, the
 * messages after a failure are reported too, so a group's order is kept. A message that keeps failing reaches the
 * queue's DLQ after its maximum receive count.
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (context) logger.addContext(context);
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    if (batchItemFailures.length > 0) {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    await withRecordKeys(logger, keysOfBody(record.body), async () => {
      try {
        await startStageA(record.body, deps, { stateMachineArn });
      } catch (error) {
        logger.error('Could not start a stage A execution', { messageId: record.messageId, error: error as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    });
  }
  return { batchItemFailures };
}
