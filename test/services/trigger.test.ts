import { rmSync } from 'node:fs';
import { IAMClient } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import type { WaitClock } from '../../src/core/wait.js';
import { triggerDataset } from '../../src/services/trigger.js';
import { ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

// The trigger function and Step Functions as a deployed environment answers; the whole flow against moto_server,
// with the deployed trigger running in moto's Lambda runtime, is in test/lifecycle/moto-flow.test.ts.
const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const roots: string[] = [];

function project(datasets: Array<Record<string, unknown>> = [{ team: 'sales', dataset: 'orders' }]): string {
  const root = tempDir();
  roots.push(root);
  writeJsonFiles(root, { 'ddk.json': ddkJson(), 'parameters.json': { dev: datasets } });
  return root;
}

/** The trigger function's answer: its per-dataset results. */
function answers(results: unknown[], functionError?: string) {
  lambda.on(InvokeCommand).resolves({
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify(results)) as never,
    ...(functionError ? { FunctionError: functionError } : {}),
  });
}

function result(executions: Array<{ name: string; keys: number; started?: boolean }>, extra: Record<string, unknown> = {}) {
  return {
    team: 'sales',
    dataset: 'orders',
    executions: executions.map((e) => ({ executionId: e.name, name: e.name, started: e.started ?? true, keys: e.keys })),
    held: 0,
    invalid: 0,
    failed: [],
    ...extra,
  };
}

/** A clock that moves on by each sleep at once, so a wait reaches its timeout without waiting. */
function fastClock(): WaitClock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

const textOf = (io: ReturnType<typeof createRecordingIo>) => io.lines.map((l) => l.message).join('\n');
const error = (promise: Promise<unknown>) => promise.catch((e: unknown) => e as SdlfError);

beforeEach(() => {
  sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222', Arn: 'arn:aws:iam::222222222222:user/jane' });
});
afterEach(() => {
  for (const mock of [sts, iam, lambda, sfn]) mock.reset();
});
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('triggerDataset', () => {
  it('refuses a dataset whose pipeline has no stage B, before any AWS call, and says stage A runs on upload', async () => {
    const root = project([{ team: 'sales', pipeline: 'custom', dataset: 'orders' }]);
    const failure = await error(triggerDataset({ root, env: 'dev', team: 'sales', dataset: 'orders' }, createRecordingIo()));
    expect(failure).toBeInstanceOf(SdlfError);
    expect(failure).toMatchObject({ code: 'NO_STAGE_B' });
    expect(failure.message).toContain('sales/orders uses the pipeline "custom", which has no stage B');
    expect(String(failure.suggestions)).toContain('sdlf upload --team sales --dataset orders <files> --env dev');
    expect(sts.calls()).toHaveLength(0);
  });

  it('asks the trigger to start this dataset now and reports each execution with its Step Functions status', async () => {
    // Given a trigger that starts two batches
    const root = project();
    answers([
      result([
        { name: 'b-1', keys: 100 },
        { name: 'b-2', keys: 3 },
      ]),
    ]);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const io = createRecordingIo();
    // When the dataset is triggered
    const done = await triggerDataset({ root, env: 'dev', team: 'sales', dataset: 'orders' }, io);
    // Then the team pipeline's trigger got a start-now request for this dataset
    const [invoke] = lambda.commandCalls(InvokeCommand);
    expect(invoke?.args[0].input.FunctionName).toBe('ddk-dev-sales-standard-stage-b-trigger');
    expect(JSON.parse(String(invoke?.args[0].input.Payload))).toEqual({ action: 'start-now', dataset: 'orders' });
    // And each execution is looked up on the pipeline's stage B state machine and shown
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([
      `arn:aws:states:us-east-1:222222222222:execution:${done.stateMachine}:b-1`,
      `arn:aws:states:us-east-1:222222222222:execution:${done.stateMachine}:b-2`,
    ]);
    expect(done.executions.map((e) => [e.executionId, e.keys, e.status])).toEqual([
      ['b-1', 100, 'RUNNING'],
      ['b-2', 3, 'RUNNING'],
    ]);
    expect(textOf(io)).toContain('b-2: 3 object(s), started, RUNNING');
  });

  it('says that nothing is staged, and how to stage something, when the trigger started nothing', async () => {
    const root = project();
    answers([result([])]);
    const io = createRecordingIo();
    const done = await triggerDataset({ root, env: 'dev', team: 'sales', dataset: 'orders' }, io);
    expect(done.executions).toEqual([]);
    expect(textOf(io)).toContain('Nothing staged waits for stage B of sales/orders: its queue ddk-dev-sales-orders-stage-b');
    expect(textOf(io)).toContain('sdlf upload --team sales --dataset orders --env dev <files>');
  });

  it('says deploy first when the deployed trigger does not know the dataset (registered after the last deploy)', async () => {
    const root = project();
    answers([{ ...result([]), dataset: 'customers' }]);
    const failure = await error(triggerDataset({ root, env: 'dev', team: 'sales', dataset: 'orders' }, createRecordingIo()));
    expect(failure).toMatchObject({ code: 'NOT_DEPLOYED' });
    expect(failure.message).toContain('sales/orders is not in the deployed environment "dev"');
    expect(String(failure.suggestions)).toContain('sdlf deploy --env dev');
  });

  it('reports a failing trigger function with its own message', async () => {
    const root = project();
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(
        JSON.stringify({ errorType: 'Error', errorMessage: '1 stage B batch(es) could not start: AccessDenied' }),
      ) as never,
    });
    const failure = await error(triggerDataset({ root, env: 'dev', team: 'sales', dataset: 'orders' }, createRecordingIo()));
    expect(failure).toMatchObject({ code: 'STAGE_B_START_FAILED' });
    expect(failure.message).toBe(
      'The stage B trigger ddk-dev-sales-standard-stage-b-trigger failed: 1 stage B batch(es) could not start: AccessDenied',
    );
  });

  it('waits for the executions and exits 2 with the cause of one that failed', async () => {
    const root = project();
    answers([result([{ name: 'b-1', keys: 2 }])]);
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'FAILED', error: 'States.TaskFailed', cause: 'Glue job run failed: column x not found' });
    const failure = await error(
      triggerDataset({ root, env: 'dev', team: 'sales', dataset: 'orders', wait: true, clock: fastClock() }, createRecordingIo()),
    );
    expect(failure).toMatchObject({ code: 'STAGE_B_FAILED' });
    expect(failure.message).toBe(
      '1 stage B execution(s) of sales/orders did not succeed: b-1 FAILED (States.TaskFailed: Glue job run failed: column x not found).',
    );
    expect(String(failure.suggestions)).toContain('sdlf redrive --team sales --dataset orders --env dev --stage b');
  });

  it('gives up waiting after --timeout, saying which executions still run and how to follow them', async () => {
    const root = project();
    answers([result([{ name: 'b-1', keys: 2 }])]);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const io = createRecordingIo();
    const failure = await error(
      triggerDataset(
        { root, env: 'dev', team: 'sales', dataset: 'orders', wait: true, timeoutMinutes: 1, clock: fastClock() },
        io,
      ),
    );
    expect(failure).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect(failure.message).toBe('Gave up waiting for the stage B execution(s) of sales/orders after 1 min.\n  b-1: RUNNING');
    expect(String(failure.suggestions)).toContain('sdlf status --team sales --dataset orders --env dev');
    expect(textOf(io)).toContain('waiting up to 1 min for 1 stage B execution(s) of sales/orders to finish');
  });
});
