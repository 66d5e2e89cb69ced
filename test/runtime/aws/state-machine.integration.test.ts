import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../../src/app/index.js';
import { loadProject } from '../../../src/config/load.js';
import { Naming } from '../../../src/config/naming.js';
import { runtimeClientConfig } from '../../../src/runtime/aws/clients.js';
import { DynamoMetadataStore } from '../../../src/runtime/aws/dynamo-metadata-store.js';
import { COMMON_ENV, HANDLER_ENV } from '../../../src/runtime/contract.js';
import { allStackArtifacts, HANDLERS_DIR, templateOf, testBuildOptions, writeProject } from '../../app/helpers.js';
import { motoGlue } from '../../helpers/moto-glue.js';
import { repoRoot, tempDir } from '../../helpers/project.js';
import { createLake, type LakeFixture, motoClients, useMoto } from './moto.js';

/**
 * The stage A state machine exactly as `sdlf synth` writes it, executed by moto_server's Step Functions
 * interpreter; its Lambda tasks run the shipped bundles (the step handler and the dataset's light transform as
 * synth bundles it) in the local Lambda runtime of the test setup (test/moto/lambda-runtime.mjs). The stage B state
 * machine runs the dataset's Glue job, which moto_server executes asynchronously with the real main.py on real
 * PySpark, reading and writing s3:// on moto_server through S3A. The triggers and routing run in this process, as
 * in pipeline.integration.test.ts.
 */

let lake: LakeFixture;
let c: ReturnType<typeof motoClients>;
let stateMachineArn: string;
let routing: typeof import('../../../src/runtime/handlers/routing/handler.js').handler;
let trigger: typeof import('../../../src/runtime/handlers/stage-a-trigger/handler.js').handler;
let stageBMachineArn: string;
let stageBTrigger: typeof import('../../../src/runtime/handlers/stage-b-trigger/handler.js').handler;

const ROLE = 'arn:aws:iam::123456789012:role/sdlf-state-machine-test';

/** Zips a folder (with its subfolders) as a Lambda deployment package; returns the bytes. */
function zipFolder(dir: string): Uint8Array {
  const out = join(tempDir('sdlf-zip-'), 'code.zip');
  const entries = readdirSync(dir).map((name) => join(dir, name));
  execFileSync('python3', ['-m', 'zipfile', '-c', out, ...entries]);
  return readFileSync(out);
}

/** Resolves the `Fn::Join` of a synthesized state machine definition with the given values for its tokens. */
function resolveDefinition(definition: unknown, values: Record<string, string>): string {
  const join = (definition as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref ?? (part as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[0];
      const value = ref === undefined ? undefined : values[ref];
      if (value === undefined) throw new Error(`unresolved token in the definition: ${JSON.stringify(part)}`);
      return value;
    })
    .join(join[0]);
}

beforeAll(async () => {
  useMoto();
  c = motoClients();
  lake = await createLake();

  // The real app for the lake's dataset, with the light transform that `sdlf init` writes.
  const template = readFileSync(
    join(repoRoot, 'src', 'templates', 'dataset', 'transforms', 'light', '{{stageATransform}}.ts.hbs'),
    'utf8',
  ).replaceAll('{{stageATransform}}', 'sdlf_light_transform');
  const mainPy = readFileSync(join(repoRoot, 'src', 'runtime', 'glue', 'main.py'), 'utf8');
  const root = writeProject(
    { dev: [{ team: lake.team, dataset: lake.dataset }] },
    {
      files: {
        'transforms/light/sdlf_light_transform.ts': template,
        'transforms/heavy/sdlf_heavy_transform/main.py': mainPy,
        // Spark SQL proper: length() is Spark's (an int), and the job registers that type in the catalog.
        'transforms/heavy/sdlf_heavy_transform/transform.sql':
          'CREATE TABLE people AS SELECT *, length(CAST(id AS STRING)) AS id_length FROM persons;\n',
      },
    },
  );
  const outdir = tempDir('sdlf-out-');
  const project = await loadProject(root);
  const app = await buildApp(project, testBuildOptions({ outdir, nag: false }));
  // The buckets the app names, and the moto lake's buckets that stand for them here.
  const dev = project.environments.find((e) => e.id === 'dev');
  if (!dev) throw new Error('the test project has no dev environment');
  const synthNaming = Naming.forEnvironment(dev);
  const lakeBucketOf: Record<string, string> = {
    [synthNaming.bucket('stage')]: lake.buckets.stage,
    [synthNaming.bucket('analytics')]: lake.buckets.analytics,
  };
  const stacks = allStackArtifacts(app.synth());
  const pipeline = templateOf(stacks.find((s) => s.stackName.endsWith(`-${lake.team}-standard`)) as never);
  const datasetStack = templateOf(stacks.find((s) => s.stackName.endsWith(`-${lake.team}-${lake.dataset}`)) as never);
  const [machineId, machine] = Object.entries(pipeline.Resources).find(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.includes('LightTransform'),
  ) as [string, { Properties: { DefinitionString: unknown } }];
  const stepId = Object.keys(pipeline.Resources).find(
    (id) => pipeline.Resources[id]?.Type === 'AWS::Lambda::Function' && id.includes('StepFunction'),
  ) as string;
  // The dataset's light transform function: its code is the asset synth bundled (cdk.out/asset.<hash>).
  const lightTransform = Object.values(datasetStack.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties).includes('light-transform'),
  ) as { Properties: { Code: { S3Key: string } } };
  const lightTransformDir = join(outdir, `asset.${lightTransform.Properties.Code.S3Key.replace(/\.zip$/, '')}`);

  // The functions the definition calls, with the code the app deploys and the environment it sets.
  const clients = { config: runtimeClientConfig() };
  await new IAMClient(clients.config).send(
    new CreateRoleCommand({
      RoleName: 'sdlf-state-machine-test',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  const lambda = new LambdaClient(clients.config);
  const common = Object.fromEntries(Object.values(COMMON_ENV).map((name) => [name, lake.env_[name] ?? '']));
  const create = async (name: string, dir: string, env: Record<string, string>) =>
    (
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: ROLE,
          Timeout: 60,
          Code: { ZipFile: zipFolder(dir) },
          Environment: { Variables: { ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' } },
        }),
      )
    ).FunctionArn ?? '';
  const stepArn = await create(`${lake.prefix}-step`, join(HANDLERS_DIR, 'step'), {
    ...common,
    [HANDLER_ENV.step.team]: lake.team,
    [HANDLER_ENV.step.pipeline]: 'standard',
    [HANDLER_ENV.step.stageBucket]: lake.buckets.stage,
    [HANDLER_ENV.step.analyticsBucket]: lake.buckets.analytics,
    [HANDLER_ENV.step.stageADeadLetterQueueUrl]: lake.queues.stageADlq,
  });
  await create(lake.config.lightTransformFunction, lightTransformDir, {
    ...common,
    [HANDLER_ENV['light-transform'].team]: lake.team,
    [HANDLER_ENV['light-transform'].dataset]: lake.dataset,
    [HANDLER_ENV['light-transform'].stageBucket]: lake.buckets.stage,
  });

  stateMachineArn =
    (
      await c.sfn.send(
        new CreateStateMachineCommand({
          name: `${lake.prefix}-stage-a-synthesized`,
          roleArn: ROLE,
          definition: resolveDefinition(machine.Properties.DefinitionString, { 'AWS::Partition': 'aws', [stepId]: stepArn }),
        }),
      )
    ).stateMachineArn ?? '';
  expect(machineId).toMatch(/^PipelineLightTransformStateMachine/);
  expect(stateMachineArn).toMatch(/^arn:aws:states:[a-z0-9-]+:\d{12}:stateMachine:.+-stage-a-synthesized$/);

  // Stage B: its state machine as synthesized, and the dataset's Glue job with the script, SQL and default
  // arguments the app deploys (asset URIs moved to the artifacts bucket, the lake's buckets for the app's).
  const [, heavy] = Object.entries(pipeline.Resources).find(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.includes('HeavyTransform'),
  ) as [string, { Properties: { DefinitionString: unknown } }];
  stageBMachineArn =
    (
      await c.sfn.send(
        new CreateStateMachineCommand({
          name: `${lake.prefix}-stage-b-synthesized`,
          roleArn: ROLE,
          definition: resolveDefinition(heavy.Properties.DefinitionString, { 'AWS::Partition': 'aws', [stepId]: stepArn }),
        }),
      )
    ).stateMachineArn ?? '';
  const job = Object.values(datasetStack.Resources).find((r) => r.Type === 'AWS::Glue::Job') as {
    Properties: { Command: { ScriptLocation: string }; DefaultArguments: Record<string, unknown> };
  };
  const moveAsset = async (uri: string) => {
    const file = uri.slice(uri.lastIndexOf('/') + 1);
    const key = `glue-assets/${file}`;
    await c.s3.send(
      new PutObjectCommand({ Bucket: lake.buckets.artifacts, Key: key, Body: readFileSync(join(outdir, `asset.${file}`)) }),
    );
    return `s3://${lake.buckets.artifacts}/${key}`;
  };
  const defaultArguments: Record<string, string> = {};
  for (const [name, value] of Object.entries(job.Properties.DefaultArguments)) {
    if (typeof value !== 'string') throw new Error(`the Glue job's argument ${name} is not a string: ${JSON.stringify(value)}`);
    defaultArguments[name] = value.startsWith('s3://') ? await moveAsset(value) : (lakeBucketOf[value] ?? value);
  }
  glue('create_database', { DatabaseInput: { Name: lake.config.glueDatabase } });
  glue('create_job', {
    Name: lake.config.glueJob,
    Role: ROLE,
    Command: { Name: 'glueetl', ScriptLocation: await moveAsset(job.Properties.Command.ScriptLocation) },
    DefaultArguments: defaultArguments,
    GlueVersion: '5.0',
  });

  Object.assign(process.env, lake.env_, { [HANDLER_ENV['stage-a-trigger'].stateMachineArn]: stateMachineArn });
  routing = (await import('../../../src/runtime/handlers/routing/handler.js')).handler;
  trigger = (await import('../../../src/runtime/handlers/stage-a-trigger/handler.js')).handler;
  // Each handler reads its environment at import: the stage B trigger gets the stage B state machine.
  Object.assign(process.env, {
    [HANDLER_ENV['stage-b-trigger'].stateMachineArn]: stageBMachineArn,
    [HANDLER_ENV['stage-b-trigger'].team]: lake.team,
    [HANDLER_ENV['stage-b-trigger'].pipeline]: 'standard',
  });
  stageBTrigger = (await import('../../../src/runtime/handlers/stage-b-trigger/handler.js')).handler;
}, 240_000);

/** Calls the Glue API of moto_server. */
function glue(operation: string, parameters: Record<string, unknown>): unknown {
  return motoGlue(inject('motoEndpoint'), operation, parameters);
}

/** Uploads a raw object and routes it as its S3 event would; returns the stage A messages as the SQS event. */
async function uploadAndRoute(key: string, body: string): Promise<SQSEvent> {
  const put = await c.s3.send(new PutObjectCommand({ Bucket: lake.buckets.raw, Key: key, Body: body }));
  await routing({
    version: '0',
    id: 'event',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      version: '0',
      bucket: { name: lake.buckets.raw },
      object: { key, size: body.length, etag: put.ETag ?? '', 'version-id': put.VersionId ?? '', sequencer: '0' },
      'request-id': 'r',
      requester: 'me',
      'source-ip-address': '127.0.0.1',
      reason: 'PutObject',
    },
  } as never);
  const received = await c.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: lake.queues.stageA, MaxNumberOfMessages: 10, AttributeNames: ['All'] }),
  );
  return {
    Records: (received.Messages ?? []).map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: m.Attributes as never,
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:stage-a.fifo',
      awsRegion: 'us-east-1',
    })),
  };
}

/** Runs `start`, then waits for the one execution of `machine` it started to end; returns it. */
async function newExecution(machine: string, start: () => Promise<unknown>) {
  const names = async () => (await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: machine }))).executions ?? [];
  const before = new Set((await names()).map((e) => e.name));
  await start();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const run = (await names()).find((e) => !before.has(e.name));
    if (run?.executionArn) {
      const described = await c.sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
      if (described.status !== 'RUNNING') return { ...described, executionId: run.name ?? '' };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const run = (await names()).find((e) => !before.has(e.name));
  const history = run?.executionArn
    ? await c.sfn.send(new GetExecutionHistoryCommand({ executionArn: run.executionArn }))
    : undefined;
  const events = (history?.events ?? []).map((e) => e.type).join(' → ');
  throw new Error(`the execution did not end within 60 s: ${run?.name ?? 'not started'}: ${events}`);
}

/** Runs the stage A trigger on an SQS event and waits for the execution it started to end. */
async function triggerAndWait(event: SQSEvent) {
  return newExecution(stateMachineArn, async () => {
    const result = await trigger(event);
    expect(result.batchItemFailures).toEqual([]);
    // As the SQS event source does after a batch without failures.
    for (const record of event.Records) {
      await c.sqs.send(new DeleteMessageCommand({ QueueUrl: lake.queues.stageA, ReceiptHandle: record.receiptHandle }));
    }
  });
}

async function queueDepth(queueUrl: string): Promise<number> {
  const attributes = await c.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('the synthesized stage A state machine on moto_server', { timeout: 120_000 }, () => {
  it('runs pre-update, the light transform and post-update, and hands the staged objects to stage B', async () => {
    const key = `${lake.team}/${lake.dataset}/persons.json`;
    const event = await uploadAndRoute(key, '[{"id":1,"name":{"first":"Ada"}},{"id":2,"name":{"first":"Grace"}}]');

    const run = await triggerAndWait(event);
    expect(run.status).toBe('SUCCEEDED');
    const { executionId } = run;
    const store = new DynamoMetadataStore(c.dynamo, lake.tables);
    const item = await store.getExecution(lake.team, executionId);
    expect(item).toMatchObject({ stage: 'a', status: 'SUCCEEDED' });
    expect(item?.transitions.map((t) => t.status)).toEqual(['STARTED', 'PROCESSING', 'SUCCEEDED']);
    const [output] = item?.outputs ?? [];
    expect(output).toMatchObject({ bucket: lake.buckets.stage, table: 'persons', records: 2 });
    const staged = await c.s3.send(new GetObjectCommand({ Bucket: lake.buckets.stage, Key: output?.key }));
    const rows = (await staged.Body?.transformToString())
      ?.trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows).toEqual([
      { id: 1, name_first: 'Ada' },
      { id: 2, name_first: 'Grace' },
    ]);
    expect(await queueDepth(lake.queues.stageB)).toBe(1);
  });

  it('ends a transform that throws in the error step: FAILED with the cause and the message on the DLQ', async () => {
    const before = await queueDepth(lake.queues.stageADlq);
    const event = await uploadAndRoute(`${lake.team}/${lake.dataset}/broken.json`, '[{"id":1},');

    const run = await triggerAndWait(event);
    expect(run.status).toBe('FAILED');
    const { executionId } = run;
    const item = await new DynamoMetadataStore(c.dynamo, lake.tables).getExecution(lake.team, executionId);
    expect(item?.status).toBe('FAILED');
    expect(item?.failure?.cause).toMatch(/JSON/i);
    expect(await queueDepth(lake.queues.stageADlq)).toBe(before + 1);
  });
});

describe('the synthesized stage B state machine on moto_server', { timeout: 120_000 }, () => {
  const schedule = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as never;

  it("runs the dataset's Glue job on the batch and records the table it wrote", async () => {
    // Given the object that stage A staged above, waiting on the stage B queue
    expect(await queueDepth(lake.queues.stageB)).toBe(1);
    // When the schedule fires the stage B trigger
    const run = await newExecution(stageBMachineArn, () => stageBTrigger(schedule));
    // Then the job run (main.py on Spark) writes the table and post-update records it
    expect(run.status).toBe('SUCCEEDED');
    const item = await new DynamoMetadataStore(c.dynamo, lake.tables).getExecution(lake.team, run.executionId);
    expect(item).toMatchObject({ stage: 'b', status: 'SUCCEEDED' });
    expect(item?.outputs).toEqual([
      expect.objectContaining({ bucket: lake.buckets.analytics, key: `${lake.team}/${lake.dataset}/people/`, table: 'people' }),
    ]);
    const listed = await c.s3.send(
      new ListObjectsV2Command({ Bucket: lake.buckets.analytics, Prefix: `${lake.team}/${lake.dataset}/people/` }),
    );
    expect((listed.Contents ?? []).some((o) => o.Key?.endsWith('.parquet'))).toBe(true);
    const table = glue('get_table', { DatabaseName: lake.config.glueDatabase, Name: 'people' }) as {
      Table: { StorageDescriptor: { Location: string; Columns: Array<{ Name: string; Type: string }> } };
    };
    expect(table.Table.StorageDescriptor.Location).toBe(`s3://${lake.buckets.analytics}/${lake.team}/${lake.dataset}/people/`);
    expect(table.Table.StorageDescriptor.Columns).toContainEqual({ Name: 'id_length', Type: 'int' });
    expect(await queueDepth(lake.queues.stageB)).toBe(0);
  });

  it("ends a failed job run in the error step: FAILED with Glue's error, the batch's keys on the stage B DLQ", async () => {
    // Given a staged object the job cannot read
    const key = `${lake.team}/${lake.dataset}/persons/broken.jsonl`;
    await c.s3.send(new PutObjectCommand({ Bucket: lake.buckets.stage, Key: key, Body: '{"id": 1,\n' }));
    const message = { bucket: lake.buckets.stage, key, team: lake.team, dataset: lake.dataset, sourceExecutionId: 'a-broken' };
    await c.sqs.send(
      new SendMessageCommand({
        QueueUrl: lake.queues.stageB,
        MessageBody: JSON.stringify(message),
        MessageGroupId: 'broken',
        MessageDeduplicationId: 'broken',
      }),
    );
    // When the schedule fires the stage B trigger
    const run = await newExecution(stageBMachineArn, () => stageBTrigger(schedule));
    // Then the execution fails through the error step, with the job's error as the cause
    expect(run.status).toBe('FAILED');
    const item = await new DynamoMetadataStore(c.dynamo, lake.tables).getExecution(lake.team, run.executionId);
    expect(item?.status).toBe('FAILED');
    expect(item?.failure?.cause).toMatch(/StagedObjectError: the staged objects of table persons are not readable JSON Lines/);
    expect(item?.failure?.cause).toMatch(/Malformed records are detected/);
    expect(await queueDepth(lake.queues.stageBDlq)).toBe(1);
  });

  it("ends a job run stopped on Glue in the error step: FAILED with the stopped run as the cause, the batch's keys on the stage B DLQ", async () => {
    // Given a staged object waiting on the stage B queue
    const before = await queueDepth(lake.queues.stageBDlq);
    const key = `${lake.team}/${lake.dataset}/persons/stopped.jsonl`;
    await c.s3.send(new PutObjectCommand({ Bucket: lake.buckets.stage, Key: key, Body: '{"id": 1}\n' }));
    const message = { bucket: lake.buckets.stage, key, team: lake.team, dataset: lake.dataset, sourceExecutionId: 'a-stopped' };
    await c.sqs.send(
      new SendMessageCommand({
        QueueUrl: lake.queues.stageB,
        MessageBody: JSON.stringify(message),
        MessageGroupId: 'stopped',
        MessageDeduplicationId: 'stopped',
      }),
    );
    const runIds = () =>
      (glue('get_job_runs', { JobName: lake.config.glueJob }) as { JobRuns: Array<{ Id: string; JobRunState: string }> }).JobRuns;
    const earlier = new Set(runIds().map((r) => r.Id));
    // When the schedule fires the stage B trigger and the job run it starts is stopped while it runs
    const ending = newExecution(stageBMachineArn, () => stageBTrigger(schedule));
    let stopped: string | undefined;
    for (const deadline = Date.now() + 30_000; stopped === undefined && Date.now() < deadline; ) {
      const started = runIds().find((r) => !earlier.has(r.Id) && r.JobRunState === 'RUNNING');
      if (started) {
        const reply = glue('batch_stop_job_run', { JobName: lake.config.glueJob, JobRunIds: [started.Id] }) as {
          SuccessfulSubmissions: unknown[];
        };
        expect(reply.SuccessfulSubmissions).toHaveLength(1);
        stopped = started.Id;
      } else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stopped).toBeDefined();
    const run = await ending;
    // Then the execution fails through the error step, recording that the run was stopped
    expect(run.status).toBe('FAILED');
    const item = await new DynamoMetadataStore(c.dynamo, lake.tables).getExecution(lake.team, run.executionId);
    expect(item?.status).toBe('FAILED');
    expect(item?.failure).toEqual({
      error: 'States.TaskFailed',
      cause: `The job run ${stopped} of the Glue job ${lake.config.glueJob} ended STOPPED.`,
    });
    // And the batch's keys are on the stage B DLQ, for sdlf redrive
    expect(await queueDepth(lake.queues.stageBDlq)).toBe(before + 1);
    const dlq = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: lake.queues.stageBDlq, MaxNumberOfMessages: 10 }));
    expect((dlq.Messages ?? []).map((m) => m.Body ?? '').some((body) => body.includes(key))).toBe(true);
  });
});
