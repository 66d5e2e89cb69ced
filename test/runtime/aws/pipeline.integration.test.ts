import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients.js';
import { moveMessages } from '../../../src/aws/queues.js';
import { S3ObjectStore } from '../../../src/runtime/aws/s3-object-store.js';
import { SqsQueue } from '../../../src/runtime/aws/sqs-queue.js';
import {
  HANDLER_ENV,
  MAX_RECEIVE_COUNT,
  REDRIVE_ATTRIBUTE,
  type StageAExecutionInput,
  type StageBExecutionInput,
} from '../../../src/runtime/contract.js';
import { stagedKeyOf } from '../../../src/runtime/core/ids.js';
import { executionKeyOf, objectKeyOf } from '../../../src/runtime/core/metadata-items.js';
import type { ExecutionItem } from '../../../src/runtime/core/model.js';
import { processObject } from '../../../src/runtime/core/stage-a.js';
import { triggerStageB } from '../../../src/runtime/core/stage-b.js';
import { bodyBytes } from '../../../src/runtime/memory/index.js';
import { defineLightTransform, flattenRecord, readRecords, tableNameOf } from '../../../src/runtime/transform/index.js';
import { datasetConfig, memoryDeps, recordingLogger, stagedObjectItem } from '../helpers.js';
import { createLake, type LakeFixture, motoClients, useMoto } from './moto.js';

/** Where stage A stages table persons of a version of demoteam/legislators/persons.json (the raw bucket is versioned). */
const personsStaged = (versionId: string) =>
  stagedKeyOf('demoteam', 'legislators', 'persons', 'demoteam/legislators/persons.json', versionId);

// The light-transform handler imports the user's transform from this module; the CDK app bundles the real one.
vi.mock('sdlf:user-transform', () => ({
  default: defineLightTransform(async function* (input) {
    const table = tableNameOf(input.key);
    for await (const record of readRecords(input)) yield { table, record: flattenRecord(record) };
  }),
}));

type Handlers = {
  routing: typeof import('../../../src/runtime/handlers/routing/handler.js').handler;
  stageATrigger: typeof import('../../../src/runtime/handlers/stage-a-trigger/handler.js').handler;
  step: typeof import('../../../src/runtime/handlers/step/handler.js').handler;
  stageBTrigger: typeof import('../../../src/runtime/handlers/stage-b-trigger/handler.js').handler;
  lightTransform: typeof import('../../../src/runtime/handlers/light-transform/handler.js').handler;
};

let lake: LakeFixture;
let handlers: Handlers;
let c: ReturnType<typeof motoClients>;

beforeAll(async () => {
  useMoto();
  c = motoClients();
  lake = await createLake();
  Object.assign(process.env, lake.env_);
  // Each handler reads its environment once, at import (cold start).
  process.env[HANDLER_ENV['stage-a-trigger'].stateMachineArn] = lake.stateMachines.a;
  const stageATrigger = (await import('../../../src/runtime/handlers/stage-a-trigger/handler.js')).handler;
  process.env[HANDLER_ENV['stage-b-trigger'].stateMachineArn] = lake.stateMachines.b;
  const stageBTrigger = (await import('../../../src/runtime/handlers/stage-b-trigger/handler.js')).handler;
  handlers = {
    routing: (await import('../../../src/runtime/handlers/routing/handler.js')).handler,
    stageATrigger,
    step: (await import('../../../src/runtime/handlers/step/handler.js')).handler,
    stageBTrigger,
    lightTransform: (await import('../../../src/runtime/handlers/light-transform/handler.js')).handler,
  };
});

/** Uploads a raw object and returns the EventBridge event S3 would emit for it. */
async function upload(key: string, body: string) {
  const put = await c.s3.send(new PutObjectCommand({ Bucket: lake.buckets.raw, Key: key, Body: body }));
  return {
    version: '0',
    id: 'event',
    'detail-type': 'Object Created' as const,
    source: 'aws.s3' as const,
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${lake.buckets.raw}`],
    detail: {
      version: '0',
      bucket: { name: lake.buckets.raw },
      object: {
        key,
        size: body.length,
        etag: (put.ETag ?? '').replaceAll('"', ''),
        'version-id': put.VersionId ?? '',
        sequencer: '1',
      },
      'request-id': 'r',
      requester: '123456789012',
      'source-ip-address': '127.0.0.1',
      reason: 'PutObject' as const,
    },
  };
}

/**
 * Takes every visible message off a queue, as the Lambda event source mapping does (it deletes what the function
 * handled), and returns them as an SQS event for a trigger.
 */
async function drain(queueUrl: string): Promise<SQSEvent> {
  const records: SQSEvent['Records'] = [];
  for (;;) {
    const response = await c.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!response.Messages?.length) break;
    for (const m of response.Messages) {
      await c.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      records.push({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {} as SQSEvent['Records'][number]['attributes'],
        messageAttributes: Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            { stringValue: value.StringValue, dataType: value.DataType ?? 'String', stringListValues: [], binaryListValues: [] },
          ]),
        ),
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:q.fifo',
        awsRegion: 'us-east-1',
      });
    }
  }
  return { Records: records };
}

async function queueDepth(queueUrl: string): Promise<number> {
  const response = await c.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(response.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

async function executionsOf(stateMachineArn: string) {
  return (await c.sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
}

async function executionInput<T>(executionArn: string | undefined): Promise<T> {
  const described = await c.sfn.send(new DescribeExecutionCommand({ executionArn }));
  return JSON.parse(described.input ?? '{}') as T;
}

async function historyItem(id: string): Promise<ExecutionItem | undefined> {
  const response = await c.dynamo.send(
    new GetItemCommand({ TableName: lake.tables.executionHistory, Key: { id: { S: executionKeyOf(lake.team, id) } } }),
  );
  return response.Item ? (unmarshall(response.Item) as ExecutionItem) : undefined;
}

async function objectText(bucket: string, key: string): Promise<string> {
  const response = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await response.Body?.transformToString()) ?? '';
}

/** The inputs of the stage A executions the trigger started for an SQS event's messages, in message order. */
async function executionInputs(event: SQSEvent): Promise<StageAExecutionInput[]> {
  const runs = await executionsOf(lake.stateMachines.a);
  return Promise.all(
    event.Records.map((record) => {
      const { objectId } = JSON.parse(record.body) as { objectId: string };
      return executionInput<StageAExecutionInput>(runs.find((e) => e.name === objectId)?.executionArn);
    }),
  );
}

/** Runs stage A of one execution as its state machine would: pre-update → process → post-update, or error. */
async function runStageA(execution: StageAExecutionInput) {
  await handlers.step({ step: 'pre-update', execution });
  try {
    // The Process state passes the raw object's version as the state machine definition does.
    const result = await handlers.lightTransform({
      bucket: execution.bucket,
      key: execution.key,
      versionId: execution.versionId,
      team: execution.team,
      dataset: execution.dataset,
      executionId: execution.executionId,
    });
    return await handlers.step({ step: 'post-update', execution, result });
  } catch (error) {
    const cause = JSON.stringify({ errorType: (error as Error).name, errorMessage: (error as Error).message });
    return handlers.step({ step: 'error', execution, error: { Error: (error as Error).name, Cause: cause } });
  }
}

describe('pipeline on moto_server', () => {
  it('routes a raw object through stage A to a stage B batch, recording every step', async () => {
    // Given a JSON Lines raw object under the dataset prefix
    const event = await upload(
      'demoteam/legislators/persons.json',
      '{"id":1,"name":{"given":"Ada"}}\n{"id":2,"name":{"given":"Bo"}}\n',
    );
    // When routing handles its event
    const routed = await handlers.routing(event);
    expect(routed.status).toBe('routed');
    // And the stage A trigger handles the queued message
    const sqsEvent = await drain(lake.queues.stageA);
    expect(sqsEvent.Records).toHaveLength(1);
    expect(await handlers.stageATrigger(sqsEvent)).toEqual({ batchItemFailures: [] });
    const [run] = await executionsOf(lake.stateMachines.a);
    const execution = await executionInput<StageAExecutionInput>(run?.executionArn);
    expect(execution).toMatchObject({ stage: 'a', key: 'demoteam/legislators/persons.json', stageBQueueUrl: lake.queues.stageB });
    expect(execution.versionId).toBe(event.detail.object['version-id']);
    const PERSONS_STAGED = personsStaged(execution.versionId);
    // And the stage A steps run
    await runStageA(execution);
    // Then the records are staged as flattened JSON Lines and the execution SUCCEEDED
    expect(await objectText(lake.buckets.stage, PERSONS_STAGED)).toBe(
      '{"id":1,"name_given":"Ada"}\n{"id":2,"name_given":"Bo"}\n',
    );
    const item = await historyItem(execution.executionId);
    expect(item).toMatchObject({ status: 'SUCCEEDED', datasetKey: 'demoteam/legislators', attempt: 1 });
    expect(item?.transitions.map((t) => t.status)).toEqual(['STARTED', 'PROCESSING', 'SUCCEEDED']);
    // And the staged key waits on the stage B queue, and stage B's wake queue has one wake for it
    const wakes = await drain(lake.queues.stageBWake);
    expect(wakes.Records.map((r) => JSON.parse(r.body))).toEqual([
      { team: 'demoteam', dataset: 'legislators', staged: 1, source: execution.executionId },
    ]);
    // And the trigger, invoked with the wakes as its event source does, batches it into a stage B execution
    const [batch] = await handlers.stageBTrigger(wakes);
    expect(batch?.executions).toEqual([expect.objectContaining({ started: true, keys: 1 })]);
    expect(await queueDepth(lake.queues.stageB)).toBe(0);
    const [bRun] = await executionsOf(lake.stateMachines.b);
    const stageB = await executionInput<StageBExecutionInput>(bRun?.executionArn);
    expect(stageB).toMatchObject({
      stage: 'b',
      keys: [PERSONS_STAGED],
      glueJob: lake.config.glueJob,
    });
    const manifestKey = stageB.manifest.replace(`s3://${lake.buckets.artifacts}/`, '');
    expect(JSON.parse(await objectText(lake.buckets.artifacts, manifestKey))).toEqual([
      `s3://${lake.buckets.stage}/${PERSONS_STAGED}`,
    ]);
    // And stage B's steps record the job's tables
    await handlers.step({ step: 'pre-update', execution: stageB });
    await c.s3.send(
      new PutObjectCommand({
        Bucket: lake.buckets.artifacts,
        Key: manifestKey.replace(/\.json$/, '.result.json'),
        Body: JSON.stringify({
          executionId: stageB.executionId,
          tables: [{ table: 'persons', location: `s3://${lake.buckets.analytics}/demoteam/legislators/persons/`, records: 2 }],
        }),
      }),
    );
    await handlers.step({ step: 'post-update', execution: stageB, result: { Id: 'jr_1', JobRunState: 'SUCCEEDED' } });
    expect(await historyItem(stageB.executionId)).toMatchObject({
      status: 'SUCCEEDED',
      outputs: [{ table: 'persons', bucket: lake.buckets.analytics, records: 2 }],
    });
    const pipelines = await c.dynamo.send(
      new GetItemCommand({ TableName: lake.tables.pipelines, Key: { name: { S: 'demoteam/standard-stage-b' } } }),
    );
    expect(unmarshall(pipelines.Item ?? {})).toMatchObject({
      lastExecution: { status: 'SUCCEEDED', executionId: stageB.executionId },
    });
  });

  it('turns a duplicate S3 event into a no-op', async () => {
    const event = await upload('demoteam/legislators/duplicate.json', '[{"id":1}]');
    await handlers.routing(event);
    await handlers.routing(event);
    expect((await drain(lake.queues.stageA)).Records).toHaveLength(1);
  });

  it('does not start a second execution when SQS redelivers a message', async () => {
    const event = await upload('demoteam/legislators/redelivered.json', '[{"id":1}]');
    await handlers.routing(event);
    const sqsEvent = await drain(lake.queues.stageA);
    const before = (await executionsOf(lake.stateMachines.a)).length;
    expect(await handlers.stageATrigger(sqsEvent)).toEqual({ batchItemFailures: [] });
    expect(await handlers.stageATrigger(sqsEvent)).toEqual({ batchItemFailures: [] });
    expect(await executionsOf(lake.stateMachines.a)).toHaveLength(before + 1);
  });

  it('fails only the object whose transform throws: FAILED with the cause, message on the DLQ', async () => {
    // Given a broken object and a good one
    await handlers.routing(await upload('demoteam/legislators/broken.json', '{"id":1}\n{"id":\n'));
    await handlers.routing(await upload('demoteam/legislators/good.json', '[{"id":7}]'));
    const sqsEvent = await drain(lake.queues.stageA);
    await handlers.stageATrigger(sqsEvent);
    const inputs = await Promise.all(
      sqsEvent.Records.map((r) => JSON.parse(r.body) as { objectId: string }).map(async ({ objectId }) => {
        const run = (await executionsOf(lake.stateMachines.a)).find((e) => e.name === objectId);
        return executionInput<StageAExecutionInput>(run?.executionArn);
      }),
    );
    // When both run stage A
    for (const execution of inputs) await runStageA(execution);
    // Then the broken one is FAILED with the parse error, and its original message is on the DLQ
    const broken = inputs.find((e) => e.key.endsWith('broken.json'));
    const good = inputs.find((e) => e.key.endsWith('good.json'));
    expect(await historyItem(broken?.executionId ?? '')).toMatchObject({
      status: 'FAILED',
      failure: { error: 'RecordParseError', cause: expect.stringContaining('demoteam/legislators/broken.json:2') },
    });
    const dlq = await drain(lake.queues.stageADlq);
    expect(dlq.Records.map((r) => r.body)).toEqual([broken?.message]);
    // And the good one succeeded
    expect((await historyItem(good?.executionId ?? ''))?.status).toBe('SUCCEEDED');
    expect(
      await objectText(
        lake.buckets.stage,
        stagedKeyOf('demoteam', 'legislators', 'good', 'demoteam/legislators/good.json', good?.versionId),
      ),
    ).toBe('{"id":7}\n');
  });

  it('restarts a FAILED execution for its redriven message only, not for a duplicate of its event', async () => {
    // Given an object whose stage A FAILED, its message on the stage A dead-letter queue
    const event = await upload('demoteam/legislators/late.json', '{"id":1}\n{oops\n');
    await handlers.routing(event);
    const first = await drain(lake.queues.stageA);
    await handlers.stageATrigger(first);
    const [record] = first.Records;
    const execution = (await executionInputs(first))[0];
    if (!record || !execution) throw new Error('no stage A execution started');
    await runStageA(execution);
    expect((await historyItem(execution.executionId))?.status).toBe('FAILED');
    // When a duplicate of its message arrives after SQS's deduplication window (a late S3 event)
    expect(await handlers.stageATrigger({ Records: [{ ...record, messageId: 'late' }] })).toEqual({ batchItemFailures: [] });
    // Then no second run starts and the execution stays FAILED
    expect((await executionsOf(lake.stateMachines.a)).filter((e) => e.name?.startsWith(execution.executionId))).toHaveLength(1);
    expect((await historyItem(execution.executionId))?.status).toBe('FAILED');
    // When sdlf redrive moves its dead letter back
    const moved = await moveMessages({ sqs: c.sqs } as AwsClients, { from: lake.queues.stageADlq, to: lake.queues.stageA });
    expect(moved.moved).toBe(1);
    const redriven = await drain(lake.queues.stageA);
    expect(redriven.Records[0]?.messageAttributes[REDRIVE_ATTRIBUTE]?.stringValue).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await handlers.stageATrigger(redriven)).toEqual({ batchItemFailures: [] });
    // Then its second attempt starts, under its own name
    expect((await executionsOf(lake.stateMachines.a)).map((e) => e.name)).toContain(`${execution.executionId}-2`);
  });

  it('records and drops an object under an unknown prefix', async () => {
    const event = await upload('demoteam/unknown/x.json', '[]');
    const depth = await queueDepth(lake.queues.stageA);
    expect(await handlers.routing(event)).toMatchObject({ status: 'unknown-dataset' });
    const item = await c.dynamo.send(
      new GetItemCommand({
        TableName: lake.tables.objectMetadata,
        Key: { id: { S: objectKeyOf('demoteam', `s3://${lake.buckets.raw}/demoteam/unknown/x.json`) } },
      }),
    );
    expect(unmarshall(item.Item ?? {})).toMatchObject({ status: 'UNKNOWN_DATASET', team: 'demoteam' });
    expect(await queueDepth(lake.queues.stageA)).toBe(depth);
  });

  it('reports a message that cannot start as a partial batch failure, with the later messages of its group only', async () => {
    const good = await upload('demoteam/legislators/after.json', '[]');
    await handlers.routing(good);
    const sqsEvent = await drain(lake.queues.stageA);
    const inGroup = (r: SQSEvent['Records'][number], group: string) =>
      ({ ...r, attributes: { ...r.attributes, MessageGroupId: group } }) as SQSEvent['Records'][number];
    const bad = inGroup(
      { ...sqsEvent.Records[0], messageId: 'bad', body: '{"not":"a message"}' } as SQSEvent['Records'][number],
      'demoteam-other',
    );
    const later = inGroup({ ...sqsEvent.Records[0], messageId: 'later-of-bad' } as SQSEvent['Records'][number], 'demoteam-other');
    // The good message is in the group routing gave it (its dataset): a poison message of another dataset does not hold it
    const goods = sqsEvent.Records.map((r) => inGroup(r, 'demoteam-legislators'));
    const response = await handlers.stageATrigger({ Records: [bad, ...goods, later] });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['bad', 'later-of-bad']);
    // …and its execution started
    const started = await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: lake.stateMachines.a }));
    const ids = goods.map((r) => (JSON.parse(r.body) as { objectId: string }).objectId);
    expect(ids).toHaveLength(1);
    expect(started.executions?.map((e) => e.name)).toContain(ids[0]);
  });

  it('without group ids (a standard queue), a message that cannot start holds every message after it', async () => {
    const good = await upload('demoteam/legislators/after-standard.json', '[]');
    await handlers.routing(good);
    const sqsEvent = await drain(lake.queues.stageA);
    const bad = { ...sqsEvent.Records[0], messageId: 'bad', body: '{"not":"a message"}' } as SQSEvent['Records'][number];
    const response = await handlers.stageATrigger({ Records: [bad, ...sqsEvent.Records] });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['bad', ...sqsEvent.Records.map((r) => r.messageId)]);
  });

  it('processes each of two quick uploads of one key from its own version, under its own staged key', async () => {
    // Given two uploads of one key before stage A runs
    const key = 'demoteam/legislators/twice.json';
    const first = await upload(key, '{"n":1}\n');
    const second = await upload(key, '{"n":2}\n');
    for (const event of [first, second]) expect((await handlers.routing(event)).status).toBe('routed');
    const sqsEvent = await drain(lake.queues.stageA);
    expect(await handlers.stageATrigger(sqsEvent)).toEqual({ batchItemFailures: [] });
    const inputs = await Promise.all(
      sqsEvent.Records.map(async (record) => {
        const { objectId } = JSON.parse(record.body) as { objectId: string };
        const run = (await executionsOf(lake.stateMachines.a)).find((e) => e.name === objectId);
        return executionInput<StageAExecutionInput>(run?.executionArn);
      }),
    );
    // When both executions run, the older one last
    const byVersion = (event: typeof first) => inputs.find((i) => i.versionId === event.detail.object['version-id']);
    const [older, newer] = [byVersion(first), byVersion(second)];
    if (!older || !newer)
      throw new Error(`expected one execution per version, got ${JSON.stringify(inputs.map((i) => i.versionId))}`);
    await runStageA(newer);
    await runStageA(older);
    // Then each staged the records of its own version, and neither replaced the other
    const staged = (execution: StageAExecutionInput) =>
      objectText(lake.buckets.stage, stagedKeyOf('demoteam', 'legislators', 'twice', key, execution.versionId));
    expect(await staged(older)).toBe('{"n":1}\n');
    expect(await staged(newer)).toBe('{"n":2}\n');
    for (const execution of [older, newer]) expect((await historyItem(execution.executionId))?.status).toBe('SUCCEEDED');
  });

  it('deletes the tables a multi-table transform had staged when a later table fails to finish', async () => {
    // Given a two-table transform whose second staged object cannot be stored
    const key = 'demoteam/legislators/two.json';
    const put = await c.s3.send(new PutObjectCommand({ Bucket: lake.buckets.raw, Key: key, Body: '[]' }));
    const s3 = new S3ObjectStore(c.s3);
    const store = Object.assign(Object.create(s3) as S3ObjectStore, {
      put: async (...args: Parameters<S3ObjectStore['put']>) => {
        if (!args[1].includes('/b/')) return s3.put(...args);
        await bodyBytes(args[2]);
        throw new Error('S3 is down');
      },
    });
    const two = defineLightTransform(async function* () {
      yield { table: 'a', record: { n: 1 } };
      yield { table: 'b', record: { n: 2 } };
    });
    const input = {
      bucket: lake.buckets.raw,
      key,
      versionId: put.VersionId,
      team: 'demoteam',
      dataset: 'legislators',
      executionId: 'a-two',
    };
    // When stage A processes it
    await expect(
      processObject(input, two, { store, logger: recordingLogger() }, { stageBucket: lake.buckets.stage, env: 'dev' }),
    ).rejects.toThrow('S3 is down');
    // Then table a, which was stored, is gone again
    const staged = stagedKeyOf('demoteam', 'legislators', 'a', key, put.VersionId);
    expect(await s3.head(lake.buckets.stage, staged)).toBeUndefined();
  });

  it('keeps staged objects that wait for min_items_process off a dead-lettering queue, tick after tick', async () => {
    // Given a stage B queue that dead-letters after MAX_RECEIVE_COUNT receives, as the deployed one does
    const fifo = { FifoQueue: 'true', VisibilityTimeout: '30' };
    const dlq =
      (await c.sqs.send(new CreateQueueCommand({ QueueName: 'held-stage-b-dlq.fifo', Attributes: fifo }))).QueueUrl ?? '';
    const dlqArn = (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
    const redrivePolicy = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT });
    const queueUrl =
      (
        await c.sqs.send(
          new CreateQueueCommand({ QueueName: 'held-stage-b.fifo', Attributes: { ...fifo, RedrivePolicy: redrivePolicy } }),
        )
      ).QueueUrl ?? '';
    const config = datasetConfig({ minItemsProcess: 5, stageBQueueUrl: queueUrl, stageBDeadLetterQueueUrl: dlq });
    const deps = { ...memoryDeps([config]), queue: new SqsQueue(c.sqs) };
    // And two staged objects, fewer than the dataset's minimum of 5
    const staged = ['a', 'b'].map((name) => ({ bucket: 'stage', key: `demoteam/legislators/t/${name}.jsonl` }));
    for (const { bucket, key } of staged) await deps.metadata.putObject('demoteam', stagedObjectItem(bucket, key));
    await c.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: staged.map((s, i) => ({
          Id: `m${i}`,
          MessageBody: JSON.stringify({ ...s, team: 'demoteam', dataset: 'legislators', sourceExecutionId: 'a-1' }),
          MessageGroupId: 'demoteam-legislators',
          MessageDeduplicationId: `held-${i}`,
        })),
      }),
    );
    const options = {
      team: 'demoteam',
      pipeline: 'standard',
      stateMachineArn: lake.stateMachines.b,
      artifactsBucket: 'artifacts',
    };
    // When the schedule ticks more often than the redrive policy allows receives
    for (let tick = 0; tick < 2 * MAX_RECEIVE_COUNT; tick++) {
      const [result] = await triggerStageB(deps, options);
      expect(result).toMatchObject({ executions: [], held: 2, invalid: 0 });
    }
    // Then both still wait on the queue and none was dead-lettered
    expect(await queueDepth(dlq)).toBe(0);
    expect(await queueDepth(queueUrl)).toBe(2);
  });

  it('rejects a light transform input for another dataset', async () => {
    await expect(
      handlers.lightTransform({ bucket: lake.buckets.raw, key: 'x', team: 'demoteam', dataset: 'orders', executionId: 'a-1' }),
    ).rejects.toThrow(/this function transforms demoteam\/legislators/);
  });
});
