import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { inject } from 'vitest';
import { runtimeClientConfig } from '../../../src/runtime/aws/clients.js';
import { COMMON_ENV, type DatasetParameter, HANDLER_ENV, METADATA_KEYS } from '../../../src/runtime/contract.js';
import { datasetRegistration } from '../../helpers/dataset.js';

/** Points the AWS SDK of this test process at the shared moto_server, with dummy credentials. */
export function useMoto(): string {
  const endpoint = inject('motoEndpoint');
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  delete process.env.AWS_PROFILE;
  return endpoint;
}

/** SDK clients on moto. */
export function motoClients() {
  const config = runtimeClientConfig();
  return {
    s3: new S3Client(config),
    dynamo: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    sfn: new SFNClient(config),
    ssm: new SSMClient(config),
  };
}

/** The resources of one environment with one dataset, under a prefix unique to the test file. */
export interface LakeFixture {
  readonly prefix: string;
  readonly env: string;
  readonly team: string;
  readonly dataset: string;
  readonly buckets: { raw: string; stage: string; artifacts: string; analytics: string };
  readonly tables: { objectMetadata: string; datasets: string; pipelines: string; executionHistory: string };
  readonly queues: { stageA: string; stageADlq: string; stageB: string; stageBDlq: string; stageBWake: string };
  readonly stateMachines: { a: string; b: string };
  readonly config: DatasetParameter;
  /** Environment of every handler, as the CDK app sets it. */
  readonly env_: Record<string, string>;
}

/** Creates buckets (raw versioned), metadata tables, FIFO queues, state machines and the dataset parameter. */
export async function createLake(): Promise<LakeFixture> {
  const c = motoClients();
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const env = 'dev';
  const team = 'demoteam';
  const dataset = 'legislators';
  const base = `${prefix}-${env}`;
  const buckets = { raw: `${base}-raw`, stage: `${base}-stage`, artifacts: `${base}-artifacts`, analytics: `${base}-analytics` };
  for (const bucket of Object.values(buckets)) await c.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await c.s3.send(new PutBucketVersioningCommand({ Bucket: buckets.raw, VersioningConfiguration: { Status: 'Enabled' } }));

  const tables = {
    objectMetadata: `${base}-object-metadata`,
    datasets: `${base}-datasets`,
    pipelines: `${base}-pipelines`,
    executionHistory: `${base}-execution-history`,
  };
  const simple = (name: string, key: string) =>
    c.dynamo.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      }),
    );
  await simple(tables.objectMetadata, METADATA_KEYS.objectMetadata.partitionKey);
  await simple(tables.datasets, METADATA_KEYS.datasets.partitionKey);
  await simple(tables.pipelines, METADATA_KEYS.pipelines.partitionKey);
  const history = METADATA_KEYS.executionHistory;
  await c.dynamo.send(
    new CreateTableCommand({
      TableName: tables.executionHistory,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: history.partitionKey, AttributeType: 'S' },
        { AttributeName: history.datasetIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: history.datasetIndex.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: history.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: history.datasetIndex.name,
          KeySchema: [
            { AttributeName: history.datasetIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: history.datasetIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await c.dynamo.send(
    new UpdateTimeToLiveCommand({
      TableName: tables.executionHistory,
      TimeToLiveSpecification: { Enabled: true, AttributeName: history.ttlAttribute },
    }),
  );

  const queue = async (name: string) =>
    (await c.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', VisibilityTimeout: '30' } })))
      .QueueUrl ?? '';
  const queues = {
    stageA: await queue(`${base}-${team}-standard-stage-a.fifo`),
    stageADlq: await queue(`${base}-${team}-standard-stage-a-dlq.fifo`),
    stageB: await queue(`${base}-${team}-${dataset}-stage-b.fifo`),
    stageBDlq: await queue(`${base}-${team}-${dataset}-stage-b-dlq.fifo`),
    stageBWake: (await c.sqs.send(new CreateQueueCommand({ QueueName: `${base}-${team}-standard-stage-b-wake` }))).QueueUrl ?? '',
  };

  const machine = async (name: string) =>
    (
      await c.sfn.send(
        new CreateStateMachineCommand({
          name,
          roleArn: 'arn:aws:iam::123456789012:role/sfn',
          definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
        }),
      )
    ).stateMachineArn ?? '';
  const stateMachines = {
    a: await machine(`${base}-${team}-standard-stage-a`),
    b: await machine(`${base}-${team}-standard-stage-b`),
  };

  const config: DatasetParameter = {
    ...datasetRegistration({ team, dataset }),
    lightTransformFunction: `${base}-${team}-${dataset}-light-transform`,
    stageBQueueUrl: queues.stageB,
    stageBDeadLetterQueueUrl: queues.stageBDlq,
    glueJob: `${base}-${team}-${dataset}-heavy-transform`,
    glueDatabase: `${prefix}_${env}_${team}_${dataset}`,
    version: 1,
  };
  await c.ssm.send(
    new PutParameterCommand({
      Name: `/${prefix}/${env}/datasets/${team}/${dataset}`,
      Type: 'String',
      Value: JSON.stringify(config),
    }),
  );

  const env_: Record<string, string> = {
    [COMMON_ENV.prefix]: prefix,
    [COMMON_ENV.env]: env,
    [COMMON_ENV.objectMetadataTable]: tables.objectMetadata,
    [COMMON_ENV.datasetsTable]: tables.datasets,
    [COMMON_ENV.pipelinesTable]: tables.pipelines,
    [COMMON_ENV.executionHistoryTable]: tables.executionHistory,
    [COMMON_ENV.executionTtlDays]: '30',
    [HANDLER_ENV.routing.team]: team,
    [HANDLER_ENV.routing.pipeline]: 'standard',
    [HANDLER_ENV.routing.stageAQueueUrl]: queues.stageA,
    [HANDLER_ENV.step.stageBucket]: buckets.stage,
    [HANDLER_ENV.step.analyticsBucket]: buckets.analytics,
    [HANDLER_ENV.step.stageADeadLetterQueueUrl]: queues.stageADlq,
    [HANDLER_ENV.step.stageBWakeQueueUrl]: queues.stageBWake,
    [HANDLER_ENV['stage-b-trigger'].artifactsBucket]: buckets.artifacts,
    [HANDLER_ENV['light-transform'].dataset]: dataset,
  };
  return { prefix, env, team, dataset, buckets, tables, queues, stateMachines, config, env_ };
}
