import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodeCommitClient, CreateRepositoryCommand } from '@aws-sdk/client-codecommit';
import { CreateBucketCommand, DeleteBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Stack, Tags } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { environmentStacks } from '../../src/aws/project-stacks.js';
import { Naming } from '../../src/config/naming.js';
import { createRecordingIo, type Io } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { createRepository } from '../../src/services/create-repository.js';
import { deleteAll } from '../../src/services/delete-all.js';
import { deployProject } from '../../src/services/deploy.js';
import type { ProjectAppBuilder } from '../../src/toolkit/assembly.js';
import { assumeRoleIn, MOTO_ACCOUNT, useMoto, withCredentials, writeProject } from './moto.js';

// The faults of the lifecycle that moto_server can reproduce, each with its message and a re-run that finishes.
// A small app with the project's stack names stands in for the embedded one: the faults are in CloudFormation and
// the account, not in what the stacks hold, and it keeps each case to seconds.
const region = 'ap-northeast-1';
const fast = { pollingIntervalMs: 100 };
const prefix = 'fault';
const naming = new Naming({ prefix, env: 'dev', account: MOTO_ACCOUNT, region });
const stackNames = environmentStacks(naming, [{ team: 'demoteam', dataset: 'legislators', pipeline: 'standard' }]).map(
  (s) => s.name,
);
const takenBucket = `${prefix}-dev-landing-${MOTO_ACCOUNT}`;

/** The project's stacks in order, each with a parameter; the foundations stack also creates the bucket `takenBucket`. */
const smallApp: ProjectAppBuilder = async (_project, props) => {
  // No built-in template validation: as in the embedded app, it costs seconds and the templates here are plain.
  const app = new App({
    outdir: props.outdir,
    context: props.context,
    analyticsReporting: false,
    builtinCloudFormationValidation: false,
  });
  let previous: Stack | undefined;
  for (const name of stackNames) {
    const stack = new Stack(app, name, { stackName: name, env: { account: MOTO_ACCOUNT, region } });
    // Each stack needs the one before, as in the embedded app (foundations, pipeline, dataset).
    if (previous) stack.addStackDependency(previous);
    previous = stack;
    new StringParameter(stack, 'Marker', { parameterName: `/${prefix}/dev/${name}`, stringValue: name });
    if (name === naming.foundationsStack()) new CfnBucket(stack, 'Landing', { bucketName: takenBucket });
    Tags.of(stack).add('sdlf:project', prefix);
    Tags.of(stack).add('sdlf:environment', 'dev');
  }
  return app.synth();
};

const cfn = () => new CloudFormationClient({ region });
const s3 = () => new S3Client({ region, forcePathStyle: true });
const stackStatus = async (name: string) =>
  (
    await cfn()
      .send(new DescribeStacksCommand({ StackName: name }))
      .catch(() => ({ Stacks: [] }))
  ).Stacks?.[0]?.StackStatus;

describe('lifecycle faults against moto_server', () => {
  let root: string;

  beforeAll(async () => {
    useMoto();
    root = writeProject({ region, prefix });
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
  });

  it('fails a deploy whose stack rolled back, naming the stack, the cause and the next step; a re-run after the fix finishes', async () => {
    // Given a bucket name the foundations stack needs is taken
    await s3().send(new CreateBucketCommand({ Bucket: takenBucket, CreateBucketConfiguration: { LocationConstraint: region } }));
    // When deploying
    const error = await deployProject(
      { root, env: 'dev', direct: true, requireApproval: 'never', app: smallApp, ...fast },
      createRecordingIo(),
    ).catch((e: unknown) => e);
    // Then the error names the stack, its state, the failed resource with CloudFormation's reason, and the next step
    expect(error).toMatchObject({ code: 'DEPLOY_FAILED' });
    const { message, suggestions } = error as { message: string; suggestions: string[] };
    expect(message).toMatch(/^Deploying stack fault-dev-foundations failed; CloudFormation left it ROLLBACK_COMPLETE\.\n/);
    expect(message).toContain('fault-dev-foundations/Landing  (AWS::S3::Bucket Landing)');
    expect(message).toContain('BucketAlreadyExists');
    expect(message).not.toContain('Source Location');
    expect(suggestions).toEqual([
      'Fix the cause above, then re-run "sdlf deploy --env dev --direct": fault-dev-foundations never finished creating, so the deploy deletes it and creates it again.',
    ]);
    // And CloudFormation rolled the stack back; the stacks after it were not started
    expect(await stackStatus(naming.foundationsStack())).toBe('ROLLBACK_COMPLETE');
    expect(await stackStatus(stackNames[1] ?? '')).toBeUndefined();

    // When the cause is fixed (the bucket name is free again) and the deploy re-runs
    await s3().send(new DeleteBucketCommand({ Bucket: takenBucket }));
    const io = createRecordingIo();
    const rerun = await deployProject({ root, env: 'dev', direct: true, requireApproval: 'never', app: smallApp, ...fast }, io);
    // Then the preflight said the rolled-back stack is re-created, and every stack is deployed
    expect(io.lines).toContainEqual({
      level: 'warn',
      message:
        'Stack fault-dev-foundations is ROLLBACK_COMPLETE (its creation failed earlier); it will be deleted and created again.',
    });
    expect(rerun.stacks.map((s) => [s.name, s.status])).toEqual(stackNames.map((name) => [name, 'deployed']));
    for (const name of stackNames) expect(await stackStatus(name)).toBe('CREATE_COMPLETE');
  }, 60_000);

  it('throws NO_CREDENTIALS with how to log in when no credentials are configured, before any change', async () => {
    const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];
    const extra = ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED'];
    const saved = Object.fromEntries([...keys, ...extra].map((key) => [key, process.env[key]]));
    for (const key of keys) delete process.env[key];
    Object.assign(process.env, {
      AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-credentials'),
      AWS_CONFIG_FILE: join(root, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const error = await deployProject({ root, env: 'dev', direct: true, app: smallApp }, createRecordingIo()).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'NO_CREDENTIALS',
        message: expect.stringMatching(/^No valid AWS credentials from the default AWS credential chain: /),
        suggestions: [
          'Pass --profile <name> (or set AWS_PROFILE), or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then re-run.',
        ],
      });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('throws WRONG_ACCOUNT naming both accounts when the credentials reach another account, and changes nothing', async () => {
    const other = await assumeRoleIn('333333333333', region);
    const before = await stackStatus(naming.foundationsStack());
    const error = await withCredentials(other, () =>
      deployProject({ root, env: 'dev', direct: true, app: smallApp }, createRecordingIo()),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'WRONG_ACCOUNT',
      message: expect.stringContaining(
        `belong to account 333333333333 (arn:aws:sts::333333333333:assumed-role/Admin/sdlf-test), but environment "dev" in ddk.json is account ${MOTO_ACCOUNT}.`,
      ),
    });
    expect(await stackStatus(naming.foundationsStack())).toBe(before);
  });

  it('uses a repository that already exists without the project tag, warns, and delete-all leaves it in place', async () => {
    // Given a repository of the same name that sdlf did not create
    await new CodeCommitClient({ region }).send(new CreateRepositoryCommand({ repositoryName: 'sdlf-demo' }));
    // When preparing the source
    const io = createRecordingIo();
    const result = await createRepository({ root }, io);
    // Then it is used as it is, with a warning that names it and what delete-all will do
    expect(result).toMatchObject({ status: 'exists', remote: 'added' });
    expect(io.lines).toContainEqual({
      level: 'warn',
      message:
        'Repository sdlf-demo lacks the tag sdlf:project=fault (sdlf did not create it): the pipeline uses it as its source, and "sdlf delete-all --include-repository" will leave it in place.',
    });
    // And delete-all of the cicd environment plans nothing for it, and says why
    const plan = await deleteAll({ root, env: 'cicd', includeRepository: true, dryRun: true }, createRecordingIo());
    expect(plan.steps.map((s) => s.description).join('\n')).not.toContain('sdlf-demo');
    expect(plan.untouched).toContain('repository sdlf-demo: it lacks the tag sdlf:project=fault (sdlf did not create it)');
  });

  it('stops delete-all at Ctrl-C after the step under way, saying how to resume; the re-run finishes', async () => {
    // Given the deployed stacks, a file in the landing bucket, and a Ctrl-C while the first stack is being deleted
    await s3().send(new PutObjectCommand({ Bucket: takenBucket, Key: 'demoteam/legislators/persons.json', Body: '[]' }));
    const controller = new AbortController();
    const recording = createRecordingIo([true]);
    const io: Io = {
      ...recording,
      info: (message) => {
        recording.info(message);
        if (message.startsWith('deleting stack')) controller.abort();
      },
    };
    // When deleting everything
    const error = await deleteAll({ root, env: 'dev', signal: controller.signal, ...fast }, io).catch((e: unknown) => e);
    expect(recording.lines.map((l) => l.message).slice(-4)).toEqual([
      `emptied bucket ${takenBucket} (1 object version(s) and delete marker(s))`,
      `deleting stack ${stackNames[2]}…`,
      `waiting up to 30 min for stack ${stackNames[2]} to be deleted…`,
      expect.stringMatching(new RegExp(`^deleted stack ${stackNames[2]} \\(`)),
    ]);
    // Then the step under way (the dataset stack, after emptying the landing bucket) finished, nothing after it ran,
    // and the message says how to continue
    expect(error).toMatchObject({
      code: 'INTERRUPTED',
      message: 'Stopped at your request after 2 of 7 steps; the rest is still in place.',
      suggestions: ['Run "sdlf delete-all --env dev" to continue where it stopped.'],
    });
    expect(await stackStatus(stackNames[2] ?? '')).toBeUndefined();
    expect(await stackStatus(stackNames[1] ?? '')).toBe('CREATE_COMPLETE');
    expect(await stackStatus(naming.foundationsStack())).toBe('CREATE_COMPLETE');

    // When re-running
    const rerun = await deleteAll({ root, env: 'dev', ...fast }, createRecordingIo([true]));
    // Then it continues with what is left, and a further run finds nothing
    expect(rerun.steps.map((s) => s.description).filter((d) => d.startsWith('delete stack'))).toEqual([
      `delete stack        ${stackNames[1]} (pipeline)`,
      `delete stack        ${naming.foundationsStack()} (foundations)`,
    ]);
    for (const name of stackNames) expect(await stackStatus(name)).toBeUndefined();
    await expect(s3().send(new HeadBucketCommand({ Bucket: takenBucket }))).rejects.toThrow();
    expect((await deleteAll({ root, env: 'dev', ...fast }, createRecordingIo([true]))).steps).toEqual([]);
  }, 60_000);
});
