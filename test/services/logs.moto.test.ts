import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Naming } from '../../src/config/naming.js';
import { SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { formatLogLine, type ShowLogsOptions, showLogs } from '../../src/services/logs.js';
import { motoGlue } from '../helpers/moto-glue.js';
import { tempDir, writeJsonFiles } from '../helpers/project.js';
import { useMoto } from '../runtime/aws/moto.js';

const ACCOUNT = '123456789012';
const prefix = `lg${randomBytes(3).toString('hex')}`;
const naming = new Naming({ prefix, env: 'dev', account: ACCOUNT, region: 'us-east-1' });
// Every function and state machine of the team's pipeline, and the datasets' light transforms, share one group.
const pipelineGroup = naming.pipelineLogGroup('sales', 'standard');
const groups = { pipeline: pipelineGroup, glueOutput: '/aws-glue/jobs/output' };
// Lambda names a function's streams in a shared group `YYYY/MM/DD/{function}[{version}]{environment}`.
const fnStream = (functionName: string, environment: string) => `2026/12/07/${functionName}[$LATEST]${environment}`;
const fn = (f: 'routing' | 'stage-a-trigger' | 'step' | 'stage-b-trigger', environment: string) =>
  fnStream(naming.pipelineFunction('sales', 'standard', f), environment);
const streams = {
  routing: fn('routing', 'r1'),
  stageATrigger: fn('stage-a-trigger', 't1'),
  step: fn('step', 'p1'),
  lightTransform: fnStream(naming.lightTransformFunction('sales', 'orders'), 'l1'),
  lateLightTransform: fnStream(naming.lightTransformFunction('sales', 'orders'), 'l2'),
  // Another dataset's light transform, in the same group: never shown for sales/orders.
  customersLightTransform: fnStream(naming.lightTransformFunction('sales', 'customers'), 'c1'),
  stageAStates: `states/${naming.stateMachine('sales', 'standard', 'a')}/2026-12-07-09-00/s1`,
  stageBStates: `states/${naming.stateMachine('sales', 'standard', 'b')}/2026-12-07-09-00/s2`,
};
const EXEC_A = `a-${'1'.repeat(40)}`;
const EXEC_B = `b-${'2'.repeat(40)}`;
const OTHER_B = `b-${'3'.repeat(40)}`;
const REQ_ORDERS = '11111111-1111-1111-1111-111111111111';
const REQ_CUSTOMERS = '22222222-2222-2222-2222-222222222222';
const smArn = (stage: 'a' | 'b', name: string) =>
  `arn:aws:states:us-east-1:${ACCOUNT}:execution:${naming.stateMachine('sales', 'standard', stage)}:${name}`;

let root: string;
let logs: CloudWatchLogsClient;
let runOfExecution: string;
let runOfOther: string;
const t0 = Date.now() - 10 * 60_000;

async function createGroup(name: string): Promise<void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName: name })).catch((error: { name?: string }) => {
    if (error.name !== 'ResourceAlreadyExistsException') throw error;
  });
}

async function put(group: string, stream: string, events: Array<[number, string | Record<string, unknown>]>): Promise<void> {
  await createGroup(group);
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })).catch(() => undefined);
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: stream,
      logEvents: events.map(([timestamp, message]) => ({
        timestamp,
        message: typeof message === 'string' ? message : JSON.stringify(message),
      })),
    }),
  );
}

function options(overrides: Partial<ShowLogsOptions> = {}): ShowLogsOptions {
  return { root, env: 'dev', team: 'sales', dataset: 'orders', ...overrides };
}

beforeAll(async () => {
  useMoto();
  logs = new CloudWatchLogsClient({ region: 'us-east-1' });
  root = tempDir('sdlf-logs-');
  writeJsonFiles(root, {
    'ddk.json': {
      environments: {
        cicd: { account: '111111111111', region: 'us-east-1' },
        dev: { account: ACCOUNT, region: 'us-east-1', resource_prefix: prefix },
      },
    },
    'parameters.json': {
      dev: [
        { team: 'sales', dataset: 'orders' },
        { team: 'sales', dataset: 'customers' },
        { team: 'sales', pipeline: 'custom', dataset: 'events' },
        { team: 'ops', dataset: 'nothing' },
      ],
    },
  });
  // The dataset's Glue job and two runs: one of EXEC_B, one of another execution (they fail at once on moto: no script).
  const jobName = naming.glueJob('sales', 'orders');
  const endpoint = inject('motoEndpoint');
  motoGlue(endpoint, 'create_job', {
    Name: jobName,
    Role: `arn:aws:iam::${ACCOUNT}:role/glue`,
    Command: { Name: 'glueetl', ScriptLocation: `s3://${prefix}-missing/main.py` },
  });
  const start = (execution: string) =>
    (
      motoGlue(endpoint, 'start_job_run', { JobName: jobName, Arguments: { '--execution-id': execution } }) as {
        JobRunId: string;
      }
    ).JobRunId;
  runOfExecution = start(EXEC_B);
  runOfOther = start(OTHER_B);

  // The stage B execution exists, so its dataset is known from its input even when its start is before --since.
  const sfn = new SFNClient({ region: 'us-east-1' });
  const machine = await sfn.send(
    new CreateStateMachineCommand({
      name: naming.stateMachine('sales', 'standard', 'b'),
      roleArn: `arn:aws:iam::${ACCOUNT}:role/states`,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
  await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: machine.stateMachineArn,
      name: EXEC_B,
      input: JSON.stringify({ team: 'sales', dataset: 'orders', executionId: EXEC_B }),
    }),
  );

  // Stage A: routing is shared by the team's datasets; the light transform is the dataset's own.
  await put(groups.pipeline, streams.routing, [
    [t0 + 1000, `START RequestId: ${REQ_ORDERS} Version: $LATEST`],
    [
      t0 + 1001,
      {
        level: 'INFO',
        message: 'Routed',
        team: 'sales',
        dataset: 'orders',
        function_request_id: REQ_ORDERS,
        executionId: EXEC_A,
      },
    ],
    [t0 + 1002, { level: 'INFO', message: 'Routed', team: 'sales', dataset: 'customers', function_request_id: REQ_CUSTOMERS }],
    [t0 + 1003, `END RequestId: ${REQ_ORDERS}`],
  ]);
  await put(groups.pipeline, streams.stageATrigger, []);
  await put(groups.pipeline, streams.lightTransform, [
    [t0 + 3000, { level: 'INFO', message: 'Transforming a raw object', key: 'raw/sales/orders/a.json', executionId: EXEC_A }],
  ]);
  // Untagged, as a user's transform may log: only its stream says which dataset's function wrote it.
  await put(groups.pipeline, streams.customersLightTransform, [
    [t0 + 3500, { level: 'INFO', message: 'Transforming a raw object', key: 'raw/sales/customers/b.json' }],
  ]);
  await put(groups.pipeline, streams.stageAStates, [
    [
      t0 + 2000,
      {
        type: 'ExecutionStarted',
        execution_arn: smArn('a', EXEC_A),
        details: { input: JSON.stringify({ team: 'sales', dataset: 'orders', executionId: EXEC_A }) },
      },
    ],
    [
      t0 + 2001,
      {
        type: 'ExecutionStarted',
        execution_arn: smArn('a', 'a-customers'),
        details: { input: JSON.stringify({ team: 'sales', dataset: 'customers' }) },
      },
    ],
    // An execution that started before the window and that moto does not know: left out.
    [t0 + 2002, { type: 'ExecutionSucceeded', execution_arn: smArn('a', 'a-unknown'), details: {} }],
  ]);
  // Both stages: the step function.
  await put(groups.pipeline, streams.step, [
    [
      t0 + 4000,
      {
        level: 'INFO',
        message: 'Running step',
        step: 'post-update',
        stage: 'a',
        team: 'sales',
        dataset: 'orders',
        executionId: EXEC_A,
        function_request_id: REQ_ORDERS,
      },
    ],
    [
      t0 + 6000,
      {
        level: 'INFO',
        message: 'Running step',
        step: 'pre-update',
        stage: 'b',
        team: 'sales',
        dataset: 'orders',
        executionId: EXEC_B,
        function_request_id: REQ_CUSTOMERS,
      },
    ],
  ]);
  // Stage B: the trigger has not logged; the state machine and the Glue runs log.
  await put(groups.pipeline, streams.stageBStates, [
    [
      t0 + 5000,
      {
        type: 'ExecutionStarted',
        execution_arn: smArn('b', EXEC_B),
        details: { input: JSON.stringify({ team: 'sales', dataset: 'orders', executionId: EXEC_B }) },
      },
    ],
    [
      t0 + 9000,
      {
        type: 'ExecutionFailed',
        execution_arn: smArn('b', EXEC_B),
        details: { error: 'States.TaskFailed', cause: 'job failed' },
      },
    ],
  ]);
  await put(groups.glueOutput, runOfExecution, [[t0 + 7000, 'reading 3 staged objects']]);
  await put(groups.glueOutput, runOfOther, [[t0 + 7500, 'a run of another batch']]);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('showLogs on moto', () => {
  it("merges a dataset's events of both stages by time, filtered to it on the team's shared groups", async () => {
    // When the logs of sales/orders are read
    const io = createRecordingIo();
    const result = await showLogs(options(), io);
    // Then its events come oldest first, from every source, and none of sales/customers or Lambda's own lines
    expect(result.stages).toEqual(['a', 'b']);
    expect(result.events.map((e) => formatLogLine(e))).toEqual([
      `${new Date(t0 + 1001).toISOString()} routing INFO Routed executionId=${EXEC_A}`,
      `${new Date(t0 + 2000).toISOString()} stage-a-states ExecutionStarted execution=${EXEC_A}`,
      `${new Date(t0 + 3000).toISOString()} light-transform INFO Transforming a raw object key=raw/sales/orders/a.json executionId=${EXEC_A}`,
      `${new Date(t0 + 4000).toISOString()} step INFO Running step step=post-update stage=a executionId=${EXEC_A}`,
      `${new Date(t0 + 5000).toISOString()} stage-b-states ExecutionStarted execution=${EXEC_B}`,
      `${new Date(t0 + 6000).toISOString()} step INFO Running step step=pre-update stage=b executionId=${EXEC_B}`,
      `${new Date(t0 + 7000).toISOString()} glue:output reading 3 staged objects`,
      `${new Date(t0 + 7500).toISOString()} glue:output a run of another batch`,
      `${new Date(t0 + 9000).toISOString()} stage-b-states ERROR ExecutionFailed execution=${EXEC_B} error=States.TaskFailed cause="job failed"`,
    ]);
    // And every source but Glue's is read from the pipeline's one group; the missing groups are skipped with a note
    const notes = io.lines.map((l) => l.message).join('\n');
    expect(notes).toContain('Skipped /aws-glue/jobs/error');
    expect(result.sources).toContainEqual({ source: 'stage-b-trigger', logGroup: groups.pipeline, found: true });
    expect(result.sources.filter((s) => !s.source.startsWith('glue:')).map((s) => s.logGroup)).toEqual(
      Array(7).fill(groups.pipeline),
    );
  });

  it('shows one stage only with stage', async () => {
    const result = await showLogs(options({ stage: 'a' }), createRecordingIo());
    expect(new Set(result.events.map((e) => e.source))).toEqual(
      new Set(['routing', 'stage-a-states', 'light-transform', 'step']),
    );
    // The step invocation of stage B is left out
    expect(result.events.filter((e) => e.source === 'step').map((e) => e.text)).toEqual([
      `Running step step=post-update stage=a executionId=${EXEC_A}`,
    ]);
  });

  it('keeps the newest events within limit and says how many it left out', async () => {
    const io = createRecordingIo();
    const result = await showLogs(options({ limit: 2 }), io);
    expect(result.events.map((e) => e.timestamp)).toEqual([t0 + 7500, t0 + 9000]);
    expect(result.omitted).toBe(7);
    expect(io.lines.map((l) => l.message)).toContain(
      'Showing the newest 2 of 9 events; pass --limit or a later --since for others.',
    );
  });

  it('shows the events that name one execution, and the logs of its Glue run only', async () => {
    const result = await showLogs(options({ execution: EXEC_B }), createRecordingIo());
    expect(result.events.map((e) => [e.source, e.timestamp])).toEqual([
      ['stage-b-states', t0 + 5000],
      ['step', t0 + 6000],
      ['glue:output', t0 + 7000],
      ['stage-b-states', t0 + 9000],
    ]);
    expect(result.events.find((e) => e.source === 'glue:output')?.logStream).toBe(runOfExecution);
  });

  it('reads nothing before since, and looks up the dataset of an execution that started before it', async () => {
    const result = await showLogs(options({ since: new Date(t0 + 6500).toISOString() }), createRecordingIo());
    expect(result.events.map((e) => e.timestamp)).toEqual([t0 + 7000, t0 + 7500, t0 + 9000]);
  });

  it('fails with NOT_DEPLOYED when none of the log groups exists', async () => {
    const error = await showLogs(options({ team: 'ops', dataset: 'nothing' }), createRecordingIo()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdlfError);
    expect(error).toMatchObject({ code: 'NOT_DEPLOYED' });
    expect((error as SdlfError).message).toContain('None of the log groups of ops/nothing exists in environment "dev"');
    expect(String((error as SdlfError).suggestions)).toContain('sdlf deploy --env dev');
  });

  it('refuses stage B of a pipeline without one (NO_STAGE_B) and says the stage A command', async () => {
    const error = await showLogs(options({ dataset: 'events', stage: 'b' }), createRecordingIo()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_STAGE_B' });
    expect(String((error as SdlfError).suggestions)).toContain('sdlf logs --team sales --dataset events --stage a --env dev');
  });

  it('follows: prints an event put after it started, then stops at its timeout saying so', async () => {
    // Given a follow of stage A that polls every 200 ms for 3 s
    const io = createRecordingIo();
    const printed: string[] = [];
    const started = Date.now();
    const following = showLogs(
      options({
        stage: 'a',
        follow: true,
        timeoutMinutes: 0.05,
        pollingIntervalMs: 200,
        onEvents: (events) => printed.push(...events.map((e) => e.text)),
      }),
      io,
    );
    // When the light transform logs a new line a second later
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await put(groups.pipeline, streams.lateLightTransform, [[Date.now(), { level: 'WARN', message: 'Late line' }]]);
    const result = await following;
    // Then it was printed once, after the events already there, and the follow ended on its timeout
    expect(printed.filter((t) => t === 'Late line')).toHaveLength(1);
    expect(printed.at(-1)).toBe('Late line');
    expect(result.stoppedBy).toBe('timeout');
    expect(io.lines.map((l) => l.message)).toContain('Stopped following after 0.05 min (--timeout).');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('follows until the signal aborts (SIGINT)', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 500);
    const started = Date.now();
    const result = await showLogs(
      options({ stage: 'a', follow: true, timeoutMinutes: 5, pollingIntervalMs: 200, signal: stop.signal }),
      createRecordingIo(),
    );
    expect(result.stoppedBy).toBe('interrupt');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
