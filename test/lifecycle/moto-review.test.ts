import { CloudFormationClient, CreateChangeSetCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { App, Stack, Tags } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { environmentStacks } from '../../src/aws/project-stacks.js';
import { Naming } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deleteAll } from '../../src/services/delete-all.js';
import { deployProject } from '../../src/services/deploy.js';
import type { ProjectAppBuilder } from '../../src/toolkit/assembly.js';
import { MOTO_ACCOUNT, useMoto, writeProject } from './moto.js';

// Stacks left REVIEW_IN_PROGRESS (a CREATE change set that nobody executed, as a refused approval leaves) against
// moto_server, whose CloudFormation creates such a change set without executing it, as CloudFormation does.
// A small app with the project's stack names stands in for the embedded one, as in moto-faults.test.ts.
const region = 'ap-northeast-2';
const fast = { pollingIntervalMs: 100 };
const prefix = 'review';
const naming = new Naming({ prefix, env: 'dev', account: MOTO_ACCOUNT, region });
const stackNames = environmentStacks(naming, [{ team: 'demoteam', dataset: 'legislators', pipeline: 'standard' }]).map(
  (s) => s.name,
);
const landingBucket = `${prefix}-dev-landing-${MOTO_ACCOUNT}`;
const projectTags = [
  { Key: 'sdlf:project', Value: prefix },
  { Key: 'sdlf:environment', Value: 'dev' },
];

const smallApp: ProjectAppBuilder = async (_project, props) => {
  const app = new App({
    outdir: props.outdir,
    context: props.context,
    analyticsReporting: false,
    builtinCloudFormationValidation: false,
  });
  let previous: Stack | undefined;
  for (const name of stackNames) {
    const stack = new Stack(app, name, { stackName: name, env: { account: MOTO_ACCOUNT, region } });
    if (previous) stack.addStackDependency(previous);
    previous = stack;
    new StringParameter(stack, 'Marker', { parameterName: `/${prefix}/dev/${name}`, stringValue: name });
    if (name === naming.foundationsStack()) new CfnBucket(stack, 'Landing', { bucketName: landingBucket });
    for (const tag of projectTags) Tags.of(stack).add(tag.Key, tag.Value);
  }
  return app.synth();
};

const cfn = () => new CloudFormationClient({ region });
const stackStatus = async (name: string) =>
  (
    await cfn()
      .send(new DescribeStacksCommand({ StackName: name }))
      .catch(() => ({ Stacks: [] }))
  ).Stacks?.[0]?.StackStatus;

/** Creates a CREATE change set of a new stack and leaves it unexecuted: the stack is REVIEW_IN_PROGRESS. */
async function leaveInReview(name: string): Promise<void> {
  const template = { Resources: { Marker: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: name } } } };
  await cfn().send(
    new CreateChangeSetCommand({
      StackName: name,
      ChangeSetName: 'refused',
      ChangeSetType: 'CREATE',
      TemplateBody: JSON.stringify(template),
      Tags: projectTags,
    }),
  );
  expect(await stackStatus(name)).toBe('REVIEW_IN_PROGRESS');
}

describe('stacks left REVIEW_IN_PROGRESS, against moto_server', () => {
  let root: string;

  beforeAll(async () => {
    useMoto();
    root = writeProject({ region, prefix });
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
  });

  it('deploys over a stack whose change set was never executed: it deletes it, saying so, and goes on', async () => {
    // Given the foundations stack holds only a change set never executed
    await leaveInReview(naming.foundationsStack());
    // When deploying
    const io = createRecordingIo();
    const result = await deployProject({ root, env: 'dev', direct: true, requireApproval: 'never', app: smallApp, ...fast }, io);
    // Then it said that it deletes the empty stack, and deployed every stack
    expect(io.lines).toContainEqual({
      level: 'warn',
      message: `Stack ${naming.foundationsStack()} is REVIEW_IN_PROGRESS (a change set created and never executed); it holds no resources, so it is deleted and created again.`,
    });
    expect(result.stacks.map((s) => [s.name, s.status])).toEqual(stackNames.map((name) => [name, 'deployed']));
    for (const name of stackNames) expect(await stackStatus(name)).toBe('CREATE_COMPLETE');
  }, 60_000);

  it('plans a stack in review first, before emptying any bucket, and deletes everything without waiting on it', async () => {
    // Given a dataset stack of the project (no longer in parameters.json) holds only a change set never executed
    const orphan = `${prefix}-dev-demoteam-orphan`;
    await leaveInReview(orphan);
    // When planning delete-all
    const plan = await deleteAll({ root, env: 'dev', dryRun: true, ...fast }, createRecordingIo());
    // Then the stack in review is the first step, before the buckets are emptied
    const descriptions = plan.steps.map((s) => s.description);
    expect(descriptions[0]).toBe(
      `delete stack        ${orphan} (dataset; REVIEW_IN_PROGRESS: a change set created and never executed, no resources)`,
    );
    expect(descriptions[1]).toBe(`empty bucket        ${landingBucket} (every object version and delete marker)`);
    // And it says what stays in the shared CDK bootstrap bucket (the deploy uploaded the stacks' templates there)
    expect(plan.untouched).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^bucket cdk-hnb659fds-assets-${MOTO_ACCOUNT}-${region}: the shared CDK bootstrap bucket keeps [1-9]\\d* asset object\\(s\\) \\([\\d.]+ (B|KiB|MiB)\\) of every CDK app in aws://${MOTO_ACCOUNT}/${region}, this project's templates and Lambda code included; they go with "sdlf delete-all --env dev --include-bootstrap" once no other stack uses the bootstrap$`,
        ),
      ),
    );

    // When deleting for real
    const io = createRecordingIo([true]);
    const result = await deleteAll({ root, env: 'dev', ...fast }, io);
    // Then every step finished and no stack of the project is left
    expect(result.steps.every((s) => s.status === 'done' || s.status === 'skipped')).toBe(true);
    expect(io.lines.some((l) => l.message.startsWith('waiting for'))).toBe(false);
    for (const name of [orphan, ...stackNames]) expect(await stackStatus(name)).toBeUndefined();
  }, 60_000);
});
