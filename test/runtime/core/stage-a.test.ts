import { describe, expect, it } from 'vitest';
import type { StageAExecutionInput } from '../../../src/runtime/contract.js';
import {
  InvalidTransitionError,
  MalformedInputError,
  objectIdOf,
  parseStageAMessage,
  processObject,
  routeObject,
  StagedKeyConflictError,
  stageAOnError,
  stageAPostUpdate,
  stageAPreUpdate,
  stagedKeyOf,
  startStageA,
  transformLocationOf,
  UnknownDatasetError,
} from '../../../src/runtime/core/index.js';
import { executionKeyOf, objectKeyOf } from '../../../src/runtime/core/metadata-items.js';
import { bodyBytes, MemoryObjectStore } from '../../../src/runtime/memory/index.js';
import {
  defineLightTransform,
  flattenRecord,
  type LightTransform,
  readRecords,
  tableNameOf,
} from '../../../src/runtime/transform/index.js';
import { datasetConfig, memoryDeps, objectCreated } from '../helpers.js';

/** Where stage A stages table persons of demoteam/legislators/persons.json. */
/** Where stage A stages table persons of version v1 (the version objectCreated gives) of persons.json. */
const PERSONS_STAGED = stagedKeyOf('demoteam', 'legislators', 'persons', 'demoteam/legislators/persons.json', 'v1');

const routeOptions = { team: 'demoteam', pipeline: 'standard', stageAQueueUrl: 'https://sqs/stage-a.fifo' };
const stateMachineArn = 'arn:aws:states:us-east-1:222222222222:stateMachine:ddk-dev-demoteam-standard-stage-a';
const dlq = 'https://sqs/stage-a-dlq.fifo';

/** The seed's behaviour: one table per file, records flattened. */
const flatten: LightTransform = defineLightTransform(async function* (input) {
  const table = tableNameOf(input.key);
  for await (const record of readRecords(input)) yield { table, record: flattenRecord(record) };
});

/** Routes a raw object and returns the stage A message body the queue holds. */
async function routed(deps: ReturnType<typeof memoryDeps>, key: string, content: string): Promise<string> {
  await deps.store.put('raw', key, content);
  await routeObject(objectCreated(key), deps, routeOptions);
  const body = deps.queue.bodies(routeOptions.stageAQueueUrl).at(-1);
  if (!body) throw new Error('nothing routed');
  return body;
}

async function started(deps: ReturnType<typeof memoryDeps>, key: string, content: string): Promise<StageAExecutionInput> {
  const body = await routed(deps, key, content);
  await startStageA(body, deps, { stateMachineArn });
  return deps.workflow.runs.at(-1)?.input as StageAExecutionInput;
}

describe('parseStageAMessage', () => {
  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['no bucket', JSON.stringify({ key: 'k' }), /"bucket" must be a non-empty string/],
    [
      'a numeric etag',
      JSON.stringify({ bucket: 'b', key: 'k', team: 't', dataset: 'd', pipeline: 'p', objectId: 'o', etag: 1 }),
      /"etag"/,
    ],
    [
      'a string size',
      JSON.stringify({ bucket: 'b', key: 'k', team: 't', dataset: 'd', pipeline: 'p', objectId: 'o', size: '1' }),
      /"size"/,
    ],
  ])('throws a MalformedInputError for %s', (_label, body, message) => {
    expect(() => parseStageAMessage(body)).toThrow(MalformedInputError);
    expect(() => parseStageAMessage(body)).toThrow(message);
  });
});

describe('startStageA', () => {
  it('starts one workflow run named after the object id, with the dataset functions and the message', async () => {
    const deps = memoryDeps();
    const body = await routed(deps, 'demoteam/legislators/persons.json', '[]');
    const result = await startStageA(body, deps, { stateMachineArn });
    const objectId = objectIdOf({ bucket: 'raw', key: 'demoteam/legislators/persons.json', versionId: 'v1' });
    expect(result).toEqual({ executionId: objectId, name: objectId, started: true });
    expect(deps.workflow.runs[0]?.input).toMatchObject({
      stage: 'a',
      executionId: objectId,
      lightTransformFunction: 'ddk-dev-demoteam-legislators-light-transform',
      stageBQueueUrl: datasetConfig().stageBQueueUrl,
      message: body,
    });
  });

  it('does not start a second run for a redelivered message', async () => {
    const deps = memoryDeps();
    const body = await routed(deps, 'demoteam/legislators/persons.json', '[]');
    await startStageA(body, deps, { stateMachineArn });
    const again = await startStageA(body, deps, { stateMachineArn });
    expect(again.started).toBe(false);
    expect(deps.workflow.runs).toHaveLength(1);
  });

  it('does not start a run again once the execution is under way or done', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    expect((await startStageA(execution.message, deps, { stateMachineArn })).started).toBe(false);
    expect(deps.workflow.runs).toHaveLength(1);
  });

  it('does not restart an execution that FAILED for a message that was not redriven (a duplicate or late event)', async () => {
    // Given an execution that FAILED, its message on the dead-letter queue
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    await stageAOnError(execution, { Error: 'Boom', Cause: 'x' }, deps, { deadLetterQueueUrl: dlq, ttlDays: 30 });
    // When the same object's message arrives again, not from a redrive
    const again = await startStageA(execution.message, deps, { stateMachineArn });
    // Then nothing starts, the execution stays FAILED, and the log says how to run it again
    expect(again).toEqual({ executionId: execution.executionId, name: execution.executionId, started: false });
    expect(deps.workflow.runs).toHaveLength(1);
    expect((await deps.metadata.getExecution('demoteam', execution.executionId))?.status).toBe('FAILED');
    expect(deps.logger.lines.find((l) => l.level === 'warn')?.message).toContain('sdlf redrive --stage a');
  });

  it('starts the next attempt under a new name when the execution FAILED and the message was redriven', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    await stageAOnError(execution, { Error: 'Boom', Cause: 'x' }, deps, { deadLetterQueueUrl: dlq, ttlDays: 30 });
    const again = await startStageA(execution.message, deps, { stateMachineArn, restartFailed: true });
    expect(again).toEqual({ executionId: execution.executionId, name: `${execution.executionId}-2`, started: true });
    const restarted = await stageAPreUpdate(deps.workflow.runs[1]?.input as StageAExecutionInput, deps, { ttlDays: 30 });
    expect(restarted).toMatchObject({ status: 'PROCESSING', attempt: 2 });
    expect(restarted.failure).toBeUndefined();
  });

  it('throws for a malformed message and for a dataset deregistered since routing', async () => {
    const deps = memoryDeps();
    await expect(startStageA('{"bucket":1}', deps, { stateMachineArn })).rejects.toThrow(MalformedInputError);
    const body = await routed(deps, 'demoteam/legislators/persons.json', '[]');
    const gone = memoryDeps([]);
    await expect(startStageA(body, gone, { stateMachineArn })).rejects.toThrow(UnknownDatasetError);
  });
});

describe('stageAPreUpdate', () => {
  it('records STARTED then PROCESSING with call-time timestamps, TTL and the dataset item', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    const item = await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    expect(item).toMatchObject({
      id: execution.executionId,
      stage: 'a',
      status: 'PROCESSING',
      datasetKey: 'demoteam/legislators',
      source: 's3://raw/demoteam/legislators/persons.json',
      attempt: 1,
    });
    expect(item.transitions.map((t) => t.status)).toEqual(['STARTED', 'PROCESSING']);
    expect(Date.parse(item.transitions[1]?.at ?? '')).toBeGreaterThan(Date.parse(item.transitions[0]?.at ?? ''));
    expect(item.expiresAt).toBe(Math.floor(Date.parse(item.startedAt) / 1000) + 30 * 86_400);
    expect(deps.metadata.datasets.get('demoteam/legislators')).toMatchObject({
      pipeline: 'standard',
      version: 1,
      minItemsProcess: 1,
    });
  });

  it('is a no-op when the step is retried', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const again = await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    expect(again.transitions).toHaveLength(2);
  });

  it('throws an InvalidTransitionError for an execution that already SUCCEEDED', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    await stageAPostUpdate(execution, { outputs: [] }, deps);
    await expect(stageAPreUpdate(execution, deps, { ttlDays: 30 })).rejects.toThrow(InvalidTransitionError);
  });
});

describe('processObject', () => {
  const input = (key: string) => ({
    bucket: 'raw',
    key,
    versionId: 'v1',
    team: 'demoteam',
    dataset: 'legislators',
    executionId: 'a-1',
  });

  it('reads the version of the raw object its execution is for, and stages each version under its own key', async () => {
    // Given two quick uploads of one key to a versioned raw bucket
    const deps = { ...memoryDeps(), store: new MemoryObjectStore(['raw']) };
    const key = 'demoteam/legislators/persons.json';
    const first = await deps.store.put('raw', key, '[{"id":1}]');
    const second = await deps.store.put('raw', key, '[{"id":2}]');
    // When the first upload's execution runs after the second upload
    const older = await processObject({ ...input(key), versionId: first.versionId }, flatten, deps, {
      stageBucket: 'stage',
      env: 'dev',
    });
    const newer = await processObject({ ...input(key), versionId: second.versionId, executionId: 'a-2' }, flatten, deps, {
      stageBucket: 'stage',
      env: 'dev',
    });
    // Then each staged its own version's records, under its own key
    const [olderKey, newerKey] = [older.outputs[0]?.key ?? '', newer.outputs[0]?.key ?? ''];
    expect(olderKey).not.toBe(newerKey);
    expect(deps.store.text('stage', olderKey)).toBe('{"id":1}\n');
    expect(deps.store.text('stage', newerKey)).toBe('{"id":2}\n');
    // And a version that does not exist fails the object, naming the version
    await expect(
      processObject({ ...input(key), versionId: 'v404' }, flatten, deps, { stageBucket: 'stage', env: 'dev' }),
    ).rejects.toThrow(`Version v404 of object s3://raw/${key} does not exist`);
  });

  it.each([
    ['a JSON array', 'demoteam/legislators/persons.json', '[{"id":1,"name":{"given":"Ada"}},{"id":2,"name":{"given":"Bo"}}]'],
    [
      'JSON Lines (the seed failed here)',
      'demoteam/legislators/persons.json',
      '{"id":1,"name":{"given":"Ada"}}\n{"id":2,"name":{"given":"Bo"}}\n',
    ],
  ])('stages %s as flattened JSON Lines under {team}/{dataset}/{table}/', async (_label, key, content) => {
    const deps = memoryDeps();
    await deps.store.put('raw', key, content);
    const result = await processObject(input(key), flatten, deps, { stageBucket: 'stage', env: 'dev' });
    expect(result).toEqual({
      outputs: [{ bucket: 'stage', key: PERSONS_STAGED, table: 'persons', records: 2 }],
    });
    expect(deps.store.text('stage', PERSONS_STAGED)).toBe('{"id":1,"name_given":"Ada"}\n{"id":2,"name_given":"Bo"}\n');
  });

  it('writes one object per table a transform yields, and nothing for an empty JSON Lines file', async () => {
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/2024/mixed.jsonl', '');
    const split = defineLightTransform(async function* () {
      yield { table: 'a', record: { n: 1 } };
      yield { table: 'b', record: { n: 2 } };
      yield { table: 'a', record: { n: 3 } };
    });
    const result = await processObject(input('demoteam/legislators/2024/mixed.jsonl'), split, deps, {
      stageBucket: 'stage',
      env: 'dev',
    });
    expect(result.outputs.map((o) => [o.key, o.records])).toEqual([
      [stagedKeyOf('demoteam', 'legislators', 'a', 'demoteam/legislators/2024/mixed.jsonl', 'v1'), 2],
      [stagedKeyOf('demoteam', 'legislators', 'b', 'demoteam/legislators/2024/mixed.jsonl', 'v1'), 1],
    ]);
    const empty = await processObject(input('demoteam/legislators/2024/mixed.jsonl'), flatten, deps, {
      stageBucket: 'stage',
      env: 'dev',
    });
    expect(empty.outputs).toEqual([]);
  });

  it('deletes the tables it had staged when a later table fails to finish, so a FAILED execution leaves nothing staged', async () => {
    // Given a two-table transform whose second table cannot be stored
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/two.jsonl', '');
    const put = deps.store.put.bind(deps.store);
    deps.store.put = async (bucket, key, body, options) => {
      if (!key.includes('/b/')) return put(bucket, key, body, options);
      // Reads the whole body, then fails as an upload that could not complete: nothing is stored
      await bodyBytes(body);
      throw new Error('S3 is down');
    };
    const two = defineLightTransform(async function* () {
      yield { table: 'a', record: { n: 1 } };
      yield { table: 'b', record: { n: 2 } };
    });
    // When stage A processes it
    const failure = processObject(input('demoteam/legislators/two.jsonl'), two, deps, { stageBucket: 'stage', env: 'dev' });
    // Then it fails, and neither table is left in the stage bucket
    await expect(failure).rejects.toThrow('S3 is down');
    expect([...deps.store.objects.keys()].filter((k) => k.startsWith('stage/'))).toEqual([]);
  });

  it('overwrites rather than duplicates on a rerun', async () => {
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/persons.json', '[{"id":1}]');
    await processObject(input('demoteam/legislators/persons.json'), flatten, deps, { stageBucket: 'stage', env: 'dev' });
    await processObject(input('demoteam/legislators/persons.json'), flatten, deps, { stageBucket: 'stage', env: 'dev' });
    expect([...deps.store.objects.keys()].filter((k) => k.startsWith('stage/'))).toEqual([`stage/${PERSONS_STAGED}`]);
  });

  it('passes the dataset context to the transform', async () => {
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/x.json', '[]');
    let seen: unknown;
    await processObject(
      input('demoteam/legislators/x.json'),
      async function* (_raw, context) {
        seen = context;
        yield* [];
      },
      deps,
      { stageBucket: 'stage', env: 'dev' },
    );
    expect(seen).toEqual({ team: 'demoteam', dataset: 'legislators', env: 'dev', executionId: 'a-1' });
  });

  it.each([
    ['a transform that throws midway', 'demoteam/legislators/persons.json', '[{"id":1}]', 'boom', /boom/],
    ['an unparsable object', 'demoteam/legislators/persons.json', '{"id":1}\n{"id":', undefined, /persons\.json:2/],
    ['a bad table name', 'demoteam/legislators/persons.json', '[{"id":1}]', 'Bad-Table', /table name "Bad-Table"/],
    ['a missing object', 'demoteam/legislators/missing.json', undefined, undefined, /does not exist/],
  ])('fails %s and leaves no staged object', async (_label, key, content, mode, message) => {
    const deps = memoryDeps();
    if (content !== undefined) await deps.store.put('raw', key, content);
    const transform: LightTransform = async function* (raw) {
      for await (const record of readRecords(raw)) {
        yield { table: mode === 'Bad-Table' ? 'persons' : 'persons', record };
        if (mode === 'boom') throw new Error('boom');
        if (mode === 'Bad-Table') yield { table: 'Bad-Table', record };
      }
    };
    await expect(processObject(input(key), transform, deps, { stageBucket: 'stage', env: 'dev' })).rejects.toThrow(message);
    expect([...deps.store.objects.keys()].filter((k) => k.startsWith('stage/'))).toEqual([]);
  });

  it('throws when a transform reads the body twice', async () => {
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/x.json', '[]');
    const twice: LightTransform = async function* (raw) {
      raw.body();
      raw.body();
      yield* [];
    };
    await expect(
      processObject(input('demoteam/legislators/x.json'), twice, deps, { stageBucket: 'stage', env: 'dev' }),
    ).rejects.toThrow(/already opened/);
  });
});

describe('errors of the light transform', () => {
  const input = (key: string) => ({ bucket: 'raw', key, team: 'demoteam', dataset: 'legislators', executionId: 'a-1' });

  it('say the object, how many records it staged and which record it was producing, and keep the name and cause', async () => {
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/persons.json', '[{"id":1},{"id":2},{"id":3}]');
    const original = new TypeError('id 3 is not welcome');
    const transform: LightTransform = async function* (raw) {
      for await (const record of readRecords(raw)) {
        if (record.id === 3) throw original;
        yield { table: 'persons', record };
      }
    };
    const error = await processObject(input('demoteam/legislators/persons.json'), transform, deps, {
      stageBucket: 'stage',
      env: 'dev',
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TypeError');
    expect(error.cause).toBe(original);
    expect(error.message).toMatch(
      /^id 3 is not welcome \((in the light transform at [^,]+, )?on s3:\/\/raw\/demoteam\/legislators\/persons\.json, after 2 records, producing record 3\)$/,
    );
    expect(error.stack?.split('\n')[0]).toBe(`TypeError: ${error.message}`);
    expect([...deps.store.objects.keys()].filter((k) => k.startsWith('stage/'))).toEqual([]);
  });

  it("let the transform's finally blocks run when the write of a record fails", async () => {
    const deps = memoryDeps();
    await deps.store.put('raw', 'demoteam/legislators/x.json', '[]');
    let closed = false;
    const transform: LightTransform = async function* () {
      try {
        yield { table: 'ok', record: { a: 1 } };
        yield { table: 'Not OK', record: { a: 2 } };
        yield { table: 'ok', record: { a: 3 } };
      } finally {
        closed = true;
      }
    };
    await expect(
      processObject(input('demoteam/legislators/x.json'), transform, deps, { stageBucket: 'stage', env: 'dev' }),
    ).rejects.toThrow(/table name "Not OK".*after 1 record, producing record 2\)$/);
    expect(closed).toBe(true);
  });
});

describe('transformLocationOf', () => {
  const at = (...frames: string[]) => Object.assign(new Error('x'), { stack: ['Error: x', ...frames].join('\n') });

  it.each([
    [
      'a source-mapped path',
      '    at persons (/home/me/lake/transforms/light/persons.ts:12:9)',
      'transforms/light/persons.ts:12:9',
    ],
    ['a file URL', '    at file:///home/me/lake/transforms/lib/ids.ts:3:15', 'transforms/lib/ids.ts:3:15'],
    ['a Lambda path', '    at Object.next (/transforms/light/persons.ts:7:1)', 'transforms/light/persons.ts:7:1'],
    ['a Windows path', '    at persons (C:\\lake\\transforms\\light\\persons.ts:4:2)', 'transforms/light/persons.ts:4:2'],
  ])('finds the frame in transforms/ in %s', (_label, frame, expected) => {
    expect(transformLocationOf(at('    at readRecords (/x/node_modules/sdlf/dist/runtime/transform/index.js:1:1)', frame))).toBe(
      expected,
    );
  });

  it('skips dependencies under node_modules and says nothing when no frame is in transforms/', () => {
    expect(transformLocationOf(at('    at f (/x/node_modules/lib/transforms/light/a.js:1:1)'))).toBeUndefined();
    expect(transformLocationOf(at('    at f (/var/task/index.mjs:1:2345)'))).toBeUndefined();
    expect(transformLocationOf('not an error')).toBeUndefined();
  });
});

describe('stageAPostUpdate', () => {
  it('records staged objects, queues them for stage B and marks the execution SUCCEEDED', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const result = await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    const done = await stageAPostUpdate(execution, result, deps);
    expect(done).toMatchObject({ status: 'SUCCEEDED', outputs: result.outputs });
    expect(done.durationMs).toBeGreaterThan(0);
    expect(deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${PERSONS_STAGED}`))).toMatchObject({
      status: 'STAGED',
      table: 'persons',
      records: 1,
      executionId: execution.executionId,
    });
    expect(deps.queue.bodies(execution.stageBQueueUrl).map((b) => JSON.parse(b))).toEqual([
      {
        bucket: 'stage',
        key: PERSONS_STAGED,
        team: 'demoteam',
        dataset: 'legislators',
        sourceExecutionId: execution.executionId,
      },
    ]);
    expect(deps.metadata.pipelines.get('demoteam/standard-stage-a')?.lastExecution).toMatchObject({
      executionId: execution.executionId,
      status: 'SUCCEEDED',
    });
    expect(deps.metadata.datasets.get('demoteam/legislators')?.lastStageA?.status).toBe('SUCCEEDED');
  });

  it('wakes stage B after queueing the staged objects: one message on the wake queue, sent after the stage B messages', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const result = await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    const sent: string[] = [];
    const send = deps.queue.send.bind(deps.queue);
    deps.queue.send = async (url, messages) => {
      sent.push(url);
      return send(url, messages);
    };
    await stageAPostUpdate(execution, result, deps, { wakeQueueUrl: 'wake' });
    expect(deps.queue.bodies('wake').map((b) => JSON.parse(b))).toEqual([
      { team: 'demoteam', dataset: 'legislators', staged: 1, source: execution.executionId },
    ]);
    expect(sent).toEqual([execution.stageBQueueUrl, 'wake']);
  });

  it('wakes nothing when nothing was staged, or the pipeline has no stage B', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    await stageAPostUpdate(execution, { outputs: [] }, deps, { wakeQueueUrl: 'wake' });
    const other = await started(deps, 'demoteam/legislators/other.json', '[{"id":2}]');
    const stageAOnly = { ...other, stageBQueueUrl: '' };
    await stageAPreUpdate(stageAOnly, deps, { ttlDays: 30 });
    const result = await processObject(stageAOnly, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    await stageAPostUpdate(stageAOnly, result, deps, { wakeQueueUrl: 'wake' });
    expect(deps.queue.bodies('wake')).toEqual([]);
  });

  it('sends stage B messages once when the step is retried', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const result = await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    await stageAPostUpdate(execution, result, deps);
    await stageAPostUpdate(execution, result, deps);
    expect(deps.queue.bodies(execution.stageBQueueUrl)).toHaveLength(1);
  });

  it('queues nothing for a pipeline without stage B and still marks the execution SUCCEEDED', async () => {
    // Given an execution of a stage-A-only pipeline, whose dataset registers no stage B queue
    const deps = memoryDeps();
    const started_ = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    const execution = { ...started_, stageBQueueUrl: '' };
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const result = await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    // When post-update runs
    const done = await stageAPostUpdate(execution, result, deps);
    // Then the staged objects are recorded and no message is sent anywhere
    expect(done.status).toBe('SUCCEEDED');
    expect(deps.queue.bodies('')).toEqual([]);
    expect(deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${PERSONS_STAGED}`))).toMatchObject({
      status: 'STAGED',
    });
  });

  it('records the raw object each staged object was made from', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    await stageAPostUpdate(execution, await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' }), deps);
    expect(deps.metadata.objects.get(objectKeyOf('demoteam', `s3://stage/${PERSONS_STAGED}`))?.source).toBe(
      `s3://${execution.bucket}/demoteam/legislators/persons.json`,
    );
  });

  it('rejects a staged key recorded for another raw object, and queues and records nothing of this execution', async () => {
    // Given a staged key recorded as made from another raw object
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const result = await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    const other = {
      id: `s3://stage/${PERSONS_STAGED}`,
      bucket: 'stage',
      key: PERSONS_STAGED,
      stage: 'stage' as const,
      status: 'STAGED' as const,
      executionId: 'a-other',
      source: 's3://raw/demoteam/legislators/other.json',
      recordedAt: '2024-01-01T00:00:00.000Z',
    };
    await deps.metadata.putObject('demoteam', other);
    // When this execution's post-update records the same key
    const error = await stageAPostUpdate(execution, result, deps).catch((e: unknown) => e);
    // Then it fails naming both raw objects, keeps the owner's item and sends nothing to stage B
    expect(error).toBeInstanceOf(StagedKeyConflictError);
    expect((error as Error).message).toContain(
      `s3://stage/${PERSONS_STAGED} is recorded as staged from s3://raw/demoteam/legislators/other.json; s3://${execution.bucket}/demoteam/legislators/persons.json must not take it over.`,
    );
    expect(deps.metadata.objects.get(objectKeyOf('demoteam', other.id))).toEqual(other);
    expect(deps.queue.bodies(execution.stageBQueueUrl)).toEqual([]);
    expect(deps.metadata.executions.get(executionKeyOf('demoteam', execution.executionId))?.status).toBe('PROCESSING');
  });

  it('replaces an item of the key written before sources were recorded', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[{"id":1}]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const result = await processObject(execution, flatten, deps, { stageBucket: 'stage', env: 'dev' });
    await deps.metadata.putObject('demoteam', {
      id: `s3://stage/${PERSONS_STAGED}`,
      bucket: 'stage',
      key: PERSONS_STAGED,
      stage: 'stage',
      status: 'STAGED',
      recordedAt: '2024-01-01T00:00:00.000Z',
    });
    expect((await stageAPostUpdate(execution, result, deps)).status).toBe('SUCCEEDED');
  });

  it('throws for a result without outputs', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await expect(stageAPostUpdate(execution, {} as never, deps)).rejects.toThrow(/no "outputs" list/);
  });
});

describe('stageAOnError', () => {
  it('puts the original message on the DLQ and records FAILED with the Lambda error cause', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '{');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    const cause = JSON.stringify({
      errorType: 'RecordParseError',
      errorMessage: 'Cannot read records from x.json:1: bad',
      trace: [],
    });
    const result = await stageAOnError(execution, { Error: 'RecordParseError', Cause: cause }, deps, {
      deadLetterQueueUrl: dlq,
      ttlDays: 30,
    });
    expect(result).toEqual({
      executionId: execution.executionId,
      status: 'FAILED',
      error: 'RecordParseError',
      cause: 'Cannot read records from x.json:1: bad',
    });
    expect(deps.queue.bodies(dlq)).toEqual([execution.message]);
    expect(deps.metadata.executions.get(executionKeyOf('demoteam', execution.executionId))).toMatchObject({
      status: 'FAILED',
      failure: { error: 'RecordParseError', cause: 'Cannot read records from x.json:1: bad' },
    });
    expect(deps.metadata.pipelines.get('demoteam/standard-stage-a')?.lastExecution.status).toBe('FAILED');
    expect(deps.queue.bodies(execution.stageBQueueUrl)).toEqual([]);
  });

  it('records FAILED even when pre-update never ran', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAOnError(execution, { Error: 'States.Timeout', Cause: 'timed out' }, deps, {
      deadLetterQueueUrl: dlq,
      ttlDays: 30,
    });
    expect(
      deps.metadata.executions.get(executionKeyOf('demoteam', execution.executionId))?.transitions.map((t) => t.status),
    ).toEqual(['STARTED', 'FAILED']);
  });

  it('changes nothing for a duplicate run of an execution that SUCCEEDED', async () => {
    const deps = memoryDeps();
    const execution = await started(deps, 'demoteam/legislators/persons.json', '[]');
    await stageAPreUpdate(execution, deps, { ttlDays: 30 });
    await stageAPostUpdate(execution, { outputs: [] }, deps);
    const result = await stageAOnError(execution, { Error: 'InvalidTransitionError', Cause: 'x' }, deps, {
      deadLetterQueueUrl: dlq,
      ttlDays: 30,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(deps.queue.bodies(dlq)).toEqual([]);
  });
});
