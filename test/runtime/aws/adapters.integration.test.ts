import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DynamoMetadataStore,
  executionArnOf,
  S3ObjectStore,
  SfnWorkflow,
  SqsQueue,
  SsmDatasetConfigs,
} from '../../../src/runtime/aws/index.js';
import { COMMON_ENV, HANDLER_ENV } from '../../../src/runtime/contract.js';
import { InvalidTransitionError, MalformedInputError, ObjectNotFoundError } from '../../../src/runtime/core/index.js';
import { checkStagedClaims, checkStagedOwnership } from '../helpers.js';
import { createLake, type LakeFixture, motoClients, useMoto } from './moto.js';

let lake: LakeFixture;
let c: ReturnType<typeof motoClients>;

beforeAll(async () => {
  useMoto();
  c = motoClients();
  lake = await createLake();
});

async function* chunks(count: number, size: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    if (i === failAt) throw new Error('source failed');
    yield new Uint8Array(size).fill(97 + (i % 26));
  }
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

describe('S3ObjectStore', () => {
  it('puts text, bytes and streams, and reads, heads and lists them', async () => {
    const store = new S3ObjectStore(c.s3);
    await store.put(lake.buckets.stage, 'adapters/a.txt', 'hello');
    await store.put(lake.buckets.stage, 'adapters/b.bin', new Uint8Array([1, 2, 3]));
    const streamed = await store.put(lake.buckets.stage, 'adapters/c.txt', chunks(3, 4));
    expect(streamed.size).toBe(12);
    expect(await text(await store.get(lake.buckets.stage, 'adapters/a.txt'))).toBe('hello');
    expect(await text(await store.get(lake.buckets.stage, 'adapters/c.txt'))).toBe('aaaabbbbcccc');
    expect(await store.head(lake.buckets.stage, 'adapters/b.bin')).toMatchObject({ size: 3 });
    const listed = [];
    for await (const info of store.list(lake.buckets.stage, 'adapters/')) listed.push(info.key);
    expect(listed).toEqual(['adapters/a.txt', 'adapters/b.bin', 'adapters/c.txt']);
  });

  it('stores objects as application/octet-stream unless told otherwise', async () => {
    const store = new S3ObjectStore(c.s3);
    await store.put(lake.buckets.stage, 'adapters/typed.bin', 'x');
    await store.put(lake.buckets.stage, 'adapters/typed.json', '{}', { contentType: 'application/json' });
    await store.put(lake.buckets.stage, 'adapters/typed-stream.jsonl', chunks(1, 2), { contentType: 'application/x-ndjson' });
    const type = async (key: string) =>
      (await c.s3.send(new HeadObjectCommand({ Bucket: lake.buckets.stage, Key: key }))).ContentType;
    expect(await type('adapters/typed.bin')).toBe('application/octet-stream');
    expect(await type('adapters/typed.json')).toBe('application/json');
    expect(await type('adapters/typed-stream.jsonl')).toBe('application/x-ndjson');
  });

  it('streams a large body as a multipart upload', async () => {
    const store = new S3ObjectStore(c.s3);
    // 18 MB in 1 MB chunks: three 8 MB parts
    const info = await store.put(lake.buckets.stage, 'adapters/large.bin', chunks(18, 1024 * 1024));
    expect(info.size).toBe(18 * 1024 * 1024);
    expect((await store.head(lake.buckets.stage, 'adapters/large.bin'))?.size).toBe(18 * 1024 * 1024);
  });

  it.each([
    ['in the first part', 2],
    ['after several parts', 17],
  ])('rejects a stream that fails %s and leaves no object and no parts', async (_label, failAt) => {
    const store = new S3ObjectStore(c.s3);
    const key = `adapters/failed-${failAt}.bin`;
    await expect(store.put(lake.buckets.stage, key, chunks(20, 1024 * 1024, failAt))).rejects.toThrow('source failed');
    expect(await store.head(lake.buckets.stage, key)).toBeUndefined();
    const uploads = await c.s3.send(new ListMultipartUploadsCommand({ Bucket: lake.buckets.stage, Prefix: key }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('rejects a missing object with ObjectNotFoundError and heads it as undefined', async () => {
    const store = new S3ObjectStore(c.s3);
    await expect(store.get(lake.buckets.stage, 'adapters/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.head(lake.buckets.stage, 'adapters/missing')).toBeUndefined();
  });
});

describe('DynamoMetadataStore', () => {
  const execution = (id: string, startedAt: string, dataset = 'legislators') => ({
    id,
    stage: 'a' as const,
    team: 'demoteam',
    dataset,
    pipeline: 'standard',
    datasetKey: `demoteam/${dataset}`,
    startedAt,
    source: 's3://raw/x',
    expiresAt: 2_000_000_000,
  });

  it('starts an execution once, moves it along the allowed transitions and restarts it after a failure', async () => {
    const store = new DynamoMetadataStore(c.dynamo, lake.tables);
    const at = '2026-01-01T00:00:00.000Z';
    expect((await store.startExecution(execution('x-1', at), at)).existed).toBe(false);
    expect((await store.startExecution(execution('x-1', at), at)).existed).toBe(true);
    await store.transition('demoteam', 'x-1', 'PROCESSING', { at: '2026-01-01T00:00:01.000Z' });
    await expect(store.transition('demoteam', 'x-1', 'STARTED', { at })).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(store.transition('demoteam', 'missing', 'FAILED', { at })).rejects.toBeInstanceOf(InvalidTransitionError);
    const failed = await store.transition('demoteam', 'x-1', 'FAILED', {
      at: '2026-01-01T00:00:03.000Z',
      failure: { error: 'E', cause: 'boom' },
    });
    expect(failed).toMatchObject({ status: 'FAILED', durationMs: 3000, failure: { cause: 'boom' } });
    const restarted = await store.startExecution(execution('x-1', '2026-01-02T00:00:00.000Z'), '2026-01-02T00:00:00.000Z');
    expect(restarted).toMatchObject({ existed: false, execution: { attempt: 2, status: 'STARTED' } });
    expect((await store.getExecution('demoteam', 'x-1'))?.transitions.map((t) => t.status)).toEqual([
      'STARTED',
      'PROCESSING',
      'FAILED',
      'STARTED',
    ]);
  });

  it('lets only one of two concurrent transitions win', async () => {
    const store = new DynamoMetadataStore(c.dynamo, lake.tables);
    const at = '2026-01-01T00:00:00.000Z';
    await store.startExecution(execution('x-2', at), at);
    const results = await Promise.allSettled([
      store.transition('demoteam', 'x-2', 'SUCCEEDED', { at: '2026-01-01T00:00:01.000Z' }),
      store.transition('demoteam', 'x-2', 'FAILED', { at: '2026-01-01T00:00:01.000Z', failure: { error: 'E', cause: 'c' } }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await store.getExecution('demoteam', 'x-2'))?.transitions).toHaveLength(2);
  });

  it("lists a dataset's executions newest first through the dataset index, and a team's by scan", async () => {
    const store = new DynamoMetadataStore(c.dynamo, lake.tables);
    for (const [id, day, dataset] of [
      ['l-1', '01', 'listed'],
      ['l-2', '03', 'listed'],
      ['l-3', '02', 'listed'],
      ['o-1', '04', 'other'],
    ] as const) {
      const at = `2026-02-${day}T00:00:00.000Z`;
      await store.startExecution(execution(id, at, dataset), at);
    }
    const listed = await store.listExecutions({ team: 'demoteam', dataset: 'listed', limit: 2 });
    expect(listed.map((e) => e.id)).toEqual(['l-2', 'l-3']);
    const team = await store.listExecutions({ team: 'demoteam', limit: 1 });
    expect(team.map((e) => e.id)).toEqual(['o-1']);
  });

  it('claims staged objects for one stage B batch at a time, reading 120 claims in batches', async () => {
    await checkStagedClaims(new DynamoMetadataStore(c.dynamo, lake.tables), 120, 'dynamo-claims');
  });

  it('refuses a staged key recorded for another raw object, atomically', async () => {
    await checkStagedOwnership(new DynamoMetadataStore(c.dynamo, lake.tables), 'dynamo-owners');
  });

  it('keeps the Pipelines item and the last run of an existing Datasets item', async () => {
    const store = new DynamoMetadataStore(c.dynamo, lake.tables);
    await store.putDataset({
      name: 'demoteam/legislators',
      team: 'demoteam',
      dataset: 'legislators',
      pipeline: 'standard',
      stageATransform: 'a',
      stageBTransform: 'b',
      minItemsProcess: 1,
      maxItemsProcess: 10,
      version: 1,
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    const last = {
      executionId: 'x',
      dataset: 'legislators',
      status: 'SUCCEEDED' as const,
      at: '2026-03-01T00:00:00.000Z',
      durationMs: 5,
    };
    await store.recordPipelineRun({ team: 'demoteam', pipeline: 'standard', stage: 'b', execution: last });
    expect(await store.getDataset('demoteam', 'legislators')).toMatchObject({ lastStageB: last, maxItemsProcess: 10 });
    // a dataset without an item is not created by a run
    await store.recordPipelineRun({
      team: 'demoteam',
      pipeline: 'standard',
      stage: 'a',
      execution: { ...last, dataset: 'ghost' },
    });
    expect(await store.getDataset('demoteam', 'ghost')).toBeUndefined();
  });
});

describe('SqsQueue', () => {
  it('sends in batches, deduplicates, receives beyond 10 per call, releases and deletes', async () => {
    const queue = new SqsQueue(c.sqs);
    const messages = Array.from({ length: 25 }, (_, i) => ({ body: `m${i}`, groupId: `g${i}`, deduplicationId: `d${i}` }));
    await queue.send(lake.queues.stageBDlq, messages);
    await queue.send(lake.queues.stageBDlq, messages.slice(0, 5));
    const received = await queue.receive(lake.queues.stageBDlq, { max: 100, visibilityTimeoutSeconds: 60 });
    expect(received.map((m) => m.body).sort()).toEqual(messages.map((m) => m.body).sort());
    await queue.release(
      lake.queues.stageBDlq,
      received.slice(0, 3).map((m) => m.receiptHandle),
    );
    const again = await queue.receive(lake.queues.stageBDlq, { max: 100 });
    expect(again).toHaveLength(3);
    expect(again[0]?.receiveCount).toBe(2);
    await queue.delete(
      lake.queues.stageBDlq,
      [...received.slice(3), ...again].map((m) => m.receiptHandle),
    );
    expect(await queue.receive(lake.queues.stageBDlq, { max: 10 })).toEqual([]);
  });
});

describe('SsmDatasetConfigs', () => {
  it('reads a dataset parameter, lists the team, and answers undefined for an unknown dataset', async () => {
    const configs = new SsmDatasetConfigs(c.ssm, { prefix: lake.prefix, env: lake.env });
    expect(await configs.get('demoteam', 'legislators')).toEqual(lake.config);
    expect(await configs.get('demoteam', 'nope')).toBeUndefined();
    expect((await configs.list('demoteam')).map((d) => d.dataset)).toEqual(['legislators']);
  });

  it('throws a MalformedInputError naming the parameter and field of a bad value', async () => {
    const name = `/${lake.prefix}/${lake.env}/datasets/badteam/bad`;
    await c.ssm.send(
      new PutParameterCommand({ Name: name, Type: 'String', Value: JSON.stringify({ ...lake.config, maxItemsProcess: 0 }) }),
    );
    const configs = new SsmDatasetConfigs(c.ssm, { prefix: lake.prefix, env: lake.env });
    const error = await configs.get('badteam', 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedInputError);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toContain('"maxItemsProcess" must be an integer >= 1');
  });
});

describe('SfnWorkflow', () => {
  it('starts a named execution once and reports a second start as not started', async () => {
    const workflow = new SfnWorkflow(c.sfn);
    const first = await workflow.start(lake.stateMachines.a, 'named-1', { a: 1 });
    expect(first).toEqual({ runId: executionArnOf(lake.stateMachines.a, 'named-1'), started: true });
    const second = await workflow.start(lake.stateMachines.a, 'named-1', { a: 2 });
    expect(second.started).toBe(false);
  });
});

describe('handlers at cold start', () => {
  it.each([
    ['routing', HANDLER_ENV.routing.stageAQueueUrl],
    ['step', HANDLER_ENV.step.stageADeadLetterQueueUrl],
    ['stage-b-trigger', HANDLER_ENV['stage-b-trigger'].artifactsBucket],
    ['stage-a-trigger', COMMON_ENV.executionHistoryTable],
  ])('throws when the %s handler misses %s, naming the variable', async (name, variable) => {
    vi.resetModules();
    const saved = { ...process.env };
    Object.assign(process.env, lake.env_, { [HANDLER_ENV['stage-a-trigger'].stateMachineArn]: lake.stateMachines.a });
    delete process.env[variable];
    try {
      await expect(import(`../../../src/runtime/handlers/${name}/handler.ts`)).rejects.toThrow(
        `Environment variable ${variable} is not set`,
      );
    } finally {
      process.env = saved;
    }
  });

  it('throws for a TTL that is not a positive number', async () => {
    vi.resetModules();
    const saved = { ...process.env };
    Object.assign(process.env, lake.env_, { [COMMON_ENV.executionTtlDays]: 'forever' });
    try {
      await expect(import('../../../src/runtime/handlers/routing/handler.js')).rejects.toThrow(
        `Environment variable ${COMMON_ENV.executionTtlDays} must be a positive number, got "forever"`,
      );
    } finally {
      process.env = saved;
    }
  });
});
