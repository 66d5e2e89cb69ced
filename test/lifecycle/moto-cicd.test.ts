import { execFileSync } from 'node:child_process';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  type StackResource,
} from '@aws-sdk/client-cloudformation';
import { CodeCommitClient, GetRepositoryCommand, ListTagsForResourceCommand } from '@aws-sdk/client-codecommit';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetDataLakeSettingsCommand, LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { createRepository } from '../../src/services/create-repository.js';
import { deleteAll } from '../../src/services/delete-all.js';
import { deployProject } from '../../src/services/deploy.js';
import { showStatus } from '../../src/services/status.js';
import { assumeRoleIn, initDemoProject, MOTO_ACCOUNT, useMoto, withCredentials } from './moto.js';

// `sdlf deploy` of a project with CI/CD on, `sdlf create-repository` and the cross-account bootstrap, against
// moto_server. moto skips what it does not model of the pipeline stack (CodePipeline, CodeBuild), and creates its
// artifact bucket, key, roles and the repository's event rule; the assertions stay on those.
const region = 'us-west-2';
const fast = { pollingIntervalMs: 100 };
const devAccount = '222222222222';

const stackResources = async (stackName: string, account?: Awaited<ReturnType<typeof assumeRoleIn>>) => {
  const cfn = new CloudFormationClient({ region, ...(account ? { credentials: toSdk(account) } : {}) });
  return (await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }))).StackResources ?? [];
};
const physicalIds = (resources: StackResource[], type: string) =>
  resources.filter((r) => r.ResourceType === type).map((r) => r.PhysicalResourceId ?? '');
const toSdk = (c: Awaited<ReturnType<typeof assumeRoleIn>>) => ({
  accessKeyId: c.AWS_ACCESS_KEY_ID,
  secretAccessKey: c.AWS_SECRET_ACCESS_KEY,
  sessionToken: c.AWS_SESSION_TOKEN,
});
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('deploy with CI/CD on, against moto_server', () => {
  let root: string;

  beforeAll(async () => {
    useMoto();
    // The demo project as `sdlf init --cicd` writes it: the pipeline and dev in moto's account.
    root = await initDemoProject({ region, prefix: 'pipe', cicdAccount: MOTO_ACCOUNT });
  });

  it('refuses to deploy the pipeline before the cicd environment is bootstrapped, naming the command to run', async () => {
    // Given a cicd account and region without the CDK bootstrap stack
    // When deploying
    const error = await deployProject({ root, env: 'dev', requireApproval: 'never', ...fast }, createRecordingIo()).catch(
      (e: unknown) => e,
    );
    // Then the preflight names the environment and the bootstrap command, and nothing was deployed
    expect(error).toMatchObject({
      code: 'NOT_BOOTSTRAPPED',
      message: `aws://${MOTO_ACCOUNT}/${region} is not bootstrapped for the CDK (no CDKToolkit stack).`,
      suggestions: ['Run "sdlf bootstrap --env cicd" first.'],
    });
    const stacks = (await new CloudFormationClient({ region }).send(new DescribeStacksCommand({}))).Stacks ?? [];
    expect(stacks.map((s) => s.StackName)).not.toContain('pipe-cicd-pipeline');
  });

  it('creates the CodeCommit repository once, tagged, and points a fresh git repository at it', async () => {
    const first = await createRepository({ root }, createRecordingIo());
    expect(first).toMatchObject({
      provider: 'codecommit',
      repository: 'lake',
      status: 'created',
      remote: 'added',
      gitInitialised: true,
      cloneUrl: `https://git-codecommit.${region}.amazonaws.com/v1/repos/lake`,
      pushCommand: 'git add -A && git commit -m "Add the data lake project" && git push --set-upstream origin HEAD:main',
    });
    const codeCommit = new CodeCommitClient({ region });
    const repository = (await codeCommit.send(new GetRepositoryCommand({ repositoryName: 'lake' }))).repositoryMetadata;
    expect(repository?.accountId).toBe(MOTO_ACCOUNT);
    const tags = await codeCommit.send(new ListTagsForResourceCommand({ resourceArn: repository?.Arn }));
    expect(tags.tags).toEqual({ 'sdlf:project': 'pipe' });
    expect(git(root, 'remote', 'get-url', 'origin')).toBe(first.provider === 'codecommit' ? first.cloneUrl : '');
    expect(git(root, 'branch', '--show-current')).toBe('main');

    // A re-run finds both and changes nothing.
    const again = await createRepository({ root }, createRecordingIo());
    expect(again).toMatchObject({ status: 'exists', remote: 'unchanged', gitInitialised: false });
  });

  it('throws REPOSITORY_MISMATCH showing both names when the name differs from ddk.json', async () => {
    await expect(createRepository({ root, name: 'other-lake' }, createRecordingIo())).rejects.toMatchObject({
      code: 'REPOSITORY_MISMATCH',
      message: 'Repository "other-lake" differs from the one in ddk.json, "lake".',
    });
  });

  it('deploys the pipeline stack to the cicd account after bootstrap, and says the pipeline deploys on push', async () => {
    // Given the cicd environment bootstrapped
    await bootstrapEnvironment({ root, env: 'cicd' }, createRecordingIo());
    // When deploying with CI/CD on
    const io = createRecordingIo();
    const result = await deployProject({ root, env: 'dev', requireApproval: 'never', ...fast }, io);
    // Then only the pipeline stack is deployed, and the next steps say what the pipeline does
    expect(result).toMatchObject({ mode: 'pipeline', env: 'cicd', account: MOTO_ACCOUNT, region });
    expect(result.stacks.map((s) => [s.name, s.status])).toEqual([['pipe-cicd-pipeline', 'deployed']]);
    expect(result.next).toEqual([
      'The pipeline pipe-cicd-pipeline deploys the environments (dev) on every push to main.',
      `Before the first push, bootstrap dev once with credentials for ${MOTO_ACCOUNT}: sdlf bootstrap --env dev`,
      'Push your project to start it: git push origin main',
    ]);
    expect(io.lines.map((l) => l.message)).toContain(`Preflight passed: credentials for ${MOTO_ACCOUNT}, bootstrapped.`);

    const cfn = new CloudFormationClient({ region });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'pipe-cicd-pipeline' }))).Stacks?.[0];
    expect(stack?.StackStatus).toBe('CREATE_COMPLETE');
    expect(stack?.Tags).toContainEqual({ Key: 'sdlf:project', Value: 'pipe' });
    expect(stack?.RoleARN).toBe(`arn:aws:iam::${MOTO_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${MOTO_ACCOUNT}-${region}`);
    const all = ((await cfn.send(new DescribeStacksCommand({}))).Stacks ?? []).map((s) => s.StackName);
    expect(all.filter((name) => name?.startsWith('pipe-dev-'))).toEqual([]);

    // What moto models of the pipeline stack: the artifact bucket, its key, the roles and the source's event rule.
    const resources = await stackResources('pipe-cicd-pipeline');
    const [bucket] = physicalIds(resources, 'AWS::S3::Bucket');
    await expect(
      new S3Client({ region, forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: bucket })),
    ).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    const [key] = physicalIds(resources, 'AWS::KMS::Key');
    const described = await new KMSClient({ region }).send(new DescribeKeyCommand({ KeyId: key }));
    expect(described.KeyMetadata?.KeyState).toBe('Enabled');
    const roles = physicalIds(resources, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThanOrEqual(4);
    const iam = new IAMClient({ region });
    for (const role of roles) {
      await expect(iam.send(new GetRoleCommand({ RoleName: role }))).resolves.toMatchObject({ Role: { RoleName: role } });
    }
    // The rule that starts the pipeline on a push to the repository's branch.
    expect(physicalIds(resources, 'AWS::Events::Rule')).toHaveLength(1);
  }, 120_000);

  it('status after the pipeline deploy says the pipeline deploys the environment when it runs, not "deploy first"', async () => {
    // Given the pipeline deployed and the environment not yet deployed by it
    // When sdlf status looks at dev
    const error = await showStatus({ root, env: 'dev' }, createRecordingIo()).catch((e: unknown) => e);
    // Then it says what deploys dev, how to start and follow it, and the direct way
    expect(error).toMatchObject({
      code: 'NOT_DEPLOYED',
      message:
        'The execution history table pipe-dev-execution-history does not exist: environment "dev" is not deployed yet. ' +
        `With CI/CD on, the pipeline pipe-cicd-pipeline (aws://${MOTO_ACCOUNT}/${region}) deploys it when it runs on a push to main.`,
    });
    const suggestions = String((error as { suggestions: string[] }).suggestions);
    expect(suggestions).toContain('git push origin main');
    expect(suggestions).toContain(`aws codepipeline get-pipeline-state --name pipe-cicd-pipeline --region ${region}`);
    expect(suggestions).toContain('sdlf deploy --env dev --direct');
  });

  it('deploys the pipeline again without changes', async () => {
    const result = await deployProject({ root, env: 'dev', requireApproval: 'never', ...fast }, createRecordingIo());
    expect(result.stacks.map((s) => [s.name, s.status])).toEqual([['pipe-cicd-pipeline', 'unchanged']]);
  }, 120_000);

  it('deletes the pipeline stack and, when asked, the repository sdlf created; the bootstrap stack stays', async () => {
    // Given the deployed pipeline stack, its artifact bucket and key, and the repository create-repository made
    const resources = await stackResources('pipe-cicd-pipeline');
    const [bucket] = physicalIds(resources, 'AWS::S3::Bucket');
    const [key] = physicalIds(resources, 'AWS::KMS::Key');
    // When deleting the cicd environment with --include-repository, after confirming
    const io = createRecordingIo([true]);
    const result = await deleteAll({ root, env: 'cicd', includeRepository: true, ...fast }, io);
    // Then the plan held the pipeline's own resources and the repository, and each step ran
    expect(io.lines.filter((l) => l.level === 'confirm')).toHaveLength(1);
    expect(result.steps.map((s) => [s.description.split(/\s{2,}/)[0], s.status])).toEqual([
      ['empty bucket', 'done'],
      ['delete stack', 'done'],
      ['delete bucket', 'done'],
      ['schedule deletion', expect.stringMatching(/^(done|skipped)$/)],
      ['delete repository', 'done'],
    ]);
    const cfn = new CloudFormationClient({ region });
    const live = ((await cfn.send(new DescribeStacksCommand({}))).Stacks ?? [])
      .filter((s) => s.StackStatus !== 'DELETE_COMPLETE')
      .map((s) => s.StackName);
    expect(live).toContain('CDKToolkit');
    expect(live).not.toContain('pipe-cicd-pipeline');
    await expect(
      new S3Client({ region, forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: bucket })),
    ).rejects.toThrow();
    const keyState = await new KMSClient({ region })
      .send(new DescribeKeyCommand({ KeyId: key }))
      .then((r) => r.KeyMetadata?.KeyState)
      .catch(() => 'gone');
    expect(['PendingDeletion', 'gone']).toContain(keyState);
    await expect(
      new CodeCommitClient({ region }).send(new GetRepositoryCommand({ repositoryName: 'lake' })),
    ).rejects.toMatchObject({ name: 'RepositoryDoesNotExistException' });
    // And the local git repository and its remote are untouched
    expect(git(root, 'remote', 'get-url', 'origin')).toBe(`https://git-codecommit.${region}.amazonaws.com/v1/repos/lake`);
  }, 60_000);
});

describe('bootstrap of a deployment account other than the cicd account, against moto_server', () => {
  let root: string;

  beforeAll(async () => {
    useMoto();
    // dev in its own account; the pipeline in moto's default account.
    root = await initDemoProject({ region, prefix: 'xacct', account: devAccount, cicdAccount: MOTO_ACCOUNT });
  });

  it('throws WRONG_ACCOUNT naming both accounts when the credentials reach the cicd account instead', async () => {
    const error = await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WRONG_ACCOUNT' });
    expect((error as Error).message).toBe(
      `The AWS credentials belong to account ${MOTO_ACCOUNT} (arn:aws:sts::${MOTO_ACCOUNT}:user/moto), but environment "dev" in ddk.json is account ${devAccount}.`,
    );
    expect((error as { suggestions: string[] }).suggestions).toEqual([
      `Use credentials for account ${devAccount} (e.g. --profile <profile-of-${devAccount}>), or fix the account in ddk.json.`,
    ]);
  });

  it('trusts the cicd account by default, with credentials of the deployment account', async () => {
    // Given credentials of the dev account (a role session)
    const dev = await assumeRoleIn(devAccount, region);
    // When bootstrapping dev without --trust
    const result = await withCredentials(dev, () => bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo()));
    // Then the bootstrap stack of the dev account trusts the cicd account, for deployments and lookups
    expect(result).toMatchObject({ env: 'dev', account: devAccount, trustedAccounts: [MOTO_ACCOUNT] });
    const cfn = new CloudFormationClient({ region, credentials: toSdk(dev) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).Stacks?.[0];
    const parameters = Object.fromEntries((stack?.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    expect(parameters.TrustedAccounts).toBe(MOTO_ACCOUNT);
    expect(parameters.TrustedAccountsForLookup).toBe(MOTO_ACCOUNT);
    expect(stack?.StackId).toContain(`:${devAccount}:`);
    // And Lake Formation of the dev account lists the dev account's execution role as an admin
    const settings = await new LakeFormationClient({ region, credentials: toSdk(dev) }).send(new GetDataLakeSettingsCommand({}));
    expect(settings.DataLakeSettings?.DataLakeAdmins?.map((a) => a.DataLakePrincipalIdentifier)).toContain(
      `arn:aws:iam::${devAccount}:role/cdk-hnb659fds-cfn-exec-role-${devAccount}-${region}`,
    );
    // And the cicd account has no bootstrap stack from this: nothing was deployed there
    const cicdStacks = (await new CloudFormationClient({ region }).send(new DescribeStacksCommand({}))).Stacks ?? [];
    expect(cicdStacks.some((s) => s.StackId?.includes(`:${devAccount}:`))).toBe(false);

    // A re-run with the same credentials changes nothing.
    const again = await withCredentials(dev, () => bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo()));
    expect(again).toMatchObject({ toolkitStack: 'unchanged', trustedAccounts: [MOTO_ACCOUNT] });
  }, 120_000);
});
