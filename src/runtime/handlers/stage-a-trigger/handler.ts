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
import { HANDLER_ENV, REDRIVE_ATTRIBUTE } from '../../contract.js';
import { cachedDatasetConfig } from '../../core/ports.js';
import { startStageA } from '../../core/stage-a.js';
import { readCommonEnv, requireEnv } from '../env.js';
import { handleInGroupOrder } from '../fifo-batch.js';
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
 * Starts one execution per message. Reports failed messages as partial batch failures; on the FIFO queue, the
 * later messages of a failed message's group (its dataset) are reported too, so the dataset's order is kept, and
 * the other datasets' messages go on. A message that keeps failing reaches the queue's DLQ after its maximum
 * receive count, alone. Only a message moved back by `sdlf redrive` restarts an execution that FAILED.
 */
export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  if (context) logger.addContext(context);
  return handleInGroupOrder(event.Records, (record) =>
    withRecordKeys(logger, keysOfBody(record.body), async () => {
      try {
        const restartFailed = record.messageAttributes?.[REDRIVE_ATTRIBUTE] !== undefined;
        await startStageA(record.body, deps, { stateMachineArn, restartFailed });
      } catch (error) {
        logger.error('Could not start a stage A execution', { messageId: record.messageId, error: error as Error });
        throw error;
      }
    }),
  );
}
