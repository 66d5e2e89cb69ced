import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { App, Stack, Tags } from 'aws-cdk-lib';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { environmentStacks } from '../../src/aws/project-stacks.js';
import { Naming } from '../../src/config/naming.js';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deployProject } from '../../src/services/deploy.js';
import type { ProjectAppBuilder } from '../../src/toolkit/assembly.js';
import { fakeClock } from '../helpers/clock.js';
import { MOTO_ACCOUNT, useMoto, writeProject } from './moto.js';

// The waits that run inside the CDK toolkit (bootstrap, deploy) give up on time against moto_server. The clock
// of the wait is a fake one whose sleeps return at once, so the timeout falls while CloudFormation is still at work;
// each test then waits for that work to settle. A small app with the project's stack names stands in for the
// embedded one, as in moto-faults.test.ts.
const region = 'ap-southeast-2';
const fast = { pollingIntervalMs: 100 };
const prefix = 'slow';
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

const busy = async (names: readonly string[]) => {
  const statuses = await Promise.all(names.map(stackStatus));
  return statuses.some((s) => s?.endsWith('_IN_PROGRESS'));
};

describe('waits inside the CDK toolkit, against moto_server', () => {
  let root: string;

  beforeAll(() => {
    useMoto();
    root = writeProject({ region, prefix });
  });

  it('gives up on a bootstrap that does not end in time, saying what it left and how to continue', async () => {
    // When bootstrapping with a clock on which the 30 minutes pass at once
    const io = createRecordingIo();
    const error = await bootstrapEnvironment({ root, env: 'dev', clock: fakeClock() }, io).catch((e: unknown) => e);
    // Then it said what it waited for, and gave up naming the state left and the command that continues
    expect(io.lines).toContainEqual({ level: 'info', message: 'waiting up to 30 min for stack CDKToolkit to be deployed…' });
    expect(error).toMatchObject({
      code: 'WAIT_TIMEOUT',
      suggestions: [expect.stringContaining('Run "sdlf bootstrap --env dev"')],
    });
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('Gave up waiting for stack CDKToolkit to be deployed after 30 min.');
    expect(lines[1]).toMatch(
      /^ {2}(left: stack CDKToolkit \(\w+; CloudFormation finishes it without sdlf\)|not created: stack CDKToolkit)$/,
    );
    expect(lines[2]).toBe('  Lake Formation settings: not changed yet');
    // And the re-run it suggests finishes once CloudFormation is done
    await vi.waitFor(async () => expect(await stackStatus('CDKToolkit')).toBe('CREATE_COMPLETE'), {
      timeout: 30_000,
      interval: 200,
    });
    const rerun = await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    expect(rerun.lakeFormation?.changed).toBe(true);
  }, 60_000);

  it('gives up on a deployment that does not end in time, saying where each stack stands', async () => {
    // When deploying with a clock on which the 30 minutes pass at once
    const io = createRecordingIo();
    const what = `the deployment of ${stackNames.join(', ')} (the timeout restarts as each stack finishes)`;
    const error = await deployProject(
      { root, env: 'dev', direct: true, requireApproval: 'never', app: smallApp, clock: fakeClock(), ...fast },
      io,
    ).catch((e: unknown) => e);
    // Then it said what it waited for, and gave up with one line per stack and the command that continues
    expect(io.lines).toContainEqual({ level: 'info', message: `waiting up to 30 min for ${what}…` });
    expect(error).toMatchObject({
      code: 'WAIT_TIMEOUT',
      suggestions: [expect.stringContaining('Run "sdlf deploy --env dev --direct" to continue')],
    });
    const [first, ...state] = (error as Error).message.split('\n');
    expect(first).toBe(`Gave up waiting for ${what} after 30 min.`);
    expect(state.map((line) => line.match(/stack (\S+)/)?.[1])).toEqual(stackNames);
    for (const line of state) expect(line).toMatch(/^ {2}(deployed|in progress|not deployed): stack /);
    await vi.waitFor(async () => expect(await busy(stackNames)).toBe(false), { timeout: 30_000, interval: 200 });
  }, 60_000);
});
