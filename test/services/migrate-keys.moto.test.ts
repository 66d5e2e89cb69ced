import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { Naming, TABLE_KINDS } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { DynamoMetadataStore } from '../../src/runtime/aws/dynamo-metadata-store.js';
import { migrateKeys } from '../../src/services/migrate-keys.js';
import { tempDir, writeJsonFiles } from '../helpers/project.js';
import { useMoto } from '../runtime/aws/moto.js';

const ACCOUNT = '123456789012';
const prefix = `mk${randomBytes(3).toString('hex')}`;
const naming = new Naming({ prefix, env: 'dev', account: ACCOUNT, region: 'us-east-1' });
const EXEC = `a-${'1'.repeat(40)}`;
const KEYS = { 'object-metadata': 'id', datasets: 'name', pipelines: 'name', 'execution-history': 'id' } as const;

let root: string;
let doc: DynamoDBDocumentClient;
let tables: { objectMetadata: string; datasets: string; pipelines: string; executionHistory: string };

beforeAll(async () => {
  useMoto();
  root = tempDir('sdlf-migrate-keys-');
  writeJsonFiles(root, {
    'ddk.json': {
      environments: {
        cicd: { account: '111111111111', region: 'us-east-1' },
        dev: { account: ACCOUNT, region: 'us-east-1', resource_prefix: prefix },
      },
    },
    'parameters.json': { dev: [{ team: 'sales', dataset: 'orders' }] },
  });
  const client = new DynamoDBClient({ region: 'us-east-1' });
  for (const kind of TABLE_KINDS) {
    await client.send(
      new CreateTableCommand({
        TableName: naming.table(kind),
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: KEYS[kind], AttributeType: 'S' },
          ...(kind === 'execution-history'
            ? [
                { AttributeName: 'datasetKey', AttributeType: 'S' },
                { AttributeName: 'startedAt', AttributeType: 'S' },
              ]
            : []),
        ],
        KeySchema: [{ AttributeName: KEYS[kind], KeyType: 'HASH' }],
        ...(kind === 'execution-history'
          ? {
              GlobalSecondaryIndexes: [
                {
                  IndexName: 'dataset-started-index',
                  KeySchema: [
                    { AttributeName: 'datasetKey', KeyType: 'HASH' },
                    { AttributeName: 'startedAt', KeyType: 'RANGE' },
                  ],
                  Projection: { ProjectionType: 'ALL' },
                },
              ],
            }
          : {}),
      }),
    );
  }
  doc = DynamoDBDocumentClient.from(client);
  tables = {
    objectMetadata: naming.table('object-metadata'),
    datasets: naming.table('datasets'),
    pipelines: naming.table('pipelines'),
    executionHistory: naming.table('execution-history'),
  };
  // Items as an sdlf before the key layout wrote them
  const put = (TableName: string, Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName, Item }));
  const staged = `s3://${prefix}-stage/sales/orders/t/f.jsonl`;
  await put(tables.objectMetadata, {
    id: staged,
    bucket: `${prefix}-stage`,
    key: 'sales/orders/t/f.jsonl',
    stage: 'stage',
    status: 'STAGED',
    team: 'sales',
    dataset: 'orders',
    batchId: 'b-1',
    recordedAt: '2026-01-01T00:00:00.000Z',
  });
  await put(tables.objectMetadata, {
    id: `s3://${prefix}-raw/loose.json`,
    bucket: `${prefix}-raw`,
    key: 'loose.json',
    stage: 'raw',
    status: 'UNKNOWN_DATASET',
    recordedAt: '2026-01-01T00:00:00.000Z',
  });
  await put(tables.datasets, { name: 'sales-orders', team: 'sales', dataset: 'orders', version: 3, updatedAt: 't' });
  await put(tables.pipelines, {
    name: 'sales-standard-stage-a',
    team: 'sales',
    pipeline: 'standard',
    stage: 'a',
    updatedAt: 't',
  });
  await put(tables.executionHistory, {
    id: EXEC,
    stage: 'a',
    team: 'sales',
    dataset: 'orders',
    pipeline: 'standard',
    datasetKey: 'sales-orders',
    status: 'SUCCEEDED',
    attempt: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    transitions: [],
    source: 's3://raw/sales/orders/x.json',
    expiresAt: 4_000_000_000,
  });
}, 60_000);

describe('sdlf migrate-keys', { timeout: 60_000 }, () => {
  it('shows the moves on a dry run and changes nothing', async () => {
    const result = await migrateKeys({ root, env: 'dev', dryRun: true }, createRecordingIo());
    expect(result.dryRun).toBe(true);
    expect(result.moves.map((m) => m.to).sort()).toEqual(
      [`sales/s3://${prefix}-stage/sales/orders/t/f.jsonl`, 'sales/orders', 'sales/standard-stage-a', `sales/${EXEC}`].sort(),
    );
    expect(result.teamless).toEqual([{ table: tables.objectMetadata, key: `s3://${prefix}-raw/loose.json` }]);
    expect((await doc.send(new GetCommand({ TableName: tables.datasets, Key: { name: 'sales-orders' } }))).Item).toBeDefined();
  });

  it('changes nothing when the question is answered no', async () => {
    const result = await migrateKeys({ root, env: 'dev' }, createRecordingIo([false]));
    expect(result.confirmed).toBe(false);
    expect((await doc.send(new GetCommand({ TableName: tables.datasets, Key: { name: 'sales/orders' } }))).Item).toBeUndefined();
  });

  it('rewrites every legacy item under its team key, where the runtime finds it, and a second run does nothing', async () => {
    const store = new DynamoMetadataStore(new DynamoDBClient({ region: 'us-east-1' }), tables);
    const result = await migrateKeys({ root, env: 'dev' }, createRecordingIo([true]));
    expect(result.confirmed).toBe(true);
    expect(result.moves.map((m) => m.status)).toEqual(['moved', 'moved', 'moved', 'moved']);

    // Then the runtime finds the execution (so a redelivered message is a duplicate, not reprocessed), its claim,
    // the dataset's registration and its index entry
    expect(await store.getExecution('sales', EXEC)).toMatchObject({ id: EXEC, status: 'SUCCEEDED', datasetKey: 'sales/orders' });
    expect(await store.stagedClaims('sales', [`s3://${prefix}-stage/sales/orders/t/f.jsonl`])).toEqual(
      new Map([[`s3://${prefix}-stage/sales/orders/t/f.jsonl`, 'b-1']]),
    );
    expect(await store.getDataset('sales', 'orders')).toMatchObject({ version: 3 });
    expect((await store.listExecutions({ team: 'sales', dataset: 'orders', limit: 5 })).map((e) => e.id)).toEqual([EXEC]);
    // And the legacy items are gone, but for the one that names no team
    const left = await doc.send(new ScanCommand({ TableName: tables.objectMetadata }));
    expect((left.Items ?? []).map((i) => i.id).sort()).toEqual(
      [`s3://${prefix}-raw/loose.json`, `sales/s3://${prefix}-stage/sales/orders/t/f.jsonl`].sort(),
    );
    expect((await doc.send(new GetCommand({ TableName: tables.datasets, Key: { name: 'sales-orders' } }))).Item).toBeUndefined();

    // And a second run finds nothing to do
    const again = await migrateKeys({ root, env: 'dev' }, createRecordingIo([true]));
    expect(again.moves).toEqual([]);
  });

  it('keeps an item the runtime wrote under the new key over the legacy one', async () => {
    await doc.send(
      new PutCommand({ TableName: tables.datasets, Item: { name: 'sales-late', team: 'sales', dataset: 'late', version: 1 } }),
    );
    await doc.send(
      new PutCommand({ TableName: tables.datasets, Item: { name: 'sales/late', team: 'sales', dataset: 'late', version: 2 } }),
    );
    const result = await migrateKeys({ root, env: 'dev' }, createRecordingIo([true]));
    expect(result.moves).toEqual([{ table: tables.datasets, from: 'sales-late', to: 'sales/late', status: 'kept-newer' }]);
    expect((await doc.send(new GetCommand({ TableName: tables.datasets, Key: { name: 'sales/late' } }))).Item?.version).toBe(2);
  });
});
