import { InvokeCommand } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../aws/clients.js';
import { findDataset } from '../aws/datasets.js';
import { isAwsError } from '../aws/errors.js';
import { type AwsCommandOptions, type AwsSession, openSession, targetFlags } from '../aws/session.js';
import { type AwsTarget, namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import type { Project } from '../config/model.js';
import type { Naming } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { pollUntil, type WaitLimits, waitTimeoutError } from '../core/wait.js';
import type { StageBStartRequest } from '../runtime/contract.js';
import type { DatasetTriggerResult } from '../runtime/core/stage-b.js';
import { pipelineHasStageB } from './heavy-transform.js';

/** Options of {@link triggerDataset}. */
export interface TriggerDatasetOptions extends AwsCommandOptions, WaitLimits {
  readonly team: string;
  readonly dataset: string;
  /** Waits until every execution it started has finished. @default false */
  readonly wait?: boolean;
}

/** One stage B execution that {@link triggerDataset} started (or found started), as Step Functions reports it. */
export interface TriggeredExecution {
  /** The batch id: the execution's name and its id in `sdlf status`. */
  readonly executionId: string;
  readonly arn: string;
  /** Staged objects in the batch. */
  readonly keys: number;
  /** False when the batch had started before (its messages were delivered again). */
  readonly started: boolean;
  /** `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`…; `UNKNOWN` when Step Functions does not know it. */
  readonly status: string;
  /** Why it failed, for a finished execution that did not succeed. */
  readonly error?: string;
}

/** What {@link triggerDataset} did. */
export interface TriggerDatasetResult {
  readonly env: string;
  readonly team: string;
  readonly dataset: string;
  readonly stateMachine: string;
  readonly executions: readonly TriggeredExecution[];
  /** Invalid stage B messages the trigger moved to the dataset's stage B dead-letter queue. */
  readonly invalid: number;
}

const FINISHED: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'UNKNOWN']);

/**
 * Starts a deployed dataset's stage B now: invokes its team pipeline's stage B trigger function with a
 * {@link StageBStartRequest}, so everything the dataset has staged starts in batches of at most `maxItemsProcess`,
 * without waiting for its wake queue's batching window or `minItemsProcess`. Reports each execution as Step Functions sees it and, with
 * `wait`, waits (bounded) until they finish; a finished execution that did not succeed is an {@link SdlfError}.
 */
export async function triggerDataset(options: TriggerDatasetOptions, io: Io): Promise<TriggerDatasetResult> {
  const session = await openSession(options, io, { check: (project, target) => assertHasStageB(options, project, target) });
  const { project, target, clients } = session;
  const environment = requireDeploymentEnvironment(target, 'trigger');
  const config = findDataset(project, environment.id, options.team, options.dataset);
  const naming = namingOf(target, environment);
  const { team, dataset } = config;
  const run: TriggerRun = {
    team,
    dataset,
    envId: environment.id,
    naming,
    flags: `--team ${team} --dataset ${dataset} --env ${environment.id}${targetFlags(options, target, environment.region)}`,
  };
  const functionName = naming.pipelineFunction(team, config.pipeline, 'stage-b-trigger');
  const stateMachine = naming.stateMachine(team, config.pipeline, 'b');

  io.info(`Starting stage B of ${team}/${dataset} with what it has staged (${functionName})…`);
  const results = await invokeTrigger(clients, functionName, { action: 'start-now', dataset }, environment.id, run.flags);
  const result = checkTriggerResult(
    run,
    results.find((r) => r.team === team && r.dataset === dataset),
    functionName,
    io,
  );
  const describe = describerOf(session, stateMachine, result);
  let executions: TriggeredExecution[] = await describe();
  for (const e of executions) {
    io.info(`  ${e.executionId}: ${e.keys} object(s), ${e.started ? 'started' : 'already started before'}, ${e.status}`);
  }
  if (options.wait && executions.some((e) => !FINISHED.has(e.status))) {
    executions = await waitForExecutions(run, executions, describe, options, io);
  }
  assertSucceeded(run, executions);
  return { env: environment.id, team, dataset, stateMachine, executions, invalid: result.invalid };
}

/** The dataset a trigger starts, and the flags that name it in the commands its messages suggest. */
interface TriggerRun {
  readonly team: string;
  readonly dataset: string;
  readonly envId: string;
  readonly naming: Naming;
  readonly flags: string;
}

/** Refuses a dataset whose pipeline has no stage B: there is nothing to start. */
async function assertHasStageB(options: TriggerDatasetOptions, project: Project, target: AwsTarget): Promise<void> {
  const environment = requireDeploymentEnvironment(target, 'trigger');
  const config = findDataset(project, environment.id, options.team, options.dataset);
  if (!(await pipelineHasStageB(project, config.pipeline))) {
    throw new SdlfError(
      `${config.team}/${config.dataset} uses the pipeline "${config.pipeline}", which has no stage B: there is nothing to start.`,
      {
        code: 'NO_STAGE_B',
        suggestions: [
          `Stage A runs as soon as a file lands: "sdlf upload --team ${config.team} --dataset ${config.dataset} <files> --env ${environment.id}".`,
        ],
      },
    );
  }
}

/**
 * Checks the trigger's result for the dataset: it must know the dataset and have started every batch. Warns of
 * invalid messages moved to the dead-letter queue, and says so when nothing was staged.
 */
function checkTriggerResult(
  { team, dataset, envId, naming, flags }: TriggerRun,
  result: DatasetTriggerResult | undefined,
  functionName: string,
  io: Io,
): DatasetTriggerResult {
  if (!result) {
    throw new SdlfError(
      `${team}/${dataset} is not in the deployed environment "${envId}": its stage B trigger ${functionName} does not know it.`,
      {
        code: 'NOT_DEPLOYED',
        suggestions: [`Deploy it first: "sdlf deploy --env ${envId}", then run "sdlf trigger ${flags}" again.`],
      },
    );
  }
  if (result.invalid > 0) {
    io.warn(
      `${result.invalid} invalid stage B message(s) of ${team}/${dataset} went to ${naming.stageBDeadLetterQueue(team, dataset)}.`,
    );
  }
  if (result.failed.length > 0) {
    throw new SdlfError(
      `${result.failed.length} stage B batch(es) of ${team}/${dataset} could not start: ${result.failed
        .map((f) => `${f.executionId}: ${f.error}`)
        .join('; ')}. Their staged objects stay queued.`,
      {
        code: 'STAGE_B_START_FAILED',
        suggestions: [
          `Fix the cause, then run "sdlf trigger ${flags}" again; the next arrival of the dataset also retries them.`,
        ],
      },
    );
  }
  if (result.executions.length === 0) {
    io.info(
      `Nothing staged waits for stage B of ${team}/${dataset}: its queue ${naming.stageBQueue(team, dataset)} has no visible message. Upload files ("sdlf upload ${flags} <files>") and let stage A stage them; "sdlf status ${flags}" shows what ran.`,
    );
  }
  return result;
}

/** A function that describes the executions the trigger reported, as Step Functions sees them now. */
function describerOf(
  { clients, identity, target }: AwsSession,
  stateMachine: string,
  result: DatasetTriggerResult,
): () => Promise<TriggeredExecution[]> {
  const partition = identity.arn.split(':')[1] ?? 'aws';
  const arnOf = (name: string) => `arn:${partition}:states:${target.region}:${target.account}:execution:${stateMachine}:${name}`;
  return () =>
    Promise.all(
      result.executions.map(async (e) => ({
        executionId: e.executionId,
        arn: arnOf(e.name),
        keys: e.keys,
        started: e.started,
        ...(await describeExecution(clients, arnOf(e.name))),
      })),
    );
}

/** Waits (bounded) until every execution has finished, printing each one's final status. */
async function waitForExecutions(
  { team, dataset, flags }: TriggerRun,
  executions: readonly TriggeredExecution[],
  describe: () => Promise<TriggeredExecution[]>,
  options: TriggerDatasetOptions,
  io: Io,
): Promise<TriggeredExecution[]> {
  const finished = await pollUntil(describe, (all) => all.every((e) => FINISHED.has(e.status)), {
    ...options,
    io,
    what: `${executions.length} stage B execution(s) of ${team}/${dataset} to finish`,
    onTimeout: (last, minutes) =>
      waitTimeoutError({
        what: `the stage B execution(s) of ${team}/${dataset}`,
        minutes,
        state: (last ?? executions).map((e) => `${e.executionId}: ${e.status}`),
        resumeCommand: `sdlf status ${flags}`,
      }),
  });
  for (const e of finished) io.info(`  ${e.executionId}: ${e.status}${e.error ? ` (${e.error})` : ''}`);
  return finished;
}

/** Fails with `STAGE_B_FAILED` when a finished execution did not succeed. */
function assertSucceeded({ team, dataset, flags }: TriggerRun, executions: readonly TriggeredExecution[]): void {
  const failed = executions.filter((e) => FINISHED.has(e.status) && e.status !== 'SUCCEEDED' && e.status !== 'UNKNOWN');
  if (failed.length > 0) {
    throw new SdlfError(
      `${failed.length} stage B execution(s) of ${team}/${dataset} did not succeed: ${failed
        .map((e) => `${e.executionId} ${e.status}${e.error ? ` (${e.error})` : ''}`)
        .join('; ')}.`,
      {
        code: 'STAGE_B_FAILED',
        suggestions: [
          `See why with "sdlf status ${flags}"; after a fix, "sdlf redrive ${flags} --stage b" runs the batch again.`,
        ],
      },
    );
  }
}

/** Invokes the stage B trigger and returns its per-dataset results; a missing function is NOT_DEPLOYED. */
async function invokeTrigger(
  clients: AwsClients,
  functionName: string,
  request: StageBStartRequest,
  envId: string,
  flags: string,
): Promise<DatasetTriggerResult[]> {
  const response = await clients.lambda
    .send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(request) }))
    .catch((error: unknown) => {
      if (isAwsError(error, 'ResourceNotFoundException')) {
        throw new SdlfError(`The stage B trigger function ${functionName} does not exist in environment "${envId}".`, {
          code: 'NOT_DEPLOYED',
          suggestions: [`Deploy the environment first: "sdlf deploy --env ${envId}".`],
        });
      }
      throw error;
    });
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  if (response.FunctionError) {
    const { errorMessage } = parseJson(text) as { errorMessage?: string };
    throw new SdlfError(`The stage B trigger ${functionName} failed: ${errorMessage ?? (text || response.FunctionError)}`, {
      code: 'STAGE_B_START_FAILED',
      suggestions: [`Fix the cause, then run "sdlf trigger ${flags}" again; staged objects stay queued until then.`],
    });
  }
  const results = parseJson(text);
  if (!Array.isArray(results)) {
    throw new SdlfError(
      `The stage B trigger ${functionName} answered with something that is not its result: ${text.slice(0, 200)}`,
      {
        code: 'NOT_DEPLOYED',
        suggestions: [`Deploy this version of the project first: "sdlf deploy --env ${envId}".`],
      },
    );
  }
  return results as DatasetTriggerResult[];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Status of a Step Functions execution, `UNKNOWN` when it does not exist. */
async function describeExecution(clients: AwsClients, arn: string): Promise<{ status: string; error?: string }> {
  try {
    const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    const status: ExecutionStatus | string = execution.status ?? 'UNKNOWN';
    const error = [execution.error, execution.cause].filter(Boolean).join(': ');
    return error && status !== 'SUCCEEDED' ? { status, error } : { status };
  } catch (error) {
    if (isAwsError(error, 'ExecutionDoesNotExist')) return { status: 'UNKNOWN' };
    throw error;
  }
}
