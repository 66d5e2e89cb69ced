import { expect } from 'vitest';
import { type DatasetParameter, MAX_RECEIVE_COUNT } from '../../src/runtime/contract.js';
import type { CoreLogger, MetadataStore, ObjectMetadataItem, PipelineDeps } from '../../src/runtime/core/index.js';
import {
  MemoryMetadataStore,
  MemoryObjectStore,
  MemoryQueue,
  MemoryWorkflow,
  StaticDatasetConfigs,
} from '../../src/runtime/memory/index.js';
import { datasetRegistration } from '../helpers/dataset.js';

/** A dataset configuration as the CDK app writes it to SSM. */
export function datasetConfig(overrides: Partial<DatasetParameter> = {}): DatasetParameter {
  const team = overrides.team ?? 'demoteam';
  const dataset = overrides.dataset ?? 'legislators';
  return {
    ...datasetRegistration({ team, dataset }),
    lightTransformFunction: `ddk-dev-${team}-${dataset}-light-transform`,
    stageBQueueUrl: `https://sqs/ddk-dev-${team}-${dataset}-stage-b.fifo`,
    stageBDeadLetterQueueUrl: `https://sqs/ddk-dev-${team}-${dataset}-stage-b-dlq.fifo`,
    glueJob: `ddk-dev-${team}-${dataset}-heavy-transform`,
    glueDatabase: `ddk_dev_${team}_${dataset}`,
    version: 1,
    ...overrides,
  };
}

/** An EventBridge S3 "Object Created" event. */
export function objectCreated(
  key: string,
  overrides: { bucket?: string; size?: number; etag?: string; versionId?: string } = {},
) {
  return {
    version: '0',
    id: 'e0',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '222222222222',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${overrides.bucket ?? 'raw'}`],
    detail: {
      version: '0',
      bucket: { name: overrides.bucket ?? 'raw' },
      object: { key, size: overrides.size ?? 10, etag: overrides.etag ?? 'etag1', 'version-id': overrides.versionId ?? 'v1' },
      reason: 'PutObject',
    },
  };
}

/** A logger that keeps its lines. */
export function recordingLogger(): CoreLogger & {
  lines: Array<{ level: string; message: string; extra: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Array<Record<string, unknown>>) =>
      lines.push({ level, message, extra: Object.assign({}, ...extra) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** A clock that advances one second per call from 2026-01-01T00:00:00Z. */
export function tickingClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  return () => {
    const date = new Date(now);
    now += 1000;
    return date;
  };
}

/** The `ObjectMetadata` item stage A post-update records for a staged object of demoteam/legislators. */
export function stagedObjectItem(bucket: string, key: string, overrides: Partial<ObjectMetadataItem> = {}): ObjectMetadataItem {
  return {
    id: `s3://${bucket}/${key}`,
    bucket,
    key,
    stage: 'stage',
    status: 'STAGED',
    team: 'demoteam',
    dataset: 'legislators',
    executionId: 'a-1',
    recordedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Pipeline deps over in-memory adapters; each stage B queue dead-letters as the deployed one does. */
export function memoryDeps(configs: DatasetParameter[] = [datasetConfig()]) {
  const redrive = new Map(
    configs.map((c) => [
      c.stageBQueueUrl,
      { deadLetterQueueUrl: c.stageBDeadLetterQueueUrl, maxReceiveCount: MAX_RECEIVE_COUNT },
    ]),
  );
  const deps = {
    store: new MemoryObjectStore(),
    metadata: new MemoryMetadataStore(),
    queue: new MemoryQueue(Date.now, (url) => redrive.get(url)),
    configs: new StaticDatasetConfigs(configs),
    workflow: new MemoryWorkflow(),
    logger: recordingLogger(),
    clock: tickingClock(),
  };
  return deps satisfies PipelineDeps;
}

/**
 * The stage B claim rules every {@link MetadataStore} must follow (memory, local files, DynamoDB): claims are
 * first-wins and idempotent, missing items are not claimed, a release only frees the releasing batch's objects,
 * and re-staging an object (a new `putObject`) frees it. `count` staged objects are used (more than 100 exercises
 * DynamoDB's batched reads). `prefix` keeps the ids of one run apart from others on a shared table.
 */
export async function checkStagedClaims(store: MetadataStore, count = 3, prefix = 'claims'): Promise<void> {
  const ids = Array.from({ length: count }, (_, i) => `s3://stage/${prefix}/f${i}.jsonl`);
  const staged = (id: string) => stagedObjectItem('stage', id.slice('s3://stage/'.length));
  for (const id of ids) await store.putObject('demoteam', staged(id));
  const missing = `s3://stage/${prefix}/missing.jsonl`;
  const [first, second] = ids as [string, string, ...string[]];

  const claimed = await store.claimStaged('demoteam', [...ids, missing], 'b-1');
  expect([...claimed]).toEqual([...ids.map((id) => [id, 'b-1']), [missing, undefined]]);
  expect(await store.claimStaged('demoteam', [first], 'b-1')).toEqual(new Map([[first, 'b-1']]));
  expect(await store.claimStaged('demoteam', [first, second], 'b-2')).toEqual(
    new Map([
      [first, 'b-1'],
      [second, 'b-1'],
    ]),
  );
  expect(await store.stagedClaims('demoteam', [...ids, missing])).toEqual(new Map(ids.map((id) => [id, 'b-1'])));

  await store.releaseStaged('demoteam', [first], 'b-2');
  expect((await store.stagedClaims('demoteam', [first])).get(first)).toBe('b-1');
  await store.releaseStaged('demoteam', [first], 'b-1');
  expect(await store.stagedClaims('demoteam', [first, second])).toEqual(new Map([[second, 'b-1']]));

  await store.putObject('demoteam', staged(second));
  expect(await store.stagedClaims('demoteam', [first, second])).toEqual(new Map());
  expect(await store.claimStaged('demoteam', [second], 'b-2')).toEqual(new Map([[second, 'b-2']]));
}

/**
 * Checks the staged-key ownership contract of a {@link MetadataStore}: `putStagedObject` writes a new key and
 * rewrites a key of the same source, replaces an item without a source, and refuses (writing nothing) a key
 * recorded for another source, answering that source. `prefix` keeps the ids of one run apart on a shared table.
 */
export async function checkStagedOwnership(store: MetadataStore, prefix = 'owners'): Promise<void> {
  const id = `s3://stage/${prefix}/persons.jsonl`;
  const staged = (source: string | undefined, executionId: string): ObjectMetadataItem => ({
    id,
    bucket: 'stage',
    key: id.slice('s3://stage/'.length),
    stage: 'stage',
    status: 'STAGED',
    team: 'demoteam',
    dataset: 'legislators',
    executionId,
    ...(source === undefined ? {} : { source }),
    recordedAt: '2026-01-01T00:00:00.000Z',
  });
  const json = 's3://raw/demoteam/legislators/persons.json';
  const csv = 's3://raw/demoteam/legislators/persons.csv';
  // An item written before sources were recorded is replaced
  await store.putObject('demoteam', staged(undefined, 'a-0'));
  expect(await store.putStagedObject({ ...staged(json, 'a-1'), source: json })).toBeUndefined();
  // The same raw object (a new upload of it) rewrites its key
  expect(await store.putStagedObject({ ...staged(json, 'a-2'), source: json })).toBeUndefined();
  // Another raw object is refused, and the owner's item stays
  expect(await store.putStagedObject({ ...staged(csv, 'a-3'), source: csv })).toBe(json);
  expect(await store.stagedClaims('demoteam', [id])).toEqual(new Map());
  await store.claimStaged('demoteam', [id], 'b-owner');
  expect(await store.putStagedObject({ ...staged(csv, 'a-4'), source: csv })).toBe(json);
  expect(await store.stagedClaims('demoteam', [id])).toEqual(new Map([[id, 'b-owner']]));
}
