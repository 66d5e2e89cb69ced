import { describe, expect, it } from 'vitest';
import type { StageBExecutionInput } from '../../../src/runtime/contract.js';
import {
  batchIdOf,
  planBatches,
  type ReceivedMessage,
  runStep,
  stageBOnError,
  stageBPostUpdate,
  stageBPreUpdate,
  triggerStageB,
} from '../../../src/runtime/core/index.js';
import { datasetConfig, memoryDeps } from '../helpers.js';

function message(key: string, n: number, overrides: Record<string, unknown> = {}): ReceivedMessage {
  return {
    id: `m${n}`,
    receiptHandle: `r${n}`,
    receiveCount: 1,
    body: JSON.stringify({
      bucket: 'stage',
      key,
      team: 'demoteam',
      dataset: 'legislators',
      sourceExecutionId: 'a-1',
      ...overrides,
    }),
  };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => message(`demoteam/legislators/t/f${i}.jsonl`, i));
const triggerOptions = {
  team: 'demoteam',
  pipeline: 'standard',
  stateMachineArn: 'arn:aws:states:us-east-1:222222222222:stateMachine:stage-b',
  artifactsBucket: 'artifacts',
};

async function stageBMessages(deps: ReturnType<typeof memoryDeps>, count: number, queueUrl = datasetConfig().stageBQueueUrl) {
  await deps.queue.send(
    queueUrl,
    keys(count).map((m, i) => ({ body: m.body, groupId: `g${i}`, deduplicationId: `d${i}` })),
  );
}

describe('planBatches', () => {
  it.each([
    ['fewer than min: all held', 2, { minItems: 3, maxItems: 5 }, [], 2],
    ['exactly min', 3, { minItems: 3, maxItems: 5 }, [3], 0],
    ['more than max: full batches, remainder batched when >= min', 12, { minItems: 2, maxItems: 5 }, [5, 5, 2], 0],
    ['more than max: remainder below min held', 11, { minItems: 2, maxItems: 5 }, [5, 5], 1],
    ['min 1 max 1', 3, { minItems: 1, maxItems: 1 }, [1, 1, 1], 0],
    ['nothing received', 0, { minItems: 1, maxItems: 100 }, [], 0],
  ])('plans %s', (_label, count, limits, sizes, held) => {
    const plan = planBatches(keys(count), limits);
    expect(plan.batches.map((b) => b.objects.length)).toEqual(sizes);
    expect(plan.held).toHaveLength(held);
    expect(plan.invalid).toEqual([]);
  });

  it('folds messages for the same key into one item and consumes all their receipts', () => {
    const plan = planBatches([message('k1', 1), message('k1', 2), message('k2', 3)], { minItems: 1, maxItems: 10 });
    expect(plan.batches[0]?.objects.map((o) => o.key)).toEqual(['k1', 'k2']);
    expect(plan.batches[0]?.receiptHandles).toEqual(['r1', 'r2', 'r3']);
  });

  it.each([
    ['not JSON', { id: 'x', receiptHandle: 'rx', receiveCount: 1, body: 'nope' }, /not JSON/],
    ['no key', message('', 9), /"key" must be a non-empty string/],
    ['another dataset', message('k', 9, { dataset: 'other' }), /for demoteam\/other, not demoteam\/legislators/],
  ])('marks a message with %s invalid', (_label, bad, reason) => {
    const plan = planBatches(
      [bad, message('k1', 1)],
      { minItems: 1, maxItems: 10 },
      { team: 'demoteam', dataset: 'legislators' },
    );
    expect(plan.invalid).toEqual([{ message: bad, reason: expect.stringMatching(reason) }]);
    expect(plan.batches[0]?.objects).toHaveLength(1);
  });

  it.each([[{ minItems: 0, maxItems: 5 }], [{ minItems: 6, maxItems: 5 }], [{ minItems: 1.5, maxItems: 5 }]])(
    'throws for invalid limits %j',
    (limits) => {
      expect(() => planBatches([], limits)).toThrow(/Invalid stage B batch limits/);
    },
  );
});

describe('triggerStageB', () => {
  it('writes a manifest per batch, starts one run per batch and deletes the batched messages', async () => {
    // Given 5 staged keys and a dataset batching 2..3
    const deps = memoryDeps([datasetConfig({ minItemsProcess: 2, maxItemsProcess: 3 })]);
    await stageBMessages(deps, 5);
    // When the trigger runs
    const [result] = await triggerStageB(deps, triggerOptions);
    // Then batches of 3 and 2 start, with a manifest of s3:// URIs each
    expect(result?.executions.map((e) => e.keys)).toEqual([3, 2]);
    const input = deps.workflow.runs[0]?.input as StageBExecutionInput;
    expect(input).toMatchObject({
      stage: 'b',
      team: 'demoteam',
      dataset: 'legislators',
      glueJob: 'ddk-dev-demoteam-legislators-heavy-transform',
      glueDatabase: 'ddk_dev_demoteam_legislators',
      keys: ['demoteam/legislators/t/f0.jsonl', 'demoteam/legislators/t/f1.jsonl', 'demoteam/legislators/t/f2.jsonl'],
    });
    expect(input.executionId).toBe(
      batchIdOf(
        'demoteam',
        'legislators',
        input.keys.map((k) => `s3://stage/${k}`),
        ['a-1'],
      ),
    );
    expect(input.manifest).toBe(`s3://artifacts/manifests/demoteam/legislators/${input.executionId}.json`);
    expect(JSON.parse(deps.store.text('artifacts', `manifests/demoteam/legislators/${input.executionId}.json`) ?? '')).toEqual(
      input.keys.map((k) => `s3://stage/${k}`),
    );
    expect(deps.queue.bodies(datasetConfig().stageBQueueUrl)).toEqual([]);
  });

  it('holds messages below the minimum for a later run', async () => {
    const deps = memoryDeps([datasetConfig({ minItemsProcess: 3, maxItemsProcess: 10 })]);
    await stageBMessages(deps, 2);
    const [result] = await triggerStageB(deps, triggerOptions);
    expect(result).toMatchObject({ executions: [], held: 2 });
    expect(await deps.queue.receive(datasetConfig().stageBQueueUrl, { max: 10 })).toHaveLength(2);
  });

  it('does not start a batch twice when its messages are delivered again', async () => {
    const deps = memoryDeps();
    await stageBMessages(deps, 2);
    const messages = deps.queue.queues.get(datasetConfig().stageBQueueUrl)?.map((m) => ({ ...m })) ?? [];
    await triggerStageB(deps, triggerOptions);
    const [first] = deps.workflow.runs;
    await stageBPreUpdate(first?.input as StageBExecutionInput, deps, { ttlDays: 30 });
    // the same messages come back (e.g. a delete that failed)
    deps.queue.queues.set(datasetConfig().stageBQueueUrl, messages);
    const [again] = await triggerStageB(deps, triggerOptions);
    expect(again?.executions).toEqual([expect.objectContaining({ started: false })]);
    expect(deps.workflow.runs).toHaveLength(1);
  });

  it('moves invalid messages to the dataset DLQ', async () => {
    const deps = memoryDeps();
    await deps.queue.send(datasetConfig().stageBQueueUrl, [{ body: 'garbage', groupId: 'g', deduplicationId: 'd' }]);
    const [result] = await triggerStageB(deps, triggerOptions);
    expect(result?.invalid).toBe(1);
    expect(deps.queue.bodies(datasetConfig().stageBDeadLetterQueueUrl)).toEqual(['garbage']);
    expect(deps.queue.bodies(datasetConfig().stageBQueueUrl)).toEqual([]);
  });

  it('keeps the messages of a batch that fails to start and carries on with other datasets', async () => {
    const other = datasetConfig({ dataset: 'orders' });
    const deps = memoryDeps([datasetConfig(), other]);
    await stageBMessages(deps, 1);
    await deps.queue.send(other.stageBQueueUrl, [
      { body: message('demoteam/orders/t/x.jsonl', 1, { dataset: 'orders' }).body, groupId: 'g', deduplicationId: 'd' },
    ]);
    const start = deps.workflow.start.bind(deps.workflow);
    deps.workflow.start = async (arn, name, input) => {
      if ((input as StageBExecutionInput).dataset === 'legislators') throw new Error('throttled');
      return start(arn, name, input);
    };
    const results = await triggerStageB(deps, triggerOptions);
    expect(results.map((r) => [r.dataset, r.executions.length, r.failed.length])).toEqual([
      ['legislators', 0, 1],
      ['orders', 1, 0],
    ]);
    expect(await deps.queue.receive(datasetConfig().stageBQueueUrl, { max: 10 })).toHaveLength(1);
  });

  it('starts at most 10 batches per dataset and hides received messages for 300 s by default', async () => {
    // Given 12 staged keys and batches of one
    const deps = memoryDeps([datasetConfig({ minItemsProcess: 1, maxItemsProcess: 1 })]);
    await stageBMessages(deps, 12);
    const receive = deps.queue.receive.bind(deps.queue);
    const asked: unknown[] = [];
    deps.queue.receive = async (url, options) => {
      asked.push(options);
      return receive(url, options);
    };
    // When the trigger runs with its defaults
    const [result] = await triggerStageB(deps, triggerOptions);
    // Then 10 batches start (@default maxBatchesPerDataset 10) and 2 keys stay queued
    expect(result?.executions).toHaveLength(10);
    expect(deps.queue.bodies(datasetConfig().stageBQueueUrl)).toHaveLength(2);
    // @default visibilityTimeoutSeconds 300
    expect(asked).toEqual([{ max: 10, visibilityTimeoutSeconds: 300 }]);
  });

  it('only batches datasets of its own pipeline', async () => {
    const deps = memoryDeps([datasetConfig({ pipeline: 'custom' })]);
    await stageBMessages(deps, 1);
    expect(await triggerStageB(deps, triggerOptions)).toEqual([]);
  });
});

describe('stage B steps', () => {
  async function startedBatch(deps: ReturnType<typeof memoryDeps>): Promise<StageBExecutionInput> {
    await stageBMessages(deps, 2);
    await triggerStageB(deps, triggerOptions);
    return deps.workflow.runs[0]?.input as StageBExecutionInput;
  }

  it('pre-update records the batch keys and post-update the tables of the job result', async () => {
    const deps = memoryDeps();
    const execution = await startedBatch(deps);
    const started = await stageBPreUpdate(execution, deps, { ttlDays: 7 });
    expect(started).toMatchObject({ stage: 'b', status: 'PROCESSING', keys: execution.keys, source: execution.manifest });
    await deps.store.put(
      'artifacts',
      `manifests/demoteam/legislators/${execution.executionId}.result.json`,
      JSON.stringify({
        executionId: execution.executionId,
        tables: [{ table: 'persons', location: 's3://analytics/demoteam/legislators/persons/', records: 2 }],
      }),
    );
    const done = await stageBPostUpdate(execution, { Id: 'jr_1', JobRunState: 'SUCCEEDED' }, deps);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      outputs: [{ bucket: 'analytics', key: 'demoteam/legislators/persons/', table: 'persons', records: 2 }],
    });
    expect(done.transitions.at(-1)?.note).toBe('post-update (job run jr_1)');
    expect(deps.metadata.pipelines.get('demoteam-standard-stage-b')?.lastExecution.status).toBe('SUCCEEDED');
    expect(deps.metadata.datasets.get('demoteam-legislators')?.lastStageB?.status).toBe('SUCCEEDED');
  });

  it('post-update without a job result records no outputs and warns', async () => {
    const deps = memoryDeps();
    const execution = await startedBatch(deps);
    await stageBPreUpdate(execution, deps, { ttlDays: 7 });
    const done = await stageBPostUpdate(execution, {}, deps);
    expect(done.outputs).toEqual([]);
    expect(deps.logger.lines).toContainEqual(expect.objectContaining({ level: 'warn' }));
  });

  it('error puts every batch key on the stage B DLQ and records FAILED with the Glue cause', async () => {
    const deps = memoryDeps();
    const execution = await startedBatch(deps);
    await stageBPreUpdate(execution, deps, { ttlDays: 7 });
    const result = await stageBOnError(
      execution,
      { Error: 'States.TaskFailed', Cause: '{"JobRunState":"FAILED","ErrorMessage":"AnalysisException: table not found"}' },
      deps,
      { ttlDays: 7, stageBucket: 'stage' },
    );
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed', cause: 'AnalysisException: table not found' });
    expect(deps.queue.bodies(datasetConfig().stageBDeadLetterQueueUrl).map((b) => JSON.parse(b).key)).toEqual(execution.keys);
    expect(deps.metadata.executions.get(execution.executionId)?.status).toBe('FAILED');
  });

  it.each([
    ['STOPPED', { Error: 'States.TaskFailed', Cause: '{"JobRunState":"STOPPED"}' }],
    ['TIMEOUT', { Error: 'States.Timeout', Cause: 'timed out' }],
    ['ERROR', { Error: 'Glue.ConcurrentRunsExceededException', Cause: 'too many runs' }],
  ])('ends a %s job run in FAILED, never in a loop', async (_label, error) => {
    const deps = memoryDeps();
    const execution = await startedBatch(deps);
    await runStep({ step: 'pre-update', execution }, deps, { ttlDays: 7, stageADeadLetterQueueUrl: 'dlq', stageBucket: 'stage' });
    await runStep({ step: 'error', execution, error }, deps, {
      ttlDays: 7,
      stageADeadLetterQueueUrl: 'dlq',
      stageBucket: 'stage',
    });
    expect(deps.metadata.executions.get(execution.executionId)?.status).toBe('FAILED');
  });

  it('a redriven batch starts one new run over the same keys, staged by the failed batch', async () => {
    const deps = memoryDeps();
    const execution = await startedBatch(deps);
    await stageBPreUpdate(execution, deps, { ttlDays: 7 });
    await stageBOnError(execution, { Error: 'x', Cause: 'y' }, deps, { ttlDays: 7, stageBucket: 'stage' });
    // redrive: the DLQ messages go back to the stage B queue
    const dlq = deps.queue.queues.get(datasetConfig().stageBDeadLetterQueueUrl) ?? [];
    deps.queue.queues.set(datasetConfig().stageBQueueUrl, dlq);
    deps.queue.queues.set(datasetConfig().stageBDeadLetterQueueUrl, []);
    const [result] = await triggerStageB(deps, triggerOptions);
    const redriven = batchIdOf(
      'demoteam',
      'legislators',
      execution.keys.map((k) => `s3://stage/${k}`),
      [execution.executionId],
    );
    expect(result?.executions).toEqual([expect.objectContaining({ executionId: redriven, started: true })]);
    expect(deps.metadata.executions.get(execution.executionId)?.status).toBe('FAILED');
  });
});

describe('runStep', () => {
  it.each([
    ['no execution', { step: 'pre-update' }, /"execution.stage" must be "a" or "b"/],
    ['an unknown stage', { step: 'pre-update', execution: { stage: 'c' } }, /"execution.stage"/],
    ['an unknown step', { step: 'finish', execution: { stage: 'a' } }, /"step" must be/],
  ])('throws a MalformedInputError for %s', async (_label, input, message) => {
    const deps = memoryDeps();
    await expect(
      runStep(input as never, deps, { ttlDays: 1, stageADeadLetterQueueUrl: 'dlq', stageBucket: 'stage' }),
    ).rejects.toThrow(message);
  });
});
