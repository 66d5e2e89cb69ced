import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { describeStep, planDeletion } from '../../src/services/delete-all/plan.js';
import { deleteAll } from '../../src/services/delete-all.js';
import { fakeClock } from '../helpers/clock.js';
import { snapshotTree } from '../helpers/project.js';
import { writeProject } from './moto.js';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBClient);
const kms = mockClient(KMSClient);
const ssm = mockClient(SSMClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const account = '123456789012';
const tags = [
  { Key: 'sdlf:project', Value: 'demo' },
  { Key: 'sdlf:environment', Value: 'dev' },
];
const names = ['demo-dev-demoteam-legislators', 'demo-dev-demoteam-standard', 'demo-dev-foundations'];
let deleted: Set<string>;
let root: string;

beforeEach(() => {
  root = writeProject({ region: 'us-east-1', prefix: 'demo' });
  deleted = new Set();
  sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:iam::${account}:user/ci` });
  cfn.on(ListStacksCommand).callsFake(() => ({
    StackSummaries: names
      .filter((n) => !deleted.has(n))
      .map((n) => ({ StackName: n, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() })),
  }));
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const name = input.StackName.replace(/^id-/, '');
    if (!names.includes(name) || deleted.has(name))
      throw Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
    return {
      Stacks: [{ StackName: name, StackId: `id-${name}`, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: tags }],
    };
  });
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  cfn.on(DeleteStackCommand).callsFake((input: { StackName: string }) => {
    deleted.add(input.StackName.replace(/^id-/, ''));
    return {};
  });
  s3.on(HeadBucketCommand).rejects(Object.assign(new Error('not found'), { name: 'NotFound' }));
  ddb.on(DescribeTableCommand).rejects(Object.assign(new Error('no table'), { name: 'ResourceNotFoundException' }));
  kms.on(ListAliasesCommand).resolves({ Aliases: [] });
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
  ssm.on(GetParameterCommand).rejects(Object.assign(new Error('none'), { name: 'ParameterNotFound' }));
});
afterEach(() => {
  for (const mock of [sts, cfn, s3, ddb, kms, ssm, tagging]) mock.reset();
});

const options = () => ({ root, env: 'dev', pollingIntervalMs: 1 });

describe('deleteAll', () => {
  it('asks before deleting and changes nothing when the answer is no', async () => {
    const io = createRecordingIo([false]);
    const result = await deleteAll(options(), io);
    expect(io.lines.filter((l) => l.level === 'confirm')).toHaveLength(1);
    expect(result.confirmed).toBe(false);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('changes nothing and never touches local files under --dry-run', async () => {
    const before = snapshotTree(root);
    const result = await deleteAll({ ...options(), dryRun: true }, createRecordingIo());
    expect(result.steps.map((s) => s.status)).toEqual(['planned', 'planned', 'planned']);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(snapshotTree(root)).toEqual(before);
  });

  it('deletes datasets, then pipelines, then foundations', async () => {
    await deleteAll(options(), createRecordingIo([true]));
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual(names.map((n) => `id-${n}`));
  });

  it('fails with STACK_DELETE_FAILED naming the resource, and a re-run continues with the stacks left', async () => {
    cfn.on(DeleteStackCommand).callsFake((input: { StackName: string }) => {
      const name = input.StackName.replace(/^id-/, '');
      if (name !== 'demo-dev-demoteam-standard') deleted.add(name);
      return {};
    });
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      const name = input.StackName.replace(/^id-/, '');
      if (!names.includes(name) || deleted.has(name))
        throw Object.assign(new Error('does not exist'), { name: 'ValidationError' });
      const status =
        name === 'demo-dev-demoteam-standard' && cfn.commandCalls(DeleteStackCommand).length > 1
          ? 'DELETE_FAILED'
          : 'CREATE_COMPLETE';
      return { Stacks: [{ StackName: name, StackId: `id-${name}`, StackStatus: status, CreationTime: new Date(), Tags: tags }] };
    });
    cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'StageAQueue',
          ResourceType: 'AWS::SQS::Queue',
          PhysicalResourceId: 'q',
          ResourceStatus: 'DELETE_FAILED',
          ResourceStatusReason: 'Access denied',
          LastUpdatedTimestamp: new Date(),
        },
      ],
    });
    const error = await deleteAll(options(), createRecordingIo([true])).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STACK_DELETE_FAILED', message: expect.stringContaining('StageAQueue') });
    expect((error as { suggestions: string[] }).suggestions[0]).toContain('sdlf delete-all --env dev');
    expect(deleted.has('demo-dev-foundations')).toBe(false);

    // The failure is fixed; the re-run plans only what is left.
    deleted.delete('x');
    cfn.on(DeleteStackCommand).callsFake((input: { StackName: string }) => {
      deleted.add(input.StackName.replace(/^id-/, ''));
      return {};
    });
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      const name = input.StackName.replace(/^id-/, '');
      if (!names.includes(name) || deleted.has(name))
        throw Object.assign(new Error('does not exist'), { name: 'ValidationError' });
      return {
        Stacks: [
          { StackName: name, StackId: `id-${name}`, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: tags },
        ],
      };
    });
    const rerun = await deleteAll(options(), createRecordingIo([true]));
    expect(rerun.steps.map((s) => s.description)).toEqual([
      'delete stack        demo-dev-demoteam-standard (pipeline)',
      'delete stack        demo-dev-foundations (foundations)',
    ]);
  });

  it.each([
    ['is deleted', 'DELETE_IN_PROGRESS', 'to be deleted'],
    ['finishes an update', 'UPDATE_IN_PROGRESS', 'to finish UPDATE_IN_PROGRESS'],
  ])(
    'fails with WAIT_TIMEOUT when a stack never %s, saying which stacks are gone, which remain and how to continue',
    async (_, stuck, what) => {
      // Given the pipeline stack stays in one status forever (from the start, or once its deletion starts)
      const pipeline = 'demo-dev-demoteam-standard';
      cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
        const name = input.StackName.replace(/^id-/, '');
        if (!names.includes(name) || deleted.has(name))
          throw Object.assign(new Error('does not exist'), { name: 'ValidationError' });
        const deleting = cfn.commandCalls(DeleteStackCommand).some((c) => c.args[0].input.StackName === `id-${name}`);
        const status = name === pipeline && (stuck !== 'DELETE_IN_PROGRESS' || deleting) ? stuck : 'CREATE_COMPLETE';
        return {
          Stacks: [{ StackName: name, StackId: `id-${name}`, StackStatus: status, CreationTime: new Date(), Tags: tags }],
        };
      });
      cfn.on(DeleteStackCommand).callsFake((input: { StackName: string }) => {
        const name = input.StackName.replace(/^id-/, '');
        if (name !== pipeline) deleted.add(name);
        return {};
      });
      // When deleting with a timeout of half a minute
      const io = createRecordingIo([true]);
      const clock = fakeClock();
      const error = await deleteAll({ ...options(), timeoutMinutes: 0.5, pollingIntervalMs: 1000, clock }, io).catch(
        (e: unknown) => e,
      );
      // Then it said what it waited for and how long, and gave up saying what is left
      expect(io.lines).toContainEqual({ level: 'info', message: `waiting up to 0.5 min for stack ${pipeline} ${what}…` });
      expect(error).toMatchObject({
        code: 'WAIT_TIMEOUT',
        message: [
          `Gave up waiting for stack ${pipeline} ${what} after 0.5 min.`,
          '  gone: stack demo-dev-demoteam-legislators',
          `  left: stack ${pipeline} (${stuck})`,
          '  left: stack demo-dev-foundations (CREATE_COMPLETE)',
        ].join('\n'),
        suggestions: [expect.stringContaining('Run "sdlf delete-all --env dev" to continue where it stopped')],
      });
      expect(clock.now()).toBe(30_000);
      expect(deleted.has('demo-dev-foundations')).toBe(false);
    },
  );

  it('stops after the current step when interrupted, saying how to resume', async () => {
    const controller = new AbortController();
    cfn.on(DeleteStackCommand).callsFake((input: { StackName: string }) => {
      deleted.add(input.StackName.replace(/^id-/, ''));
      controller.abort();
      return {};
    });
    const error = await deleteAll({ ...options(), signal: controller.signal }, createRecordingIo([true])).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'INTERRUPTED', message: expect.stringContaining('after 1 of 3 steps') });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });

  it('empties a non-empty bucket, every version and delete marker, before deleting it', async () => {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetBucketTaggingCommand).resolves({ TagSet: tags });
    let listed = 0;
    s3.on(ListObjectVersionsCommand).callsFake(() =>
      listed++ === 0
        ? {
            Versions: [
              { Key: 'a', VersionId: '1' },
              { Key: 'a', VersionId: '2' },
            ],
            DeleteMarkers: [{ Key: 'b', VersionId: '3' }],
          }
        : {},
    );
    s3.on(DeleteObjectsCommand).resolves({});
    await deleteAll({ ...options(), dryRun: false }, createRecordingIo([true])).catch(() => undefined);
    const first = s3.commandCalls(DeleteObjectsCommand)[0]?.args[0].input.Delete?.Objects;
    expect(first).toEqual([
      { Key: 'a', VersionId: '1' },
      { Key: 'a', VersionId: '2' },
      { Key: 'b', VersionId: '3' },
    ]);
  });
});

describe('planDeletion', () => {
  it('empties buckets before and between stack deletions, and schedules key deletion last, after the buckets are gone', () => {
    const steps = planDeletion({
      stacks: [
        { name: 'f', role: 'foundations', status: 'CREATE_COMPLETE' },
        { name: 'd', role: 'dataset', status: 'CREATE_COMPLETE' },
        { name: 'p', role: 'pipeline', status: 'CREATE_COMPLETE' },
      ],
      buckets: ['raw'],
      tables: ['t'],
      keys: ['k'],
      untouched: [],
    });
    expect(
      steps.map(
        (s) =>
          `${s.kind}:${'stack' in s ? s.stack : 'bucket' in s ? s.bucket : 'table' in s ? s.table : 'keyId' in s ? s.keyId : ''}`,
      ),
    ).toEqual([
      'empty-bucket:raw',
      'delete-stack:d',
      'delete-stack:p',
      'empty-bucket:raw',
      'delete-stack:f',
      'delete-bucket:raw',
      'delete-table:t',
      'schedule-key-deletion:k',
    ]);
  });

  it('labels the second round of emptying as such in the printed plan', () => {
    // Given a plan with a dataset stack and one bucket
    const steps = planDeletion({
      stacks: [{ name: 'd', role: 'dataset', status: 'CREATE_COMPLETE' }],
      buckets: ['raw'],
      tables: [],
      keys: [],
      untouched: [],
    });
    // When it is rendered / Then the two rounds read differently
    expect(steps.filter((s) => s.kind === 'empty-bucket').map(describeStep)).toEqual([
      'empty bucket        raw (every object version and delete marker)',
      'empty bucket again  raw (objects that arrived while the pipelines were being deleted)',
    ]);
  });

  it.each([
    ['CREATE_COMPLETE', 'delete stack        p (pipeline)'],
    ['UPDATE_IN_PROGRESS', 'delete stack        p (pipeline; UPDATE_IN_PROGRESS: deleted once that operation ends)'],
    ['DELETE_IN_PROGRESS', 'delete stack        p (pipeline; DELETE_IN_PROGRESS: waits for the deletion under way)'],
  ])('names a stack planned in status %s with what the deletion does about it', (status, line) => {
    const steps = planDeletion({
      stacks: [{ name: 'p', role: 'pipeline', status }],
      buckets: [],
      tables: [],
      keys: [],
      untouched: [],
    });
    expect(steps.map(describeStep)).toEqual([line]);
  });

  it('plans a stack whose change set was never executed before anything else, even before emptying buckets', () => {
    // Given an empty REVIEW_IN_PROGRESS dataset stack beside a deployed one
    const steps = planDeletion({
      stacks: [
        { name: 'd', role: 'dataset', status: 'CREATE_COMPLETE' },
        { name: 'f', role: 'foundations', status: 'REVIEW_IN_PROGRESS', unexecuted: true },
      ],
      buckets: ['raw'],
      tables: [],
      keys: [],
      untouched: [],
    });
    // Then it goes first, named as such
    expect(steps.map(describeStep).slice(0, 2)).toEqual([
      'delete stack        f (foundations; REVIEW_IN_PROGRESS: a change set created and never executed, no resources)',
      'empty bucket        raw (every object version and delete marker)',
    ]);
  });
});
