import { describe, expect, it } from 'vitest';
import { DROPPED_EVENTS } from '../../../src/runtime/contract.js';
import { MalformedInputError, objectIdOf, parseObjectCreatedEvent, routeObject } from '../../../src/runtime/core/index.js';
import { objectKeyOf } from '../../../src/runtime/core/metadata-items.js';
import { datasetConfig, memoryDeps, objectCreated } from '../helpers.js';

const options = { team: 'demoteam', pipeline: 'standard', stageAQueueUrl: 'https://sqs/stage-a.fifo' };

describe('parseObjectCreatedEvent', () => {
  it('reads bucket, key, size, etag and version id', () => {
    expect(parseObjectCreatedEvent(objectCreated('demoteam/legislators/persons.json'))).toEqual({
      bucket: 'raw',
      key: 'demoteam/legislators/persons.json',
      size: 10,
      etag: 'etag1',
      versionId: 'v1',
    });
  });

  it.each([
    ['null', null, /not an object/],
    ['a string', 'hello', /not an object/],
    ['another source', { ...objectCreated('a/b/c'), source: 'aws.ec2' }, /expected source "aws.s3"/],
    ['an Object Deleted event', { ...objectCreated('a/b/c'), 'detail-type': 'Object Deleted' }, /"Object Deleted"/],
    ['no detail', { source: 'aws.s3', 'detail-type': 'Object Created' }, /detail.bucket.name is missing/],
    [
      'no key',
      { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: {} } },
      /key is missing/,
    ],
    [
      'a bad size',
      { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'b' }, object: { key: 'k', size: '1' } } },
      /size must be a number/,
    ],
  ])('throws a MalformedInputError for %s', (_label, event, message) => {
    expect(() => parseObjectCreatedEvent(event)).toThrow(MalformedInputError);
    expect(() => parseObjectCreatedEvent(event)).toThrow(message);
  });
});

describe('routeObject', () => {
  it('records the object and sends a stage A message with a deterministic dedup id', async () => {
    // Given a registered dataset
    const deps = memoryDeps();
    // When a new raw object is routed
    const result = await routeObject(objectCreated('demoteam/legislators/persons.json'), deps, options);
    // Then it is ROUTED in ObjectMetadata and queued for stage A, grouped by dataset
    const objectId = objectIdOf({ bucket: 'raw', key: 'demoteam/legislators/persons.json', versionId: 'v1' });
    expect(result).toEqual({
      status: 'routed',
      message: {
        bucket: 'raw',
        key: 'demoteam/legislators/persons.json',
        team: 'demoteam',
        dataset: 'legislators',
        pipeline: 'standard',
        size: 10,
        etag: 'etag1',
        versionId: 'v1',
        objectId,
      },
    });
    expect(deps.metadata.objects.get(objectKeyOf('demoteam', 's3://raw/demoteam/legislators/persons.json'))).toMatchObject({
      status: 'ROUTED',
      stage: 'raw',
      team: 'demoteam',
      dataset: 'legislators',
      objectId,
      recordedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(deps.queue.queues.get(options.stageAQueueUrl)).toEqual([
      expect.objectContaining({ groupId: 'demoteam-legislators', deduplicationId: objectId }),
    ]);
  });

  it('sends a duplicate event only once (same dedup id)', async () => {
    const deps = memoryDeps();
    await routeObject(objectCreated('demoteam/legislators/persons.json'), deps, options);
    await routeObject(objectCreated('demoteam/legislators/persons.json'), deps, options);
    expect(deps.queue.bodies(options.stageAQueueUrl)).toHaveLength(1);
  });

  it('routes a new version of the same key as a new object', async () => {
    const deps = memoryDeps();
    await routeObject(objectCreated('demoteam/legislators/persons.json', { versionId: 'v1' }), deps, options);
    await routeObject(objectCreated('demoteam/legislators/persons.json', { versionId: 'v2' }), deps, options);
    expect(deps.queue.bodies(options.stageAQueueUrl)).toHaveLength(2);
  });

  it.each([
    ['an unregistered dataset', 'demoteam/unknown/persons.json', /"demoteam\/unknown" is not registered/],
    ['another team', 'otherteam/legislators/persons.json', /team "otherteam" is not the team of this pipeline/],
    ['a key at the bucket root', 'persons.json', /not under a \{team\}\/\{dataset\}\/ prefix/],
    ['a key directly under the team', 'demoteam/persons.json', /not under a \{team\}\/\{dataset\}\/ prefix/],
  ])('records and drops an object of %s without throwing', async (_label, key, reason) => {
    const deps = memoryDeps();
    const result = await routeObject(objectCreated(key), deps, options);
    expect(result).toMatchObject({ status: 'unknown-dataset', key, reason: expect.stringMatching(reason) });
    expect(deps.metadata.objects.get(objectKeyOf('demoteam', `s3://raw/${key}`))).toMatchObject({ status: 'UNKNOWN_DATASET' });
    expect(deps.queue.bodies(options.stageAQueueUrl)).toEqual([]);
    expect(deps.logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'Dropped an object outside any registered dataset' }),
    );
  });

  it('drops an object of a dataset registered to another pipeline', async () => {
    const deps = memoryDeps([datasetConfig({ pipeline: 'custom' })]);
    const result = await routeObject(objectCreated('demoteam/legislators/persons.json'), deps, options);
    expect(result).toMatchObject({
      status: 'unknown-dataset',
      reason: expect.stringContaining('registered to pipeline "custom"'),
    });
  });

  it.each([
    ['a malformed event', { hello: 'world' }, 1],
    ['a folder marker', objectCreated('demoteam/legislators/'), 0],
  ])('ignores %s without recording or throwing', async (_label, event, dropped) => {
    const deps = memoryDeps();
    expect(await routeObject(event, deps, options)).toMatchObject({ status: 'ignored' });
    expect(deps.metadata.objects.size).toBe(0);
    expect(deps.queue.bodies(options.stageAQueueUrl)).toEqual([]);
    // A dropped event is counted by the dropped-events metric filter, which matches this prefix; a folder is not
    expect(deps.logger.lines.filter((l) => l.message.startsWith(DROPPED_EVENTS.logPrefix))).toHaveLength(dropped);
  });

  it('rejects when the queue fails, so the invocation is retried', async () => {
    const deps = memoryDeps();
    deps.queue.send = async () => {
      throw new Error('SQS is down');
    };
    await expect(routeObject(objectCreated('demoteam/legislators/persons.json'), deps, options)).rejects.toThrow('SQS is down');
  });
});
