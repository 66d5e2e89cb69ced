import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/index.js';
import { loadProject } from '../../src/config/load.js';
import { isSdlfError } from '../../src/core/errors.js';
import { ddkJson, tempDir } from '../helpers/project.js';
import {
  allStackArtifacts,
  identityStatements,
  physicalNames,
  synthNagClean,
  templateOf,
  testBuildOptions,
  writeProject,
} from './helpers.js';

const DEFAULT_DATASETS = { dev: [{ team: 'demoteam', dataset: 'legislators' }] };

async function synth(datasets: Parameters<typeof writeProject>[0], options: Parameters<typeof writeProject>[1] = {}, build = {}) {
  const project = await loadProject(writeProject(datasets, options));
  const app = await buildApp(project, testBuildOptions({ outdir: tempDir('sdlf-out-'), ...build }));
  return allStackArtifacts(synthNagClean(app));
}

describe('buildApp', { timeout: 240_000 }, () => {
  it('builds foundations, one stack per team × pipeline and one per dataset, cdk-nag clean', async () => {
    // Given the default project: one team, one standard dataset
    const stacks = await synth(DEFAULT_DATASETS);
    // Then three stacks with the documented names exist and cdk-nag found nothing
    expect(stacks.map((s) => s.stackName).sort()).toEqual([
      'ddk-dev-demoteam-legislators',
      'ddk-dev-demoteam-standard',
      'ddk-dev-foundations',
    ]);
    for (const stack of stacks) expect(stack.environment).toMatchObject({ account: '222222222222', region: 'us-east-1' });
  });

  it('creates no CloudFormation custom resource and no export in any data-lake stack', async () => {
    const stacks = await synth({ dev: [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'other', pipeline: 'custom' }] });
    const types = new Set(stacks.flatMap((s) => Object.values(templateOf(s).Resources).map((r) => r.Type)));
    // The full inventory of resource types: none is a custom resource
    expect([...types].filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')).toEqual(
      [],
    );
    expect([...types].sort()).toMatchInlineSnapshot(`
      [
        "AWS::CloudWatch::Alarm",
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::Glue::Database",
        "AWS::Glue::Job",
        "AWS::Glue::SecurityConfiguration",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::KMS::Key",
        "AWS::LakeFormation::PrincipalPermissions",
        "AWS::LakeFormation::Resource",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::Logs::LogGroup",
        "AWS::Logs::MetricFilter",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::SSM::Parameter",
        "AWS::StepFunctions::StateMachine",
      ]
    `);
    for (const stack of stacks) {
      const template = templateOf(stack);
      expect(Object.values(template.Outputs ?? {}).filter((o) => o.Export)).toEqual([]);
      expect(JSON.stringify(template)).not.toContain('Fn::ImportValue');
    }
  });

  it('invokes nothing on a clock: no schedule rule or schedule anywhere, and stage B is woken through its wake queue', async () => {
    const stacks = await synth({ dev: [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'other', pipeline: 'custom' }] });
    const resources = stacks.flatMap((s) => Object.values(templateOf(s).Resources));
    const of = (type: string) => resources.filter((r) => r.Type === type);
    expect(of('AWS::Events::Rule').filter((rule) => rule.Properties?.ScheduleExpression !== undefined)).toEqual([]);
    expect(of('AWS::Scheduler::Schedule')).toEqual([]);
    // The one standard team pipeline's trigger has one event source, its wake queue; the custom one has no stage B.
    const mappings = of('AWS::Lambda::EventSourceMapping');
    const wakes = mappings.filter((m) => JSON.stringify(m.Properties?.EventSourceArn).includes('WakeQueue'));
    expect(wakes).toHaveLength(1);
    expect(wakes[0]?.Properties).toMatchObject({ BatchSize: 10_000, MaximumBatchingWindowInSeconds: 300 });
  });

  it('alarms on every dead-letter queue and state machine, invokes no function without a source ARN, and scopes IAM to named resources', async () => {
    const stacks = await synth({ dev: [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'other', pipeline: 'custom' }] });
    const resources = stacks.flatMap((s) => Object.values(templateOf(s).Resources));
    const of = (type: string) => resources.filter((r) => r.Type === type);
    // Every queue has a dead-letter queue; every dead-letter queue and state machine has an alarm
    const queues = of('AWS::SQS::Queue');
    const withDlq = queues.filter((q) => q.Properties?.RedrivePolicy);
    // EventBridge dead-letter queues (one per team pipeline) have no source queue
    const routingDlqs = queues.filter((q) => String(q.Properties?.QueueName).endsWith('-routing-dlq'));
    expect(routingDlqs).toHaveLength(2);
    // Stage B's wake queues (one per team pipeline with a stage B) carry no data: a failed wake is retried, not
    // dead-lettered (HeavyTransformStage)
    const wakeQueues = queues.filter((q) => String(q.Properties?.QueueName).endsWith('-stage-b-wake'));
    expect(wakeQueues).toHaveLength(1);
    expect(withDlq.length * 2 + routingDlqs.length + wakeQueues.length).toBe(queues.length);
    // …and every team pipeline's routing an alarm on the events it drops
    expect(of('AWS::Logs::MetricFilter')).toHaveLength(routingDlqs.length);
    // One alarm per team pipeline over all its faults, and one per dataset's stage B dead-letter queue: together
    // they watch every dead-letter queue, every state machine and every dropped-events count
    const pipelineStacks = stacks.filter((s) => /^ddk-dev-demoteam-(standard|custom)$/.test(s.stackName));
    expect(pipelineStacks).toHaveLength(2);
    const stageBQueues = queues.filter((q) => String(q.Properties?.QueueName).endsWith('-stage-b-dlq.fifo'));
    expect(stageBQueues).toHaveLength(1);
    expect(of('AWS::CloudWatch::Alarm')).toHaveLength(pipelineStacks.length + stageBQueues.length);
    const watched = JSON.stringify(of('AWS::CloudWatch::Alarm').map((a) => [a.Properties?.Dimensions, a.Properties?.Metrics]));
    const idsOf = (type: string) =>
      stacks.flatMap((s) =>
        Object.entries(templateOf(s).Resources)
          .filter(([, r]) => r.Type === type)
          .map(([id]) => id),
      );
    const deadLetterQueueIds = idsOf('AWS::SQS::Queue').filter((id) => /DeadLetterQueue[0-9A-F]{8}$/.test(id));
    expect(deadLetterQueueIds).toHaveLength(withDlq.length + routingDlqs.length);
    for (const id of [...deadLetterQueueIds, ...idsOf('AWS::StepFunctions::StateMachine')]) expect(watched).toContain(`"${id}"`);
    expect((watched.match(/"MetricName":"DroppedEvents"/g) ?? []).length).toBe(routingDlqs.length);
    // Every dataset rule sends what it cannot deliver to a dead-letter queue
    const datasetRules = of('AWS::Events::Rule').filter((r) => String(r.Properties?.Name).endsWith('-raw'));
    expect(datasetRules).toHaveLength(2);
    for (const rule of datasetRules) {
      for (const target of (rule.Properties?.Targets ?? []) as Array<{ DeadLetterConfig?: { Arn?: unknown } }>)
        expect(JSON.stringify(target.DeadLetterConfig?.Arn)).toMatch(/:ddk-dev-demoteam-(standard|custom)-routing-dlq"/);
    }
    for (const alarm of of('AWS::CloudWatch::Alarm')) expect(alarm.Properties?.AlarmActions).toHaveLength(1);
    // Every Lambda permission names its source
    expect(of('AWS::Lambda::Permission').length).toBeGreaterThan(0);
    const ruleIds = new Set(
      stacks.flatMap((s) =>
        Object.entries(templateOf(s).Resources)
          .filter(([, r]) => r.Type === 'AWS::Events::Rule')
          .map(([id]) => id),
      ),
    );
    for (const permission of of('AWS::Lambda::Permission')) {
      const source = permission.Properties?.SourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
      expect(ruleIds.has(source?.['Fn::GetAtt']?.[0] ?? ''), JSON.stringify(source)).toBe(true);
    }
    // Resource "*" only for actions without resource-level permissions (X-Ray, log delivery, Lake Formation data access)
    const statements = stacks.flatMap((s) =>
      identityStatements(templateOf(s).Resources).map(
        ({ statement }) => statement as { Action: string | string[]; Resource: unknown },
      ),
    );
    expect(statements.length).toBeGreaterThan(of('AWS::IAM::Policy').length);
    const star = statements.filter((st) => st.Resource === '*' || (Array.isArray(st.Resource) && st.Resource.includes('*')));
    for (const st of star) {
      for (const action of [st.Action].flat())
        expect(action).toMatch(
          /^(xray:|logs:(Create|Get|Update|Delete|List|Put|Describe)[A-Za-z]*|lakeformation:GetDataAccess$)/,
        );
    }
    // Every function writes to its team pipeline's log group, which has a retention: one group per pipeline stack
    expect(of('AWS::Logs::LogGroup')).toHaveLength(pipelineStacks.length);
    for (const group of of('AWS::Logs::LogGroup')) expect(group.Properties?.RetentionInDays).toBe(365);
    for (const fn of of('AWS::Lambda::Function')) {
      expect(JSON.stringify(fn.Properties?.LoggingConfig)).toMatch(
        /PipelineLogGroup|"\/aws\/vendedlogs\/ddk-dev-demoteam-(standard|custom)"/,
      );
    }
  });

  it('throws UNKNOWN_ENVIRONMENT for an environment ddk.json does not have', async () => {
    const project = await loadProject(writeProject(DEFAULT_DATASETS));
    const error = await buildApp(project, testBuildOptions({ env: 'prd' })).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('UNKNOWN_ENVIRONMENT');
    expect((error as Error).message).toContain('"prd"');
  });

  it('throws MISSING_TRANSFORM when a dataset has no light transform file', async () => {
    const root = writeProject(DEFAULT_DATASETS, { ddk: ddkJson() });
    const { rmSync } = await import('node:fs');
    rmSync(`${root}/transforms/light/sdlf_light_transform.ts`);
    const error = await buildApp(await loadProject(root), testBuildOptions()).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('MISSING_TRANSFORM');
    expect((error as Error).message).toContain('transforms/light/sdlf_light_transform.ts');
  });
});

describe('buildApp environments', { timeout: 240_000 }, () => {
  it('gives dev and prod in one account and region no physical name in common', async () => {
    // Given dev and prod in the same account and region, with the same datasets
    const ddk = ddkJson({ prod: { account: '222222222222', region: 'us-east-1', resource_prefix: 'ddk' } });
    const datasets = [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'other', pipeline: 'custom' }];
    const stacks = await synth({ dev: datasets, prod: datasets }, { ddk });
    // Then the names of dev and prod resources are disjoint
    const namesOf = (env: string) =>
      stacks.filter((s) => s.stackName.startsWith(`ddk-${env}-`)).flatMap((s) => physicalNames(templateOf(s).Resources));
    const dev = namesOf('dev');
    const prod = new Set(namesOf('prod'));
    expect(dev.length).toBeGreaterThan(50);
    expect(dev.filter((name) => prod.has(name))).toEqual([]);
    expect(new Set(stacks.map((s) => s.stackName)).size).toBe(stacks.length);
  });

  it('uses one customer-managed key for the default project, and retains data stores and keys', async () => {
    const stacks = await synth(DEFAULT_DATASETS);
    const resources = stacks.flatMap((s) => Object.values(templateOf(s).Resources));
    expect(resources.filter((r) => r.Type === 'AWS::KMS::Key')).toHaveLength(1);
    for (const r of resources.filter((r) => ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::KMS::Key'].includes(r.Type))) {
      expect(r.DeletionPolicy).toBe('Retain');
    }
    // A project without project_id (made before ids) tags no id
    for (const stack of stacks) expect(stack.tags['sdlf:project-id']).toBeUndefined();
  });

  it('applies project_id, remove_data_on_destroy, kms_strategy, notification_email, log_retention_days and tags of ddk.json', async () => {
    const environments = ddkJson({
      dev: {
        account: '222222222222',
        region: 'us-east-1',
        remove_data_on_destroy: true,
        kms_strategy: 'per-bucket',
        notification_email: 'team@example.com',
        log_retention_days: 30,
        tags: { costcenter: 'data' },
      },
    });
    const ddk = { project_id: '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d', ...environments };
    const stacks = await synth(DEFAULT_DATASETS, { ddk });
    const resources = stacks.flatMap((s) => Object.values(templateOf(s).Resources));
    expect(resources.filter((r) => r.Type === 'AWS::KMS::Key')).toHaveLength(6);
    expect(resources.filter((r) => r.Type === 'AWS::S3::Bucket').every((r) => r.DeletionPolicy === 'Delete')).toBe(true);
    expect(resources.filter((r) => r.Type === 'AWS::SNS::Subscription')).toEqual([
      expect.objectContaining({ Properties: expect.objectContaining({ Endpoint: 'team@example.com', Protocol: 'email' }) }),
    ]);
    // One log group, the team pipeline's, with the environment's retention
    const logGroups = resources.filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(1);
    for (const group of logGroups) expect(group.Properties?.RetentionInDays).toBe(30);
    // Per-bucket keys: a key parameter per keyed bucket, and the other stacks read the one of each bucket they use
    const keyParameters = resources.filter(
      (r) => r.Type === 'AWS::SSM::Parameter' && String(r.Properties?.Name).includes('/keys/'),
    );
    expect(keyParameters.map((r) => r.Properties?.Name).sort()).toEqual(
      ['analytics', 'artifacts', 'athena', 'raw', 'stage'].map((kind) => `/ddk/dev/foundations/keys/${kind}`),
    );
    const read = stacks.flatMap((s) =>
      Object.values((templateOf(s) as { Parameters?: Record<string, { Default?: string }> }).Parameters ?? {}).map(
        (p) => p.Default,
      ),
    );
    expect(read).toContain('/ddk/dev/foundations/keys/raw');
    expect(read).not.toContain('/ddk/dev/foundations/keys/data');
    for (const stack of stacks) {
      expect(stack.tags).toMatchObject({
        'sdlf:project': 'ddk',
        'sdlf:project-id': '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d',
        'sdlf:environment': 'dev',
        costcenter: 'data',
      });
    }
    // The resources carry the id too, so delete-all can tell the project's buckets and tables by it
    const bucket = resources.find((r) => r.Type === 'AWS::S3::Bucket');
    expect(bucket?.Properties?.Tags).toContainEqual({ Key: 'sdlf:project-id', Value: '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d' });
    expect(stacks.find((s) => s.stackName === 'ddk-dev-demoteam-legislators')?.tags).toMatchObject({
      'sdlf:team': 'demoteam',
      'sdlf:dataset': 'legislators',
    });
  });

  it('changes no other stack when a dataset is added', async () => {
    // Given a project synthesized with one dataset
    const root = writeProject(DEFAULT_DATASETS);
    const build = async () => {
      const app = await buildApp(await loadProject(root), testBuildOptions({ outdir: tempDir('sdlf-out-'), nag: false }));
      return new Map(allStackArtifacts(app.synth()).map((s) => [s.stackName, JSON.stringify(s.template)]));
    };
    const before = await build();
    // When a second dataset of the same team and pipeline is added
    writeProject({ dev: [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'orders' }] }, { dir: root });
    const after = await build();
    // Then only the new dataset stack is new, and every existing template is byte-identical
    expect([...after.keys()].filter((name) => !before.has(name))).toEqual(['ddk-dev-demoteam-orders']);
    for (const [name, template] of before) expect(after.get(name), name).toBe(template);
  });

  it('runs the built-in CloudFormation validation when asked', async () => {
    const stacks = await synth(DEFAULT_DATASETS, {}, { validation: true });
    expect(stacks).toHaveLength(3);
  });

  it('synthesizes templates that cfn-lint accepts', async () => {
    const stacks = await synth({ dev: [...DEFAULT_DATASETS.dev, { team: 'demoteam', dataset: 'other', pipeline: 'custom' }] });
    const files = stacks.map((s) => join(s.assembly.directory, s.templateFile));
    // E3002 and friends cover properties; W (warnings) are reported but do not fail
    const lint = await execa('cfn-lint', ['--format', 'parseable', '--', ...files], { reject: false });
    const errors = lint.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
  });
});
