import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { GetDataLakeSettingsCommand, LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { CreateBucketCommand, HeadObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, ListQueuesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createConsoleIo } from '../../src/cli/terminal.js';
import { loadProject } from '../../src/config/load.js';
import { BUCKET_KINDS, Naming, TABLE_KINDS } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { DynamoMetadataStore } from '../../src/runtime/aws/dynamo-metadata-store.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deleteAll } from '../../src/services/delete-all.js';
import { deployProject } from '../../src/services/deploy.js';
import { redriveDataset } from '../../src/services/redrive.js';
import { showStatus } from '../../src/services/status.js';
import { uploadData } from '../../src/services/upload.js';
import { initDemoProject, MOTO_ACCOUNT, useMoto } from './moto.js';

// The whole lifecycle of the demo project `sdlf init` writes, with the real embedded app, against moto_server
// (started by test/global-setup.ts through test/moto/server.py, which patches the moto defects this suite hit).
// moto models S3, DynamoDB, SQS, SSM, KMS, Step Functions, Lambda, IAM, SNS, EventBridge and CloudWatch Logs;
// it skips the resource types it does not model (Glue, Lake Formation, CloudWatch alarms, bucket/queue/topic
// policies) and still completes the stacks, so the assertions stay on what it models.
// Each lifecycle suite uses its own region: moto_server is shared by every test file of the run.
const region = 'eu-west-3';
const fast = { pollingIntervalMs: 100 };
const team = 'demoteam';
const dataset = 'legislators';

describe('the AWS lifecycle against moto_server', () => {
  let root: string;
  let dev: Naming;
  const clients = () => ({
    cfn: new CloudFormationClient({ region }),
    s3: new S3Client({ region, forcePathStyle: true }),
    ddb: new DynamoDBClient({ region }),
    sqs: new SQSClient({ region }),
    kms: new KMSClient({ region }),
    lf: new LakeFormationClient({ region }),
    ssm: new SSMClient({ region }),
    sfn: new SFNClient({ region }),
  });
  const liveStacks = async () =>
    ((await clients().cfn.send(new DescribeStacksCommand({}))).Stacks ?? [])
      .filter((s) => s.StackStatus !== 'DELETE_COMPLETE')
      .map((s) => s.StackName)
      .sort();
  const bucketNames = async () => ((await clients().s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
  const queueNames = async () =>
    ((await clients().sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'demo-dev-' }))).QueueUrls ?? [])
      .map((url) => url.split('/').pop())
      .sort();
  const stateMachineNames = async () =>
    ((await clients().sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).map((m) => m.name).sort();

  beforeAll(async () => {
    useMoto();
    // The demo project exactly as `sdlf init` writes it, with a second environment (same account and region)
    // whose stacks exist but are not deployed by this suite.
    root = await initDemoProject({ region, prefix: 'demo', moreEnvs: ['prod'] });
    const project = await loadProject(root);
    const [devEnv] = project.environments;
    if (!devEnv) throw new Error('fixture has no dev environment');
    dev = Naming.forEnvironment(devEnv);
    // Things delete-all must never touch: an unrelated cdk-* bucket, an octagon-* table and another prefix's stack.
    const { s3, ddb, cfn } = clients();
    await s3.send(
      new CreateBucketCommand({
        Bucket: `cdk-unrelated-assets-${region}`,
        CreateBucketConfiguration: { LocationConstraint: region },
      }),
    );
    await ddb.send(
      new CreateTableCommand({
        TableName: 'octagon-ObjectMetadata-dev',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await cfn.send(
      new CreateStackCommand({
        StackName: 'other-dev-foundations',
        TemplateBody: JSON.stringify({
          Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/other/dev/x', Type: 'String', Value: 'x' } } },
        }),
        Tags: [
          { Key: 'sdlf:project', Value: 'other' },
          { Key: 'sdlf:environment', Value: 'dev' },
        ],
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, maxWaitTime: 60, minDelay: 1 }, { StackName: 'other-dev-foundations' });
    // The other environment's data key (retained from its own deploy).
    const { kms } = clients();
    for (const env of ['prod']) {
      const key = await kms.send(
        new CreateKeyCommand({
          Tags: [
            { TagKey: 'sdlf:project', TagValue: 'demo' },
            { TagKey: 'sdlf:environment', TagValue: env },
          ],
        }),
      );
      await kms.send(new CreateAliasCommand({ AliasName: `alias/demo-${env}-data`, TargetKeyId: key.KeyMetadata?.KeyId }));
    }
    // The second environment of the same project, with the same tags scheme.
    for (const name of ['demo-prod-foundations', 'demo-prod-demoteam-standard', 'demo-prod-demoteam-legislators']) {
      await cfn.send(
        new CreateStackCommand({
          StackName: name,
          TemplateBody: JSON.stringify({
            Resources: {
              P: { Type: 'AWS::SSM::Parameter', Properties: { Name: `/demo/prod/${name}`, Type: 'String', Value: 'x' } },
            },
          }),
          Tags: [
            { Key: 'sdlf:project', Value: 'demo' },
            { Key: 'sdlf:environment', Value: 'prod' },
          ],
        }),
      );
    }
  });

  it('bootstraps the environment and its Lake Formation settings, and a re-run changes nothing', async () => {
    const first = await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    expect(first.toolkitStack).toBe('created-or-updated');
    expect(first.lakeFormation).toMatchObject({ changed: true, clearedDatabaseDefaults: true, clearedTableDefaults: true });
    const settings = (await clients().lf.send(new GetDataLakeSettingsCommand({}))).DataLakeSettings;
    expect(settings?.DataLakeAdmins?.map((a) => a.DataLakePrincipalIdentifier)).toContain(
      `arn:aws:iam::${MOTO_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${MOTO_ACCOUNT}-${region}`,
    );
    expect(settings?.CreateDatabaseDefaultPermissions).toEqual([]);

    const again = await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    expect(again.toolkitStack).toBe('unchanged');
    expect(again.lakeFormation).toMatchObject({ changed: false, addedAdmins: [] });

    // The cicd environment holds no data lake: CDK bootstrap only.
    const cicd = await bootstrapEnvironment({ root, env: 'cicd' }, createRecordingIo());
    expect(cicd).toMatchObject({ env: 'cicd', toolkitStack: 'unchanged' });
    expect(cicd.lakeFormation).toBeUndefined();
  });

  it('deploys the demo project directly, its stacks in dependency order, after a preflight', async () => {
    const io = createRecordingIo();
    const result = await deployProject({ root, env: 'dev', direct: true, requireApproval: 'never', ...fast }, io);
    expect(result).toMatchObject({ mode: 'direct', env: 'dev', account: MOTO_ACCOUNT, region });
    expect(result.stacks.map((s) => [s.name, s.status])).toEqual([
      ['demo-dev-foundations', 'deployed'],
      ['demo-dev-demoteam-standard', 'deployed'],
      ['demo-dev-demoteam-legislators', 'deployed'],
    ]);
    const progress = io.lines.map((l) => l.message);
    expect(progress.some((m) => m.startsWith('Preflight passed'))).toBe(true);
    expect(progress.filter((m) => /deploying\.\.\. \[\d\/3\]/.test(m))).toHaveLength(3);

    const { cfn, ddb, kms, ssm } = clients();
    const described = await cfn.send(new DescribeStacksCommand({ StackName: 'demo-dev-foundations' }));
    expect(described.Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
    expect(described.Stacks?.[0]?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'sdlf:project', Value: 'demo' },
        { Key: 'sdlf:environment', Value: 'dev' },
      ]),
    );
    // What moto models of the three stacks: buckets, tables, the tagged KMS keys, SSM parameters (tagged too),
    // queues and state machines.
    expect(await bucketNames()).toEqual(expect.arrayContaining(BUCKET_KINDS.map((kind) => dev.bucket(kind))));
    for (const kind of TABLE_KINDS) {
      const table = await ddb.send(new DescribeTableCommand({ TableName: dev.table(kind) }));
      expect(table.Table?.TableStatus).toBe('ACTIVE');
    }
    const alias = (await kms.send(new ListAliasesCommand({}))).Aliases?.find((a) => a.AliasName === dev.kmsAlias('data'));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: alias?.TargetKeyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    const rawKey = await ssm.send(new GetParameterCommand({ Name: dev.foundationsParameter('keys/data') }));
    expect(rawKey.Parameter?.Value).toMatch(new RegExp(`^arn:aws:kms:${region}:\\d{12}:key/${alias?.TargetKeyId}$`));
    await expect(ssm.send(new GetParameterCommand({ Name: dev.datasetParameter(team, dataset) }))).resolves.toMatchObject({
      Parameter: { Name: dev.datasetParameter(team, dataset), Value: expect.stringContaining(`"${dataset}"`) },
    });
    expect(await queueNames()).toEqual(
      [
        dev.routingDeadLetterQueue(team, 'standard'),
        dev.stageADeadLetterQueue(team, 'standard'),
        dev.stageAQueue(team, 'standard'),
        dev.stageBDeadLetterQueue(team, dataset),
        dev.stageBQueue(team, dataset),
        dev.stageBWakeQueue(team, 'standard'),
      ].sort(),
    );
    expect(await stateMachineNames()).toEqual([dev.stateMachine(team, 'standard', 'a'), dev.stateMachine(team, 'standard', 'b')]);
  }, 240_000);

  it('deploys again without changes: every stack is unchanged', async () => {
    const result = await deployProject(
      { root, env: 'dev', direct: true, requireApproval: 'never', ...fast },
      createRecordingIo(),
    );
    expect(result.stacks.map((s) => [s.name, s.status])).toEqual([
      ['demo-dev-foundations', 'unchanged'],
      ['demo-dev-demoteam-standard', 'unchanged'],
      ['demo-dev-demoteam-legislators', 'unchanged'],
    ]);
  }, 240_000);

  it('moves the metadata items around a deploy over a team pipeline that ran the legacy keys', async () => {
    // Given the team pipeline stack as an earlier sdlf deployed it (no key layout output), and items it wrote
    const { cfn, ddb } = clients();
    const stackName = dev.pipelineStack(team, 'standard');
    const body = JSON.parse((await cfn.send(new GetTemplateCommand({ StackName: stackName }))).TemplateBody ?? '{}');
    delete body.Outputs.MetadataKeyLayout;
    await cfn.send(
      new UpdateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify(body),
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
      }),
    );
    await waitUntilStackUpdateComplete({ client: cfn, maxWaitTime: 120, minDelay: 1 }, { StackName: stackName });
    const doc = DynamoDBDocumentClient.from(ddb);
    const legacy = { name: `${team}-${dataset}`, team, dataset, version: 7 };
    await doc.send(new PutCommand({ TableName: dev.table('datasets'), Item: legacy }));

    // When the project is deployed
    const io = createRecordingIo();
    const result = await deployProject({ root, env: 'dev', direct: true, requireApproval: 'never', ...fast }, io);

    // Then the item was copied before the stacks changed and moved after, and the stack has its output again
    expect(result.keyMigration).toEqual({ copied: 1, moved: 1 });
    const messages = io.lines.map((l) => l.message);
    const copiedAt = messages.findIndex((m) => m.startsWith('Copied 1 item'));
    const movedAt = messages.findIndex((m) => m.startsWith('Moved 1 item'));
    const deployedAt = messages.findIndex((m) => m.includes(stackName) && /deploying/.test(m));
    expect(copiedAt).toBeGreaterThan(-1);
    expect(deployedAt).toBeGreaterThan(copiedAt);
    expect(movedAt).toBeGreaterThan(deployedAt);
    const table = dev.table('datasets');
    expect((await doc.send(new GetCommand({ TableName: table, Key: { name: `${team}/${dataset}` } }))).Item).toEqual({
      ...legacy,
      name: `${team}/${dataset}`,
    });
    expect((await doc.send(new GetCommand({ TableName: table, Key: { name: legacy.name } }))).Item).toBeUndefined();
    expect(result.stacks.find((s) => s.name === stackName)?.outputs.MetadataKeyLayout).toBe('team');
    // And the next deploy has nothing to move
    const again = await deployProject({ root, env: 'dev', direct: true, requireApproval: 'never', ...fast }, createRecordingIo());
    expect(again.keyMigration).toBeUndefined();
  }, 240_000);

  it('uploads the sample data into the raw bucket with the environment data key', async () => {
    const result = await uploadData({ root, env: 'dev', team: 'demoteam', dataset: 'legislators' }, createRecordingIo());
    expect(result.bucket).toBe(dev.bucket('raw'));
    expect(result.objects.map((o) => o.key)).toEqual([
      'demoteam/legislators/memberships.json',
      'demoteam/legislators/organizations.json',
      'demoteam/legislators/persons.json',
      'demoteam/legislators/regions.json',
    ]);
    const head = await clients().s3.send(
      new HeadObjectCommand({ Bucket: result.bucket, Key: 'demoteam/legislators/persons.json' }),
    );
    expect(head.ServerSideEncryption).toBe('aws:kms');
  });

  it('shows recent executions from the execution history index and the dead-letter queue depths', async () => {
    const store = new DynamoMetadataStore(clients().ddb, {
      objectMetadata: dev.table('object-metadata'),
      datasets: dev.table('datasets'),
      pipelines: dev.table('pipelines'),
      executionHistory: dev.table('execution-history'),
    });
    await store.startExecution(
      {
        id: 'exec-1',
        stage: 'a',
        team: 'demoteam',
        dataset: 'legislators',
        pipeline: 'standard',
        datasetKey: 'demoteam/legislators',
        startedAt: '2026-11-26T00:00:00.000Z',
        source: `s3://${dev.bucket('raw')}/demoteam/legislators/persons.json`,
        expiresAt: 4_102_444_800,
      },
      '2026-11-26T00:00:00.000Z',
    );
    const { sqs } = clients();
    const dlq = (await sqs.send(new GetQueueUrlCommand({ QueueName: dev.stageBDeadLetterQueue('demoteam', 'legislators') })))
      .QueueUrl;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlq,
        MessageBody: '{"team":"demoteam","dataset":"legislators"}',
        MessageGroupId: 'demoteam-legislators',
        MessageDeduplicationId: 'k1',
      }),
    );

    const status = await showStatus({ root, env: 'dev' }, createRecordingIo());
    expect(status.datasets).toEqual([
      expect.objectContaining({
        team: 'demoteam',
        dataset: 'legislators',
        executions: [expect.objectContaining({ id: 'exec-1', stage: 'a', status: 'STARTED' })],
        deadLetters: { stageA: 0, stageB: 1 },
      }),
    ]);
  });

  it('moves every stage B dead-letter message back to its source queue, keeping the FIFO group', async () => {
    const result = await redriveDataset(
      { root, env: 'dev', team: 'demoteam', dataset: 'legislators', stage: 'b' },
      createRecordingIo(),
    );
    expect(result).toMatchObject({ moved: 1, kept: 0, to: dev.stageBQueue('demoteam', 'legislators') });
    const { sqs } = clients();
    const source = (await sqs.send(new GetQueueUrlCommand({ QueueName: dev.stageBQueue('demoteam', 'legislators') }))).QueueUrl;
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: source, MessageSystemAttributeNames: ['MessageGroupId'] }),
    );
    expect(received.Messages?.[0]?.Attributes?.MessageGroupId).toBe('demoteam-legislators');
  });

  it('plans delete-all from names and tags only, and --dry-run changes nothing', async () => {
    const result = await deleteAll({ root, env: 'dev', dryRun: true }, createRecordingIo());
    const lines = result.steps.map((s) => s.description);
    expect(lines.filter((l) => l.startsWith('delete stack'))).toEqual([
      'delete stack        demo-dev-demoteam-legislators (dataset)',
      'delete stack        demo-dev-demoteam-standard (pipeline)',
      'delete stack        demo-dev-foundations (foundations)',
    ]);
    expect(lines.join('\n')).not.toMatch(/prod|other|octagon|cdk-unrelated|CDKToolkit/);
    expect(result.untouched.join('\n')).toContain('Lake Formation admins');
    const stacks = await clients().cfn.send(new DescribeStacksCommand({ StackName: 'demo-dev-foundations' }));
    expect(stacks.Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
  });

  it('refuses to delete without a terminal and without --yes', async () => {
    const io = createConsoleIo({ interactive: false, stream: { write: () => true } as unknown as NodeJS.WritableStream });
    await expect(deleteAll({ root, env: 'dev' }, io)).rejects.toMatchObject({ code: 'CONFIRMATION_REQUIRED' });
    const stacks = await clients().cfn.send(new DescribeStacksCommand({ StackName: 'demo-dev-demoteam-legislators' }));
    expect(stacks.Stacks?.[0]?.StackStatus).toBe('CREATE_COMPLETE');
  });

  it('deletes the environment after asking, and leaves other environments, prefixes and look-alikes alone', async () => {
    const io = createRecordingIo([true]);
    const result = await deleteAll({ root, env: 'dev', ...fast }, io);
    expect(io.lines.filter((l) => l.level === 'confirm')).toHaveLength(1);
    expect(result.confirmed).toBe(true);
    expect(result.steps.every((s) => s.status !== 'planned')).toBe(true);

    const { ddb, kms, ssm } = clients();
    expect(await liveStacks()).toEqual([
      'CDKToolkit',
      'demo-prod-demoteam-legislators',
      'demo-prod-demoteam-standard',
      'demo-prod-foundations',
      'other-dev-foundations',
    ]);
    const buckets = await bucketNames();
    expect(buckets).toContain(`cdk-unrelated-assets-${region}`);
    for (const kind of BUCKET_KINDS) expect(buckets).not.toContain(dev.bucket(kind));
    await expect(ddb.send(new DescribeTableCommand({ TableName: 'octagon-ObjectMetadata-dev' }))).resolves.toMatchObject({
      Table: { TableName: 'octagon-ObjectMetadata-dev', TableStatus: 'ACTIVE' },
    });
    for (const kind of TABLE_KINDS) {
      await expect(ddb.send(new DescribeTableCommand({ TableName: dev.table(kind) }))).rejects.toThrow();
    }
    expect(await queueNames()).toEqual([]);
    expect(await stateMachineNames()).toEqual([]);
    await expect(ssm.send(new GetParameterCommand({ Name: dev.datasetParameter(team, dataset) }))).rejects.toThrow();
    await expect(ssm.send(new GetParameterCommand({ Name: dev.foundationsParameter('keys/data') }))).rejects.toThrow();
    for (const name of ['/demo/prod/demo-prod-foundations', '/other/dev/x']) {
      await expect(ssm.send(new GetParameterCommand({ Name: name }))).resolves.toMatchObject({ Parameter: { Name: name } });
    }
    // The foundations stack's key (data and alarm topic) is scheduled for deletion; prod's key is untouched.
    const keys = result.steps.flatMap((s) => (s.step.kind === 'schedule-key-deletion' ? [s.step.keyId] : []));
    expect(keys).toHaveLength(1);
    for (const keyId of keys) {
      expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    }
    const prodKey = (await kms.send(new ListAliasesCommand({}))).Aliases?.find((a) => a.AliasName === 'alias/demo-prod-data');
    expect((await kms.send(new DescribeKeyCommand({ KeyId: prodKey?.TargetKeyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    // The admins bootstrap recorded stay while prod still needs them.
    await expect(
      ssm.send(new GetParameterCommand({ Name: dev.ssm('bootstrap', 'lake-formation-admins') })),
    ).resolves.toMatchObject({
      Parameter: { Name: dev.ssm('bootstrap', 'lake-formation-admins') },
    });
  }, 120_000);

  it('finds nothing left on a re-run', async () => {
    const result = await deleteAll({ root, env: 'dev', ...fast }, createRecordingIo());
    expect(result.steps).toEqual([]);
  });
});
