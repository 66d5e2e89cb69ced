import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HANDLER_ENV, type StageAExecutionInput, type StageBExecutionInput } from '../../../src/runtime/contract.js';
import { createLake, type LakeFixture, motoClients, useMoto } from '../aws/moto.js';

// Each runtime SDK module counts the clients created from it.
const sdk = vi.hoisted(() => ({ created: {} as Record<string, number> }));

function counting<T extends new (...args: never[]) => object>(name: string, Client: T): T {
  return class extends Client {
    constructor(...args: never[]) {
      super(...args);
      sdk.created[name] = (sdk.created[name] ?? 0) + 1;
    }
  };
}

vi.mock('../../../src/runtime/aws/sdk/s3.js', async (original) => {
  const module = await original<typeof import('../../../src/runtime/aws/sdk/s3.js')>();
  return { ...module, S3Client: counting('s3', module.S3Client) };
});
vi.mock('../../../src/runtime/aws/sdk/sqs.js', async (original) => {
  const module = await original<typeof import('../../../src/runtime/aws/sdk/sqs.js')>();
  return { ...module, SQSClient: counting('sqs', module.SQSClient) };
});
vi.mock('../../../src/runtime/aws/sdk/ssm.js', async (original) => {
  const module = await original<typeof import('../../../src/runtime/aws/sdk/ssm.js')>();
  return { ...module, SSMClient: counting('ssm', module.SSMClient) };
});
vi.mock('../../../src/runtime/aws/sdk/sfn.js', async (original) => {
  const module = await original<typeof import('../../../src/runtime/aws/sdk/sfn.js')>();
  return { ...module, SFNClient: counting('sfn', module.SFNClient) };
});
vi.mock('../../../src/runtime/aws/sdk/dynamodb.js', async (original) => {
  const module = await original<typeof import('../../../src/runtime/aws/sdk/dynamodb.js')>();
  return { ...module, DynamoDBClient: counting('dynamodb', module.DynamoDBClient) };
});

let lake: LakeFixture;

beforeAll(() => {
  useMoto();
});

beforeEach(async () => {
  // A fresh container, on a lake of its own: the handler is imported again and reads its environment.
  vi.resetModules();
  lake = await createLake();
  Object.assign(process.env, lake.env_);
  sdk.created = {};
});

function stageAExecution(name: string): StageAExecutionInput {
  const message = {
    bucket: lake.buckets.raw,
    key: `${lake.team}/${lake.dataset}/${name}.json`,
    team: lake.team,
    dataset: lake.dataset,
    pipeline: 'standard',
    objectId: `lazy-${name}-${Date.now()}`,
  };
  return {
    ...message,
    stage: 'a',
    executionId: message.objectId,
    lightTransformFunction: lake.config.lightTransformFunction,
    stageBQueueUrl: lake.queues.stageB,
    message: JSON.stringify(message),
  };
}

describe('step handler', () => {
  it('creates the S3, SQS and SSM clients once each, on the first step that needs them', async () => {
    // Given a cold step function: only DynamoDB, which every step uses, is created at start
    const { handler } = await import('../../../src/runtime/handlers/step/handler.js');
    expect(sdk.created).toEqual({ dynamodb: 1 });

    // When a stage A pre-update runs, then SSM (the dataset's configuration) is created, S3 and SQS are not
    const first = stageAExecution('first');
    await handler({ step: 'pre-update', execution: first });
    expect(sdk.created).toEqual({ dynamodb: 1, ssm: 1 });

    // When its post-update queues the staged object for stage B, then SQS is created
    const staged = { bucket: lake.buckets.stage, key: `${lake.team}/${lake.dataset}/first/first.jsonl`, table: 'first' };
    await handler({ step: 'post-update', execution: first, result: { outputs: [staged] } });
    expect(sdk.created).toEqual({ dynamodb: 1, ssm: 1, sqs: 1 });

    // When a second execution runs the same steps, then no client is created again
    const second = stageAExecution('second');
    await handler({ step: 'pre-update', execution: second });
    const secondStaged = { ...staged, key: `${lake.team}/${lake.dataset}/first/second.jsonl` };
    await handler({ step: 'post-update', execution: second, result: { outputs: [secondStaged] } });
    expect(sdk.created).toEqual({ dynamodb: 1, ssm: 1, sqs: 1 });

    // When a stage B post-update looks for the job result, then S3 is created, once
    const stageB: StageBExecutionInput = {
      stage: 'b',
      executionId: `lazy-b-${Date.now()}`,
      team: lake.team,
      dataset: lake.dataset,
      pipeline: 'standard',
      glueJob: lake.config.glueJob,
      glueDatabase: lake.config.glueDatabase,
      manifest: `s3://${lake.buckets.artifacts}/manifests/${lake.team}/${lake.dataset}/lazy.json`,
      keys: [staged.key],
    };
    await handler({ step: 'pre-update', execution: stageB });
    await handler({ step: 'post-update', execution: stageB, result: { Id: 'jr_1' } });
    await handler({ step: 'post-update', execution: stageB, result: { Id: 'jr_1' } });
    expect(sdk.created).toEqual({ dynamodb: 1, ssm: 1, sqs: 1, s3: 1 });
  });
});

describe('stage-b-trigger handler', () => {
  it('creates the DynamoDB, S3 and Step Functions clients only on the first tick with a batch to start', async () => {
    // Given a cold stage B trigger: SSM and SQS, which every tick uses, are created at start
    process.env[HANDLER_ENV['stage-b-trigger'].stateMachineArn] = lake.stateMachines.b;
    const { handler } = await import('../../../src/runtime/handlers/stage-b-trigger/handler.js');
    expect(sdk.created).toEqual({ sqs: 1, ssm: 1 });

    // When a tick finds the stage B queue empty, then no other client is created
    expect(await handler({} as never)).toEqual([expect.objectContaining({ executions: [] })]);
    expect(sdk.created).toEqual({ sqs: 1, ssm: 1 });

    // When a tick finds a batch, then DynamoDB, S3 and Step Functions are created to start it
    const c = motoClients();
    const send = (key: string) =>
      c.sqs.send(
        new SendMessageCommand({
          QueueUrl: lake.queues.stageB,
          MessageBody: JSON.stringify({
            bucket: lake.buckets.stage,
            key,
            team: lake.team,
            dataset: lake.dataset,
            sourceExecutionId: `lazy-${key}`,
          }),
          MessageGroupId: key,
          MessageDeduplicationId: `lazy-${key}-${Date.now()}`,
        }),
      );
    await send('demoteam/legislators/lazy/one.jsonl');
    const [started] = await handler({} as never);
    expect(started?.executions).toEqual([expect.objectContaining({ started: true })]);
    expect(sdk.created).toEqual({ sqs: 1, ssm: 1, dynamodb: 1, s3: 1, sfn: 1 });

    // When a later tick starts another batch, then no client is created again
    await send('demoteam/legislators/lazy/two.jsonl');
    await handler({} as never);
    expect(sdk.created).toEqual({ sqs: 1, ssm: 1, dynamodb: 1, s3: 1, sfn: 1 });
  });
});
