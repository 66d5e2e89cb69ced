import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { Naming } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deployProject } from '../../src/services/deploy.js';
import { runLocal } from '../../src/services/run-local.js';
import { showStatus } from '../../src/services/status.js';
import { triggerDataset } from '../../src/services/trigger.js';
import { uploadData } from '../../src/services/upload.js';
import { motoGlue } from '../helpers/moto-glue.js';
import { createSkippedGlueResources, initDemoProject, useMoto } from './moto.js';

// The demo project that `sdlf init` writes, deployed with `sdlf deploy --direct` to moto_server, processing the
// sample data that `sdlf upload` sends: S3 → EventBridge → routing → stage A queue → stage A trigger → the stage A
// state machine → step and light transform functions, all as deployed (the functions run their deployed code in
// the local Lambda runtime of test/global-setup.ts; see test/moto/server.py for what the launcher adds to moto).
// Each stage A wakes stage B through its wake queue, whose event source waits out its 5-minute batching window before
// invoking the trigger (test/moto/server.py honours the window, as Lambda does); within it, the test starts stage B
// with `sdlf trigger`, which invokes the same deployed trigger for the dataset: the deployed state machine
// starts the dataset's Glue job, which moto_server runs with the deployed main.py and transform.sql on real PySpark
// (s3:// through S3A). moto's CloudFormation skips AWS::Glue::* resources, so the test creates the dataset's Glue
// database and job from the deployed template (createSkippedGlueResources).
const region = 'ap-south-1';
const team = 'demoteam';
const dataset = 'legislators';

describe('the deployed demo project on moto_server', () => {
  let root: string;
  let naming: Naming;

  beforeAll(async () => {
    useMoto();
    root = await initDemoProject({ region, prefix: 'flow' });
    const [environment] = (await loadProject(root)).environments;
    if (!environment) throw new Error('the demo project has no environment');
    naming = Naming.forEnvironment(environment);
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    await deployProject(
      { root, env: 'dev', direct: true, requireApproval: 'never', pollingIntervalMs: 100 },
      createRecordingIo(),
    );
  }, 240_000);

  it('says that nothing is staged when stage B is triggered before any upload', async () => {
    const io = createRecordingIo();
    const triggered = await triggerDataset({ root, env: 'dev', team, dataset }, io);
    expect(triggered.executions).toEqual([]);
    expect(io.lines.map((l) => l.message).join('\n')).toContain(`Nothing staged waits for stage B of ${team}/${dataset}`);
  }, 60_000);

  it('runs stage A for every uploaded file and hands the staged objects to stage B', async () => {
    // When the sample data is uploaded
    const uploaded = await uploadData({ root, env: 'dev', team, dataset }, createRecordingIo());
    expect(uploaded.objects).toHaveLength(4);

    // Then each file's stage A execution succeeds, as sdlf status reports it
    const deadline = Date.now() + 90_000;
    let executions: Array<{ stage: string; status: string; source: string; outputs: readonly { table: string }[] }> = [];
    while (Date.now() < deadline) {
      const status = await showStatus({ root, env: 'dev', team, dataset }, createRecordingIo());
      executions = [...(status.datasets[0]?.executions ?? [])];
      if (executions.length === 4 && executions.every((e) => e.status === 'SUCCEEDED' || e.status === 'FAILED')) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(executions.map((e) => [e.stage, e.status]).sort()).toEqual([
      ['a', 'SUCCEEDED'],
      ['a', 'SUCCEEDED'],
      ['a', 'SUCCEEDED'],
      ['a', 'SUCCEEDED'],
    ]);
    const tables = executions.flatMap((e) => e.outputs.map((o) => o.table)).sort();
    expect(tables).toEqual(['memberships', 'organizations', 'persons', 'regions']);

    // And the staged objects are in the stage bucket, one stage B message each
    const staged = await new S3Client({ region, forcePathStyle: true }).send(
      new ListObjectsV2Command({ Bucket: naming.bucket('stage'), Prefix: `${team}/${dataset}/` }),
    );
    expect(staged.Contents?.length).toBe(4);
    const sqs = new SQSClient({ region });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: naming.stageBQueue(team, dataset) }));
    const depth = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Number(depth.Attributes?.ApproximateNumberOfMessages)).toBe(4);

    // And stage B was woken once per staged object: the wakes wait with the trigger's event source, in flight, for
    // its batching window, and no stage B ran yet
    const wake = await sqs.send(new GetQueueUrlCommand({ QueueName: naming.stageBWakeQueue(team, 'standard') }));
    const wakeDepths = async () => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: wake.QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return [Number(Attributes?.ApproximateNumberOfMessages), Number(Attributes?.ApproximateNumberOfMessagesNotVisible)];
    };
    // (the event source receives the wakes sent after its first one within a second)
    let depths = await wakeDepths();
    for (const until = Date.now() + 10_000; depths[1] !== 4 && Date.now() < until; depths = await wakeDepths()) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(depths).toEqual([0, 4]);
    expect(executions.filter((e) => e.stage === 'b')).toEqual([]);
  }, 120_000);

  it('runs stage B on Spark when sdlf trigger starts it: Parquet in the analytics bucket, the tables of sdlf run --local in the Glue catalog', async () => {
    // Given the dataset's Glue database and job as the deployed dataset stack declares them
    const glue = await createSkippedGlueResources(naming.datasetStack(team, dataset), region);
    // When sdlf trigger starts its stage B now and waits for it
    const io = createRecordingIo();
    const triggered = await triggerDataset(
      { root, env: 'dev', team, dataset, wait: true, timeoutMinutes: 2, pollingIntervalMs: 500 },
      io,
    );
    // Then one stage B execution of the four staged objects ran on the stage B state machine and succeeded
    expect(triggered.executions.map((e) => [e.keys, e.started, e.status])).toEqual([[4, true, 'SUCCEEDED']]);
    expect(triggered.executions[0]?.arn).toBe(
      `arn:aws:states:${region}:123456789012:execution:${naming.stateMachine(team, 'standard', 'b')}:${triggered.executions[0]?.executionId}`,
    );

    // And sdlf status shows it, with the Glue job's tables as its outputs
    const status = await showStatus({ root, env: 'dev', team, dataset }, createRecordingIo());
    const stageB = (status.datasets[0]?.executions ?? []).filter((e) => e.stage === 'b');
    expect(stageB.map((e) => [e.id, e.status, e.failure])).toEqual([
      [triggered.executions[0]?.executionId, 'SUCCEEDED', undefined],
    ]);
    const tables = ['history', 'memberships', 'organizations', 'persons'];
    expect(stageB[0]?.outputs.map((o) => o.table).sort()).toEqual(tables);

    // And each table's Parquet files are in the analytics bucket
    const analytics = await new S3Client({ region, forcePathStyle: true }).send(
      new ListObjectsV2Command({ Bucket: naming.bucket('analytics'), Prefix: `${team}/${dataset}/` }),
    );
    const parquet = (analytics.Contents ?? []).map((o) => o.Key ?? '').filter((key) => key.endsWith('.parquet'));
    for (const table of tables) expect(parquet.some((key) => key.startsWith(`${team}/${dataset}/${table}/`))).toBe(true);

    // And the Glue catalog has the tables, columns and partition keys that sdlf run --local gives for the same data
    type Column = { Name: string; Type: string };
    type Table = { Name: string; PartitionKeys?: Column[]; StorageDescriptor: { Columns: Column[]; Location: string } };
    const catalog = (
      motoGlue(inject('motoEndpoint'), 'get_tables', { DatabaseName: glue.database }, region) as { TableList: Table[] }
    ).TableList;
    const local = await runLocal({ root, env: 'dev', team, dataset }, createRecordingIo());
    expect(local.tables.map((t) => t.table).sort()).toEqual(tables);
    const localCatalog = join(root, local.localDir, 'catalog', glue.database);
    const shape = (t: Table) => ({ name: t.Name, columns: t.StorageDescriptor.Columns, partitionKeys: t.PartitionKeys ?? [] });
    const fromLocal = tables.map((table) =>
      shape(JSON.parse(readFileSync(join(localCatalog, `${table}.json`), 'utf8')) as Table),
    );
    expect(catalog.map(shape).sort((a, b) => a.name.localeCompare(b.name))).toEqual(fromLocal);
    for (const table of catalog) {
      expect(table.StorageDescriptor.Location).toBe(`s3://${naming.bucket('analytics')}/${team}/${dataset}/${table.Name}/`);
    }
  }, 180_000);
});
