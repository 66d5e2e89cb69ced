import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CodeCommitClient, GetRepositoryCommand } from '@aws-sdk/client-codecommit';
import { GetDataLakeSettingsCommand, LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { createRecordingIo } from '../../src/core/io.js';
import { deployProject, explainFailedDeploy } from '../../src/services/deploy.js';
import { fakeClock } from '../helpers/clock.js';
import { writeProject } from './moto.js';

const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const lf = mockClient(LakeFormationClient);
const account = '123456789012';
const region = 'us-east-1';
const execRole = `arn:aws:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-${region}`;
const notFound = (name: string) => Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
const stack = (name: string, status: string) => ({
  Stacks: [{ StackName: name, StackId: `id-${name}`, StackStatus: status, CreationTime: new Date() }],
});

let root: string;
beforeEach(() => {
  root = writeProject({ region, prefix: 'demo' });
  sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:iam::${account}:user/ci` });
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    if (input.StackName === 'CDKToolkit') return stack('CDKToolkit', 'UPDATE_COMPLETE');
    throw notFound(input.StackName);
  });
  lf.on(GetDataLakeSettingsCommand).resolves({
    DataLakeSettings: { DataLakeAdmins: [{ DataLakePrincipalIdentifier: execRole }] },
  });
});
afterEach(() => {
  sts.reset();
  cfn.reset();
  lf.reset();
});

const deploy = () =>
  deployProject(
    { root, env: 'dev', direct: true, app: () => Promise.reject(new Error('the app must not be built')) },
    createRecordingIo(),
  );

describe('deployProject preflight', () => {
  it('throws WRONG_ACCOUNT before any change when the credentials belong to another account', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999', Arn: 'arn:aws:iam::999999999999:user/ci' });
    await expect(deploy()).rejects.toMatchObject({ code: 'WRONG_ACCOUNT', message: expect.stringContaining('999999999999') });
    expect(cfn.calls()).toHaveLength(0);
  });

  it('throws NOT_BOOTSTRAPPED with the bootstrap command when CDKToolkit is missing', async () => {
    cfn.on(DescribeStacksCommand).rejects(notFound('CDKToolkit'));
    const error = await deploy().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_BOOTSTRAPPED' });
    expect((error as { suggestions: string[] }).suggestions).toEqual(['Run "sdlf bootstrap --env dev" first.']);
  });

  it('names the --region in the bootstrap command when deploying to another region than ddk.json', async () => {
    cfn.on(DescribeStacksCommand).rejects(notFound('CDKToolkit'));
    const error = await deployProject(
      { root, env: 'dev', direct: true, region: 'eu-west-1', app: () => Promise.reject(new Error('app built')) },
      createRecordingIo(),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'NOT_BOOTSTRAPPED',
      message: `aws://${account}/eu-west-1 is not bootstrapped for the CDK (no CDKToolkit stack).`,
      suggestions: ['Run "sdlf bootstrap --env dev --region eu-west-1" first.'],
    });
  });

  it('throws LAKE_FORMATION_NOT_READY when the execution role is not a data lake admin', async () => {
    lf.on(GetDataLakeSettingsCommand).resolves({ DataLakeSettings: { DataLakeAdmins: [] } });
    await expect(deploy()).rejects.toMatchObject({
      code: 'LAKE_FORMATION_NOT_READY',
      message: expect.stringContaining(execRole),
    });
  });

  it.each([['UPDATE_ROLLBACK_FAILED', 'STACK_FAILED']])('throws %s → %s naming the stack', async (status, code) => {
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      if (input.StackName === 'CDKToolkit') return stack('CDKToolkit', 'CREATE_COMPLETE');
      if (input.StackName === 'demo-dev-foundations') return stack('demo-dev-foundations', status);
      throw notFound(input.StackName);
    });
    await expect(deploy()).rejects.toMatchObject({ code, message: expect.stringContaining('demo-dev-foundations') });
  });

  it('waits for a busy stack to finish, saying so, then goes on to build the app', async () => {
    // Given the foundations stack finishes its update on the third look
    let looks = 0;
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      if (input.StackName === 'CDKToolkit') return stack('CDKToolkit', 'CREATE_COMPLETE');
      if (input.StackName === 'demo-dev-foundations')
        return stack('demo-dev-foundations', ++looks < 3 ? 'UPDATE_IN_PROGRESS' : 'UPDATE_COMPLETE');
      throw notFound(input.StackName);
    });
    const io = createRecordingIo();
    const clock = fakeClock();
    await expect(
      deployProject({ root, env: 'dev', direct: true, clock, app: () => Promise.reject(new Error('app built')) }, io),
    ).rejects.toThrow('Assembly builder failed');
    expect(io.lines).toContainEqual({
      level: 'info',
      message: 'waiting up to 30 min for stack demo-dev-foundations to finish UPDATE_IN_PROGRESS…',
    });
    expect(clock.slept).toEqual([2000]);
  });

  it('fails with WAIT_TIMEOUT when a busy stack never finishes, saying nothing was deployed and how to re-run', async () => {
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      if (input.StackName === 'CDKToolkit') return stack('CDKToolkit', 'CREATE_COMPLETE');
      if (input.StackName === 'demo-dev-foundations') return stack('demo-dev-foundations', 'UPDATE_IN_PROGRESS');
      throw notFound(input.StackName);
    });
    const clock = fakeClock();
    const error = await deployProject(
      { root, env: 'dev', direct: true, clock, timeoutMinutes: 1, app: () => Promise.reject(new Error('app built')) },
      createRecordingIo(),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'WAIT_TIMEOUT',
      message:
        'Gave up waiting for stack demo-dev-foundations to finish UPDATE_IN_PROGRESS after 1 min.\n  left: stack demo-dev-foundations (UPDATE_IN_PROGRESS)\n  nothing was deployed',
      suggestions: [expect.stringContaining('Run "sdlf deploy --env dev --direct" to continue')],
    });
    expect(clock.now()).toBe(60_000);
  });

  it('warns that a ROLLBACK_COMPLETE stack will be re-created, then goes on to build the app', async () => {
    cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      if (input.StackName === 'CDKToolkit') return stack('CDKToolkit', 'CREATE_COMPLETE');
      if (input.StackName === 'demo-dev-foundations') return stack('demo-dev-foundations', 'ROLLBACK_COMPLETE');
      throw notFound(input.StackName);
    });
    const io = createRecordingIo();
    await expect(
      deployProject({ root, env: 'dev', direct: true, app: () => Promise.reject(new Error('app built')) }, io),
    ).rejects.toThrow('Assembly builder failed');
    expect(io.lines).toContainEqual({
      level: 'warn',
      message: expect.stringContaining('demo-dev-foundations is ROLLBACK_COMPLETE'),
    });
  });
});

describe('deployProject preflight with CI/CD on', () => {
  const codeCommit = mockClient(CodeCommitClient);
  afterEach(() => codeCommit.reset());
  const deployPipeline = (io = createRecordingIo()) =>
    deployProject(
      {
        root: writeProject({ region, prefix: 'demo', cicdEnabled: true }),
        env: 'dev',
        app: () => Promise.reject(new Error('app built')),
      },
      io,
    );

  it('warns that the repository does not exist yet, naming it and create-repository, then goes on', async () => {
    codeCommit
      .on(GetRepositoryCommand)
      .rejects(Object.assign(new Error('sdlf-demo does not exist'), { name: 'RepositoryDoesNotExistException' }));
    const io = createRecordingIo();
    await expect(deployPipeline(io)).rejects.toThrow('Assembly builder failed');
    expect(io.lines).toContainEqual({
      level: 'warn',
      message: `Repository sdlf-demo does not exist in aws://${account}/${region} yet: the pipeline has nothing to build until you run "sdlf create-repository" and push.`,
    });
  });

  it('says nothing about the repository when it exists, or when it cannot be looked up', async () => {
    codeCommit.on(GetRepositoryCommand).resolves({ repositoryMetadata: { repositoryName: 'sdlf-demo' } });
    const io = createRecordingIo();
    await expect(deployPipeline(io)).rejects.toThrow('Assembly builder failed');
    codeCommit.on(GetRepositoryCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(deployPipeline(io)).rejects.toThrow('Assembly builder failed');
    // (The project has no project_id, which deploy warns about separately.)
    expect(io.lines.filter((l) => l.level === 'warn' && /[Rr]epository/.test(l.message))).toEqual([]);
  });
});

describe('explainFailedDeploy', () => {
  const clients = () => createAwsClients({ region });
  const failure = Object.assign(new Error('❌  demo-dev-foundations failed: DeploymentError: x'), {
    cause: new Error(
      'Resource updates failed:\ndemo-dev-foundations/Raw (AWS::S3::Bucket Raw)\n  AccessDenied\nSource Location: app.ts',
    ),
  });

  it.each([
    [
      'UPDATE_ROLLBACK_COMPLETE',
      'Fix the cause above, then re-run "sdlf deploy --env dev": demo-dev-foundations is back on its previous version.',
    ],
    [
      'ROLLBACK_COMPLETE',
      'Fix the cause above, then re-run "sdlf deploy --env dev": demo-dev-foundations never finished creating, so the deploy deletes it and creates it again.',
    ],
    [
      'UPDATE_ROLLBACK_FAILED',
      'Continue the rollback of demo-dev-foundations ("Stack actions > Continue update rollback" in the CloudFormation console, us-east-1), then re-run.',
    ],
  ])('names the stack left %s, the cause without source locations, and the next step', async (status, next) => {
    cfn.on(DescribeStacksCommand).resolves(stack('demo-dev-foundations', status));
    const error = await explainFailedDeploy(clients(), 'demo-dev-foundations', failure, 'sdlf deploy --env dev', region);
    expect(error).toMatchObject({
      code: 'DEPLOY_FAILED',
      message: `Deploying stack demo-dev-foundations failed; CloudFormation left it ${status}.\nResource updates failed:\ndemo-dev-foundations/Raw (AWS::S3::Bucket Raw)\n  AccessDenied`,
      suggestions: [next],
    });
  });

  it('leaves an error alone when the stack did not fail (e.g. an asset upload failed first)', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('demo-dev-foundations', 'UPDATE_COMPLETE'));
    expect(await explainFailedDeploy(clients(), 'demo-dev-foundations', failure, 'sdlf deploy', region)).toBeUndefined();
  });
});
