import { describe, expect, it } from 'vitest';
import { MAX_RECEIVE_COUNT, type StageBExecutionInput } from '../../../src/runtime/contract.js';
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
import { executionKeyOf, objectKeyOf } from '../../../src/runtime/core/metadata-items.js';
import { checkStagedClaims, checkStagedOwnership, datasetConfig, memoryDeps, stagedObjectItem } from '../helpers.js';

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

/**
 * Does what stage A post-update does for staged keys `from`..`from + count - 1`: records each staged object in
 * `ObjectMetadata` and sends its stage B message.
 */
async function stageBMessages(
  deps: ReturnType<typeof memoryDeps>,
  count: number,
  queueUrl = datasetConfig().stageBQueueUrl,
  from = 0,
) {
  const sent = keys(from + count).slice(from);
  for (const m of sent) {
    const { bucket, key, team, dataset, sourceExecutionId } = JSON.parse(m.body);
    await deps.metadata.putObject(team, stagedObjectItem(bucket, key, { team, dataset, executionId: sourceExecutionId }));
  }
  await deps.queue.send(
    queueUrl,
    sent.map((m) => ({ body: m.body, groupId: `g${m.id}`, deduplicationId: `d${m.id}` })),
  );
}

/** Makes the next call of `target[method]` throw `message`, as a crash or timeout there would; later calls work. */
function failOnce<T extends object>(target: T, method: keyof T & string, message: string): void {
  const original = (target[method] as (...args: unknown[]) => unknown).bind(target);
  (target as Record<string, unknown>)[method] = async () => {
    (target as Record<string, unknown>)[method] = original;
    throw new Error(message);
  };
}

/** The keys of every workflow run, by run. */
const runKeys = (deps: ReturnType<typeof memoryDeps>) => deps.workflow.runs.map((r) => (r.input as StageBExecutionInput).keys);

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
  it('wakes itself again when more staged messages wait than one run receives, so none waits for a new arrival', async () => {
    // Given 5 staged keys, a dataset batching 1..2 and a run that starts at most 1 batch (so receives 2 messages)
    const deps = memoryDeps([datasetConfig({ minItemsProcess: 1, maxItemsProcess: 2 })]);
    await stageBMessages(deps, 5);
    const options = { ...triggerOptions, maxBatchesPerDataset: 1, wakeQueueUrl: 'wake' };
    // When the trigger runs
    const [first] = await triggerStageB(deps, options);
    // Then it starts one batch of 2 and wakes stage B again for the rest
    expect(first?.executions.map((e) => e.keys)).toEqual([2]);
    expect(first?.more).toBe(true);
    expect(deps.queue.bodies('wake').map((b) => JSON.parse(b))).toEqual([
      { team: 'demoteam', dataset: 'legislators', staged: 0, source: 'stage-b-trigger' },
    ]);
    // And the runs those wakes start take the rest, the last one waking nothing more
    await triggerStageB(deps, options);
    const [last] = await triggerStageB(deps, options);
    expect(runKeys(deps).map((k) => k.length)).toEqual([2, 2, 1]);
    expect(last?.more).toBe(false);
    expect(deps.queue.bodies('wake')).toHaveLength(2);
  });

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

  it('keeps held messages off the dead-letter queue however many runs they wait, and batches them once enough arrived', async () => {
    const config = datasetConfig({ minItemsProcess: 5, maxItemsProcess: 10 });
    const deps = memoryDeps([config]);
    await stageBMessages(deps, 2);
    for (let tick = 0; tick < 2 * MAX_RECEIVE_COUNT; tick++) {
      const [result] = await triggerStageB(deps, triggerOptions);
      expect(result).toMatchObject({ executions: [], held: 2, invalid: 0 });
    }
    expect(deps.queue.bodies(config.stageBDeadLetterQueueUrl)).toEqual([]);
    expect(deps.queue.bodies(config.stageBQueueUrl)).toHaveLength(2);

    await stageBMessages(deps, 3, config.stageBQueueUrl, 2);
    const [result] = await triggerStageB(deps, triggerOptions);
    expect(result?.held).toBe(0);
    expect(deps.workflow.runs).toHaveLength(1);
    expect((deps.workflow.runs[0]?.input as StageBExecutionInput | undefined)?.keys).toHaveLength(5);
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

  it('claims the staged objects of a batch it hands over', async () => {
    const deps = memoryDeps();
    await stageBMessages(deps, 2);
    await triggerStageB(deps, triggerOptions);
    const input = deps.workflow.runs[0]?.input as StageBExecutionInput;
    const { executionId } = input;
    expect(input.keys.map((k) => deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${k}`))?.batchId)).toEqual([
      executionId,
      executionId,
    ]);
  });

  describe('after a trigger that stopped part-way', () => {
    const first = ['demoteam/legislators/t/f0.jsonl', 'demoteam/legislators/t/f1.jsonl'];
    const later = ['demoteam/legislators/t/f2.jsonl'];

    it('resumes a batch that started but whose messages were not deleted, never re-batching its objects', async () => {
      // Given a trigger that started a batch of 2 and stopped before deleting its messages
      const deps = memoryDeps();
      await stageBMessages(deps, 2);
      failOnce(deps.queue, 'delete', 'Task timed out');
      const [stopped] = await triggerStageB(deps, triggerOptions);
      expect(stopped?.failed).toHaveLength(1);
      // When a new object arrives and the trigger runs again
      await stageBMessages(deps, 1, undefined, 2);
      const [result] = await triggerStageB(deps, triggerOptions);
      // Then the first batch is not started again and the new object gets a batch of its own
      expect(result?.executions).toEqual([
        expect.objectContaining({ started: false, resumed: true, keys: 2 }),
        expect.objectContaining({ started: true, keys: 1 }),
      ]);
      expect(runKeys(deps)).toEqual([first, later]);
      expect(deps.queue.bodies(datasetConfig().stageBQueueUrl)).toEqual([]);
    });

    it('starts a claimed batch that never started with its own objects, under its own name', async () => {
      // Given a trigger that wrote the manifest and claimed the objects, then failed to start the workflow
      const deps = memoryDeps();
      await stageBMessages(deps, 2);
      failOnce(deps.workflow, 'start', 'ThrottlingException');
      await triggerStageB(deps, triggerOptions);
      expect(deps.workflow.runs).toEqual([]);
      // When a new object arrives and the trigger runs again
      await stageBMessages(deps, 1, undefined, 2);
      const [result] = await triggerStageB(deps, triggerOptions);
      // Then the claimed batch starts with exactly its 2 objects and the batch id planned the first time
      const planned = batchIdOf(
        'demoteam',
        'legislators',
        first.map((k) => `s3://stage/${k}`),
        ['a-1'],
      );
      expect(result?.executions[0]).toMatchObject({ executionId: planned, name: planned, started: true, resumed: true });
      expect(runKeys(deps)).toEqual([first, later]);
    });

    it('claims the rest of a batch whose claims stopped half-way', async () => {
      const deps = memoryDeps();
      await stageBMessages(deps, 2);
      const claim = deps.metadata.claimStaged.bind(deps.metadata);
      deps.metadata.claimStaged = async (team, ids, batchId) => {
        deps.metadata.claimStaged = claim;
        await claim(team, ids.slice(0, 1), batchId);
        throw new Error('ProvisionedThroughputExceededException');
      };
      await triggerStageB(deps, triggerOptions);
      await stageBMessages(deps, 1, undefined, 2);
      await triggerStageB(deps, triggerOptions);
      expect(runKeys(deps)).toEqual([first, later]);
      const resumed = deps.workflow.runs[0]?.input as StageBExecutionInput;
      expect(first.map((k) => deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${k}`))?.batchId)).toEqual([
        resumed.executionId,
        resumed.executionId,
      ]);
    });

    it('gives back the objects of a claimed batch whose manifest is gone, and plans them again', async () => {
      const deps = memoryDeps();
      await stageBMessages(deps, 2);
      failOnce(deps.workflow, 'start', 'ThrottlingException');
      await triggerStageB(deps, triggerOptions);
      for (const key of [...deps.store.objects.keys()].filter((k) => k.startsWith('artifacts/'))) deps.store.objects.delete(key);
      const [givenBack] = await triggerStageB(deps, triggerOptions);
      expect(givenBack?.failed[0]?.error).toMatch(/has no manifest; they are given back/);
      expect(first.map((k) => deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${k}`))?.batchId)).toEqual([
        undefined,
        undefined,
      ]);
      const [planned] = await triggerStageB(deps, triggerOptions);
      expect(planned?.executions).toEqual([expect.objectContaining({ started: true, keys: 2 })]);
      expect(runKeys(deps)).toEqual([first]);
    });
  });

  it('deletes a late duplicate message of an object whose batch already runs', async () => {
    // Given a batch that started and moved to PROCESSING
    const deps = memoryDeps();
    await stageBMessages(deps, 2);
    await triggerStageB(deps, triggerOptions);
    await stageBPreUpdate(deps.workflow.runs[0]?.input as StageBExecutionInput, deps, { ttlDays: 30 });
    // When stage A's retried post-update sends the same object again (another deduplication id)
    const [duplicate] = keys(1);
    await deps.queue.send(datasetConfig().stageBQueueUrl, [
      { body: duplicate?.body ?? '', groupId: 'g', deduplicationId: 'retry' },
    ]);
    const [result] = await triggerStageB(deps, triggerOptions);
    // Then no second run starts and the message is gone
    expect(result?.executions).toEqual([expect.objectContaining({ started: false, resumed: true })]);
    expect(deps.workflow.runs).toHaveLength(1);
    expect(deps.queue.bodies(datasetConfig().stageBQueueUrl)).toEqual([]);
  });

  it('starts now with fewer objects than the minimum when asked, still at most the maximum per batch', async () => {
    // Given 5 staged keys of a dataset whose batches need 10 objects
    const deps = memoryDeps([datasetConfig({ minItemsProcess: 10, maxItemsProcess: 10 })]);
    await stageBMessages(deps, 5);
    // When the trigger is asked to start now
    const [result] = await triggerStageB(deps, { ...triggerOptions, dataset: 'legislators', now: true });
    // Then one batch of the 5 starts and nothing is held
    expect(result).toMatchObject({ held: 0 });
    expect(result?.executions.map((e) => e.keys)).toEqual([5]);
    expect(deps.queue.bodies(datasetConfig().stageBQueueUrl)).toEqual([]);
  });

  it('handles only the requested dataset of the pipeline, leaving the others staged', async () => {
    // Given two datasets of the pipeline with one staged key each
    const other = datasetConfig({ dataset: 'persons' });
    const deps = memoryDeps([datasetConfig(), other]);
    await stageBMessages(deps, 1);
    await stageBMessages(deps, 1, other.stageBQueueUrl);
    // When the trigger is asked for legislators only
    const results = await triggerStageB(deps, { ...triggerOptions, dataset: 'legislators', now: true });
    // Then only legislators is handled; persons' message waits for the schedule
    expect(results.map((r) => r.dataset)).toEqual(['legislators']);
    expect(deps.queue.bodies(other.stageBQueueUrl)).toHaveLength(1);
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
    expect(deps.metadata.pipelines.get('demoteam/standard-stage-b')?.lastExecution.status).toBe('SUCCEEDED');
    expect(deps.metadata.datasets.get('demoteam/legislators')?.lastStageB?.status).toBe('SUCCEEDED');
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
    expect(deps.metadata.executions.get(executionKeyOf('demoteam', execution.executionId))?.status).toBe('FAILED');
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
    expect(deps.metadata.executions.get(executionKeyOf('demoteam', execution.executionId))?.status).toBe('FAILED');
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
    expect(deps.metadata.executions.get(executionKeyOf('demoteam', execution.executionId))?.status).toBe('FAILED');
    // the failed batch gave its objects back; the new one holds them
    expect(execution.keys.map((k) => deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${k}`))?.batchId)).toEqual([
      redriven,
      redriven,
    ]);
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

describe('MemoryMetadataStore', () => {
  it('claims staged objects for one stage B batch at a time', async () => {
    await checkStagedClaims(memoryDeps().metadata);
  });

  it('keeps the staged-key ownership contract (memory store)', async () => {
    await checkStagedOwnership(memoryDeps().metadata);
  });
});
