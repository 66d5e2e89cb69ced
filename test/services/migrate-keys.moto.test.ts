import { randomBytes } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { describeStack } from '../../src/aws/stacks.js';
import { Naming, TABLE_KINDS } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { DynamoMetadataStore } from '../../src/runtime/aws/dynamo-metadata-store.js';
import { METADATA_KEY_LAYOUT } from '../../src/runtime/contract.js';
import { keyMigrationAroundDeploy } from '../../src/services/deploy-key-migration.js';
import { copyLegacyItems, isUntouchedCopy, moveLegacyItems, unchangedSince } from '../../src/services/key-migration.js';
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
  await createTables(client, naming);
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
    expect(result.tables.flatMap((t) => t.examples.map((m) => m.to)).sort()).toEqual(
      [`sales/s3://${prefix}-stage/sales/orders/t/f.jsonl`, 'sales/orders', 'sales/standard-stage-a', `sales/${EXEC}`].sort(),
    );
    expect(result.tables.map((t) => t.items)).toEqual([1, 1, 1, 1]);
    expect(result.teamless).toEqual({
      count: 1,
      examples: [{ table: tables.objectMetadata, key: `s3://${prefix}-raw/loose.json` }],
    });
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
    expect(result.tables.map((t) => [t.table, t.items, t.keptNewer])).toEqual([
      [tables.objectMetadata, 1, 0],
      [tables.datasets, 1, 0],
      [tables.pipelines, 1, 0],
      [tables.executionHistory, 1, 0],
    ]);

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
    expect(again.tables).toEqual([]);
  });

  it('keeps an item the runtime wrote under the new key over the legacy one', async () => {
    await doc.send(
      new PutCommand({ TableName: tables.datasets, Item: { name: 'sales-late', team: 'sales', dataset: 'late', version: 1 } }),
    );
    await doc.send(
      new PutCommand({ TableName: tables.datasets, Item: { name: 'sales/late', team: 'sales', dataset: 'late', version: 2 } }),
    );
    const result = await migrateKeys({ root, env: 'dev' }, createRecordingIo([true]));
    expect(result.tables).toEqual([
      { table: tables.datasets, items: 1, keptNewer: 1, examples: [{ from: 'sales-late', to: 'sales/late' }] },
    ]);
    expect((await doc.send(new GetCommand({ TableName: tables.datasets, Key: { name: 'sales/late' } }))).Item?.version).toBe(2);
  });
});

describe('moving keys around a deploy', { timeout: 60_000 }, () => {
  const around = new Naming({ prefix: `${prefix}x`, env: 'dev', account: ACCOUNT, region: 'us-east-1' });
  const t = {
    objects: around.table('object-metadata'),
    datasets: around.table('datasets'),
    executions: around.table('execution-history'),
  };
  const staged = `s3://${prefix}x-stage/sales/orders/t/f.jsonl`;
  const legacyObject = { id: staged, team: 'sales', dataset: 'orders', stage: 'stage', status: 'STAGED', recordedAt: 't0' };
  const legacyExecution = {
    id: EXEC,
    stage: 'a',
    team: 'sales',
    dataset: 'orders',
    pipeline: 'standard',
    datasetKey: 'sales-orders',
    status: 'RUNNING',
    attempt: 1,
    startedAt: 't0',
    updatedAt: 't0',
    transitions: [{ status: 'RUNNING', at: 't0' }],
  };
  const get = async (TableName: string, key: Record<string, string>) =>
    (await doc.send(new GetCommand({ TableName, Key: key }))).Item;

  beforeAll(async () => {
    await createTables(new DynamoDBClient({ region: 'us-east-1' }), around);
    await doc.send(new PutCommand({ TableName: t.objects, Item: legacyObject }));
    await doc.send(new PutCommand({ TableName: t.executions, Item: legacyExecution }));
    await doc.send(
      new PutCommand({ TableName: t.datasets, Item: { name: 'sales-orders', team: 'sales', dataset: 'orders', version: 1 } }),
    );
  });

  it('refuses a delete or an overwrite of an item that changed since it was read, a claim included', async () => {
    const object = { kind: 'objectMetadata', keyAttribute: 'id' } as const;
    // Given the object as read, and then claimed by a stage B (which adds only batchId)
    const read = await get(t.objects, { id: staged });
    await doc.send(new PutCommand({ TableName: t.objects, Item: { ...legacyObject, batchId: 'b-1' } }));
    // Then a delete on the condition "unchanged since read" is refused
    await expect(
      doc.send(new DeleteCommand({ TableName: t.objects, Key: { id: staged }, ...unchangedSince(object, read) })),
    ).rejects.toThrow(/conditional/i);
    // And one read after the claim (lists and maps compared whole) is applied
    const execution = { kind: 'executionHistory', keyAttribute: 'id' } as const;
    const readExecution = await get(t.executions, { id: EXEC });
    await doc.send(new PutCommand({ TableName: t.executions, Item: { ...legacyExecution, transitions: [] } }));
    await expect(
      doc.send(new PutCommand({ TableName: t.executions, Item: legacyExecution, ...unchangedSince(execution, readExecution) })),
    ).rejects.toThrow(/conditional/i);
    await doc.send(new PutCommand({ TableName: t.executions, Item: legacyExecution }));
    await doc.send(
      new PutCommand({
        TableName: t.executions,
        Item: legacyExecution,
        ...unchangedSince(execution, await get(t.executions, { id: EXEC })),
      }),
    );
    await doc.send(new PutCommand({ TableName: t.objects, Item: legacyObject }));
  });

  it('copies before (deleting nothing), and after moves what the old runtime changed meanwhile, keeping what the new one wrote', async () => {
    // When the pass before the deploy runs
    const copied = await copyLegacyItems(doc, around);
    expect(copied.tables.map((x) => [x.table, x.items])).toEqual([
      [t.objects, 1],
      [t.datasets, 1],
      [t.executions, 1],
    ]);
    // Then each legacy item is still there for the runtime still deployed, and its marked copy is under the new key
    expect(await get(t.objects, { id: staged })).toBeDefined();
    const copy = await get(t.objects, { id: `sales/${staged}` });
    expect(copy).toMatchObject({ team: 'sales', sdlfCopiedFrom: staged });
    expect(isUntouchedCopy(copy ?? {})).toBe(true);
    expect(await get(t.executions, { id: `sales/${EXEC}` })).toMatchObject({ datasetKey: 'sales/orders', status: 'RUNNING' });

    // When, during the deploy, the old runtime claims the object and ends the execution under the legacy keys,
    await doc.send(new PutCommand({ TableName: t.objects, Item: { ...legacyObject, batchId: 'b-old' } }));
    await doc.send(
      new PutCommand({ TableName: t.executions, Item: { ...legacyExecution, status: 'SUCCEEDED', updatedAt: 't1' } }),
    );
    // and the new runtime registers the dataset again under the new key
    const dataset = await get(t.datasets, { name: 'sales/orders' });
    await doc.send(new PutCommand({ TableName: t.datasets, Item: { ...dataset, version: 2 } }));

    // And the pass after the deploy runs
    const moved = await moveLegacyItems(doc, around);
    expect(moved.tables.map((x) => [x.table, x.items, x.keptNewer])).toEqual([
      [t.objects, 1, 0],
      [t.datasets, 1, 1],
      [t.executions, 1, 0],
    ]);
    // Then the new keys hold what the old runtime wrote last, unmarked, and what the new runtime wrote
    expect(await get(t.objects, { id: `sales/${staged}` })).toEqual({ ...legacyObject, id: `sales/${staged}`, batchId: 'b-old' });
    expect(await get(t.executions, { id: `sales/${EXEC}` })).toMatchObject({ status: 'SUCCEEDED', updatedAt: 't1' });
    expect((await get(t.datasets, { name: 'sales/orders' }))?.version).toBe(2);
    // And no legacy item is left
    for (const [table, key] of [
      [t.objects, { id: staged }],
      [t.executions, { id: EXEC }],
      [t.datasets, { name: 'sales-orders' }],
    ] as const) {
      expect(await get(table, key)).toBeUndefined();
    }
    expect((await moveLegacyItems(doc, around)).tables).toEqual([]);
  });

  it('is needed by a deploy while a deployed team pipeline stack lacks the key layout output, and by no other', async () => {
    const cloudFormation = new CloudFormationClient({ region: 'us-east-1' });
    const template = (outputs: Record<string, unknown>) =>
      JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } }, Outputs: outputs });
    const legacyStack = `${prefix}x-dev-sales-standard`;
    const currentStack = `${prefix}x-dev-ops-standard`;
    await cloudFormation.send(new CreateStackCommand({ StackName: legacyStack, TemplateBody: template({}) }));
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: currentStack,
        TemplateBody: template({ [METADATA_KEY_LAYOUT.output]: { Value: METADATA_KEY_LAYOUT.value } }),
      }),
    );
    const clients = createAwsClients({ region: 'us-east-1' });
    const of = async (names: string[]) => {
      const pipelineStacks = (await Promise.all(names.map((name) => describeStack(clients, name)))).filter(
        (s) => s !== undefined,
      );
      expect(pipelineStacks).toHaveLength(names.length);
      return keyMigrationAroundDeploy({ clients, naming: around, envId: 'dev', pipelineStacks, io: createRecordingIo() });
    };
    expect(await of([currentStack])).toBeUndefined();
    expect(await of([])).toBeUndefined();
    const migration = await of([currentStack, legacyStack]);
    expect(migration).toBeDefined();
    // And its two passes are the copy and the move (nothing is left to do here)
    expect((await migration?.before())?.tables).toEqual([]);
    expect((await migration?.after())?.tables).toEqual([]);
  });
});

/** Creates the four metadata tables of `of` as the foundations stack does. */
async function createTables(client: DynamoDBClient, of: Naming): Promise<void> {
  for (const kind of TABLE_KINDS) {
    await client.send(
      new CreateTableCommand({
        TableName: of.table(kind),
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
}
