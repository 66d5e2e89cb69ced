import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import type { DatasetConfig } from '../../src/config/model.js';
import { Naming } from '../../src/config/naming.js';
import { DatasetResources } from '../../src/constructs/dataset-resources.js';
import { isSdlfError } from '../../src/core/errors.js';
import { GLUE_RUNNER } from '../../src/runtime/glue/runner.js';
import { identityStatements, physicalNames, testStack } from '../app/helpers.js';
import { datasetRegistration } from '../helpers/dataset.js';
import { tempDir } from '../helpers/project.js';

const naming = new Naming({ prefix: 'ddk', env: 'dev', account: '222222222222', region: 'us-east-1' });
const config = (dataset = 'legislators'): DatasetConfig => datasetRegistration({ dataset });

/** A heavy transform folder with a main.py of the user's own (and transform.sql unless told otherwise). */
function heavyDir(withSql = true): string {
  const dir = join(tempDir(), 'sdlf_heavy_transform');
  mkdirSync(dir);
  writeFileSync(join(dir, 'main.py'), 'print("job")\n');
  if (withSql) writeFileSync(join(dir, 'transform.sql'), 'create table t as select 1;\n');
  return dir;
}

/** The stage B props of a folder whose job runs its own main.py. */
const ownScript = (dir: string, extra: { numberOfWorkers?: number; timeout?: Duration } = {}) => ({
  dir,
  script: join(dir, 'main.py'),
  ...extra,
});

function dataset(props: Partial<ConstructorParameters<typeof DatasetResources>[2]> = {}) {
  const stack = testStack();
  const construct = new DatasetResources(stack, 'Dataset', {
    naming,
    config: config(),
    lightTransformCode: Code.fromInline('export const handler = async () => ({});'),
    ...props,
  });
  return { construct, template: Template.fromStack(stack) };
}

describe('DatasetResources', () => {
  describe('with defaults (no heavy transform)', () => {
    const { template, construct } = dataset();

    it('creates the light-transform function with 1024 MB, 15 minutes and a one-year log group', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'ddk-dev-demoteam-legislators-light-transform',
        MemorySize: 1024,
        Timeout: 900,
        Runtime: 'nodejs24.x',
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/aws/lambda/ddk-dev-demoteam-legislators-light-transform',
        RetentionInDays: 365,
      });
    });

    it('creates the Glue database but no Glue job, stage B queue or grants', () => {
      template.hasResourceProperties('AWS::Glue::Database', {
        DatabaseInput: Match.objectLike({ Name: 'ddk_dev_demoteam_legislators' }),
      });
      template.resourceCountIs('AWS::Glue::Job', 0);
      template.resourceCountIs('AWS::SQS::Queue', 0);
      template.resourceCountIs('AWS::LakeFormation::PrincipalPermissions', 0);
      expect(construct.parameterValue).toMatchObject({ glueJob: '', stageBQueueUrl: '' });
    });

    it('writes the dataset configuration as a native SSM parameter', () => {
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/ddk/dev/datasets/demoteam/legislators', Type: 'String' });
      expect(construct.parameterValue).toMatchObject({
        team: 'demoteam',
        dataset: 'legislators',
        pipeline: 'standard',
        lightTransformFunction: 'ddk-dev-demoteam-legislators-light-transform',
        glueDatabase: 'ddk_dev_demoteam_legislators',
        minItemsProcess: 1,
        maxItemsProcess: 100,
        version: 1,
      });
    });
  });

  describe("grants on the team pipeline's roles", () => {
    const { template } = dataset({ heavyTransform: ownScript(heavyDir()) });
    /** The statements of the policy this stack attaches to a pipeline role, by the role's name. */
    const statementsOf = (roleName: string) => {
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter(
        (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleName]),
      );
      expect(policies, roleName).toHaveLength(1);
      return policies[0]?.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>;
    };

    it('lets the stage A state machine invoke this light-transform function only', () => {
      expect(statementsOf('ddk-dev-demoteam-standard-stage-a')).toEqual([
        expect.objectContaining({
          Action: 'lambda:InvokeFunction',
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DatasetLightTransformFunction/), 'Arn'] },
        }),
      ]);
    });

    /** The statements of the stack's queue policy that allow a pipeline role, by the role's name. */
    const queueStatementsOf = (roleName: string) => {
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(1);
      const statements = policies[0]?.Properties.PolicyDocument.Statement as Array<{
        Action: unknown;
        Resource: unknown;
        Principal?: { AWS?: unknown };
      }>;
      const principal = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::222222222222:role/${roleName}`]] };
      return statements.filter((st) => JSON.stringify(st.Principal?.AWS) === JSON.stringify(principal));
    };

    it('attaches policies to the stage A and stage B state machine roles only: the queues grant in their policy', () => {
      const roles = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => p.Properties.Roles);
      expect(roles).toEqual([['ddk-dev-demoteam-standard-stage-a'], ['ddk-dev-demoteam-standard-stage-b']]);
    });

    it('lets the step function send to this stage B queue and its dead-letter queue only', () => {
      const statements = queueStatementsOf('ddk-dev-demoteam-standard-step');
      expect(statements).toHaveLength(1);
      const [statement] = statements;
      expect(statement).toMatchObject({ Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'] });
      expect(JSON.stringify(statement?.Resource)).toMatch(
        /"DatasetStageBQueue[0-9A-F]{8}","Arn".*"DatasetStageBQueueDeadLetterQueue[0-9A-F]+","Arn"/,
      );
    });

    it('lets the stage B trigger batch, put back and delete in this stage B queue, and dead-letter to its own', () => {
      const statements = queueStatementsOf('ddk-dev-demoteam-standard-stage-b-trigger');
      expect(statements.map((s) => s.Action)).toEqual([
        [
          'sqs:ReceiveMessage',
          'sqs:SendMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
        ],
        'sqs:SendMessage',
      ]);
      expect(JSON.stringify(statements[0]?.Resource)).toMatch(/^\{"Fn::GetAtt":\["DatasetStageBQueue[0-9A-F]{8}","Arn"\]\}$/);
      expect(JSON.stringify(statements[1]?.Resource)).toMatch(
        /^\{"Fn::GetAtt":\["DatasetStageBQueueDeadLetterQueue[0-9A-F]+","Arn"\]\}$/,
      );
    });

    it('lets the stage B state machine run this Glue job only', () => {
      expect(statementsOf('ddk-dev-demoteam-standard-stage-b')).toEqual([
        expect.objectContaining({
          Action: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':glue:us-east-1:222222222222:job/ddk-dev-demoteam-legislators-heavy-transform',
              ],
            ],
          },
        }),
      ]);
    });

    it('grants only the stage A state machine without a heavy transform, and nothing with grantPipelineRoles off', () => {
      const light = dataset().template;
      expect(Object.values(light.findResources('AWS::IAM::Policy')).map((p) => p.Properties.Roles)).toContainEqual([
        'ddk-dev-demoteam-standard-stage-a',
      ]);
      expect(JSON.stringify(light.toJSON())).not.toContain('ddk-dev-demoteam-standard-step');
      const off = dataset({ heavyTransform: ownScript(heavyDir()), grantPipelineRoles: false }).template;
      expect(JSON.stringify(off.toJSON())).not.toMatch(/ddk-dev-demoteam-standard-(stage-a|stage-b|step)/);
    });
  });

  describe('with custom props', () => {
    it('adds the Glue 5.0 job with its script and SQL as assets, the stage B queue and the Lake Formation grants', () => {
      const { template, construct } = dataset({
        heavyTransform: ownScript(heavyDir()),
        lightTransformMemorySize: 2048,
        logRetention: RetentionDays.ONE_MONTH,
      });
      template.hasResourceProperties('AWS::Glue::Job', {
        Name: 'ddk-dev-demoteam-legislators-heavy-transform',
        GlueVersion: '5.0',
        WorkerType: 'G.1X',
        NumberOfWorkers: 2,
        Timeout: 120,
        MaxRetries: 0,
        ExecutionProperty: { MaxConcurrentRuns: 1 },
        SecurityConfiguration: Match.anyValue(),
        Command: { Name: 'glueetl', ScriptLocation: Match.anyValue(), PythonVersion: '3' },
        DefaultArguments: Match.objectLike({
          '--job-bookmark-option': 'job-bookmark-disable',
          '--transform-sql': Match.stringLikeRegexp('^s3://.+\\.sql$'),
          '--stage-bucket': Match.anyValue(),
        }),
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: 'ddk-dev-demoteam-legislators-stage-b.fifo',
        FifoQueue: true,
      });
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'ddk-dev-demoteam-legislators-stage-b-dlq.fifo' });
      template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
      template.resourceCountIs('AWS::LakeFormation::PrincipalPermissions', 3);
      template.hasResourceProperties('AWS::LakeFormation::PrincipalPermissions', {
        Resource: { Database: { Name: 'ddk_dev_demoteam_legislators', CatalogId: Match.anyValue() } },
        Permissions: ['CREATE_TABLE', 'ALTER', 'DROP', 'DESCRIBE'],
      });
      template.resourceCountIs('AWS::LakeFormation::DataLakeSettings', 0);
      template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048 });
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      expect(construct.parameterValue.glueJob).toBe('ddk-dev-demoteam-legislators-heavy-transform');
    });

    it('lets the Glue job read its own script and SQL only, not the rest of the CDK assets bucket', () => {
      const { template } = dataset({ heavyTransform: ownScript(heavyDir()) });
      const statements = identityStatements(template.toJSON().Resources)
        .filter(({ holder }) => holder.startsWith('DatasetGlueRole'))
        .map(({ statement }) => statement as { Action: unknown; Resource: unknown });
      const onAssets = statements.filter((s) => JSON.stringify(s.Resource).includes('cdk-hnb659fds-assets'));
      expect(onAssets).toHaveLength(1);
      expect(onAssets[0]?.Action).toBe('s3:GetObject');
      const resources = JSON.stringify(onAssets[0]?.Resource);
      expect(resources).toMatch(/[0-9a-f]{64}\.py/);
      expect(resources).toMatch(/[0-9a-f]{64}\.sql/);
      expect(resources).not.toMatch(/assets-[^"]*\/\*/);
    });

    it('lets the Glue job write its result beside the manifest and register its tables in its database only', () => {
      // Given a dataset with a heavy transform, whose main.py writes manifests/{team}/{dataset}/<id>.result.json
      // and creates, updates and partitions tables of the dataset's database
      const { template } = dataset({ heavyTransform: ownScript(heavyDir()) });
      const artifacts = naming.bucket('artifacts');
      const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
      // Then its role may put objects under manifests/demoteam/legislators/ of the artifacts bucket
      // (in the inline policy of the role, which has no separate policy)
      template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: 'ddk-dev-demoteam-legislators-glue',
        Policies: [
          {
            PolicyName: 'Permissions',
            PolicyDocument: {
              Statement: Match.arrayWith([
                Match.objectLike({
                  Action: Match.arrayWith(['s3:PutObject']),
                  Resource: {
                    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${artifacts}/manifests/demoteam/legislators/*`]],
                  },
                }),
                Match.objectLike({
                  Action: Match.arrayWith([
                    'glue:GetDatabase',
                    'glue:GetTable',
                    'glue:GetTables',
                    'glue:CreateTable',
                    'glue:UpdateTable',
                    'glue:GetPartitions',
                    'glue:BatchGetPartition',
                    'glue:BatchCreatePartition',
                  ]),
                  Resource: [
                    arn(':glue:us-east-1:222222222222:catalog'),
                    arn(':glue:us-east-1:222222222222:database/ddk_dev_demoteam_legislators'),
                    arn(':glue:us-east-1:222222222222:table/ddk_dev_demoteam_legislators/*'),
                  ],
                }),
              ]),
            },
          },
        ],
      });
    });

    it('applies the worker count and job timeout', () => {
      const { template } = dataset({
        heavyTransform: ownScript(heavyDir(false), { numberOfWorkers: 5, timeout: Duration.minutes(30) }),
      });
      template.hasResourceProperties('AWS::Glue::Job', { NumberOfWorkers: 5, Timeout: 30 });
      const job = Object.values(template.findResources('AWS::Glue::Job'))[0];
      expect(JSON.stringify(job)).not.toContain('--transform-sql');
    });

    it("throws MISSING_TRANSFORM when the job's script does not exist", () => {
      const dir = tempDir();
      const error = catching(() => dataset({ heavyTransform: ownScript(dir) }));
      expect(isSdlfError(error) && error.code).toBe('MISSING_TRANSFORM');
      expect((error as Error).message).toContain('main.py');
    });

    it('throws MISSING_TRANSFORM naming transform.sql when the shipped runner would have no SQL to run', () => {
      const dir = tempDir();
      const error = catching(() => dataset({ heavyTransform: { dir, script: GLUE_RUNNER } }));
      expect(isSdlfError(error) && error.code).toBe('MISSING_TRANSFORM');
      expect((error as Error).message).toContain('sdlf_heavy_transform/transform.sql');
      expect(isSdlfError(error) && error.suggestions?.join(' ')).toContain('--glue-script');
    });

    it('deploys the runner that ships with sdlf when the folder has only its transform.sql', () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'transform.sql'), 'create table t as select 1;\n');
      const { template } = dataset({ heavyTransform: { dir, script: GLUE_RUNNER } });
      const job = Object.values(template.findResources('AWS::Glue::Job'))[0];
      expect(JSON.stringify(job)).toContain('--transform-sql');
    });
  });

  describe('two instances', () => {
    it('of two datasets share no physical name', () => {
      const stack = testStack();
      for (const name of ['orders', 'customers']) {
        new DatasetResources(stack, name, {
          naming,
          config: config(name),
          lightTransformCode: Code.fromInline('export const handler = async () => ({});'),
          heavyTransform: ownScript(heavyDir()),
        });
      }
      const names = physicalNames(Template.fromStack(stack).toJSON().Resources);
      expect(names.length).toBeGreaterThan(12);
      expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    });
  });
});

function catching(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
