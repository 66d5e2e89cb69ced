import {
  DeleteStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  paginateListStackResources,
  paginateListStacks,
  type Stack,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { pollUntil, systemClock, type WaitLimits, type WaitOptions, waitTimeoutError } from '../core/wait.js';
import type { AwsClients } from './clients.js';
import { isAwsError } from './errors.js';

/** Name of the stack `cdk bootstrap` creates. */
export const BOOTSTRAP_STACK = 'CDKToolkit';

/** A deployed stack, as far as sdlf cares. */
export interface StackInfo {
  readonly name: string;
  readonly id: string;
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Template parameters and their current values. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Stack outputs and their values. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly statusReason?: string;
}

const toInfo = (stack: Stack): StackInfo => ({
  name: stack.StackName ?? '',
  id: stack.StackId ?? '',
  status: stack.StackStatus ?? 'UNKNOWN',
  statusReason: stack.StackStatusReason,
  tags: Object.fromEntries((stack.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  parameters: Object.fromEntries((stack.Parameters ?? []).map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? ''])),
  outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
});

/** Describes one stack by name; undefined when it does not exist (or only exists as `DELETE_COMPLETE`). */
export async function describeStack(clients: AwsClients, name: string): Promise<StackInfo | undefined> {
  try {
    const reply = await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
    const stack = reply.Stacks?.[0];
    return stack && stack.StackStatus !== 'DELETE_COMPLETE' ? toInfo(stack) : undefined;
  } catch (error) {
    if (isAwsError(error, 'ValidationError') && /does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Lists every live stack of the account and region, with its tags. */
export async function listStacks(clients: AwsClients): Promise<StackInfo[]> {
  const names: string[] = [];
  for await (const page of paginateListStacks({ client: clients.cloudFormation }, {})) {
    for (const summary of page.StackSummaries ?? []) {
      if (summary.StackName && summary.StackStatus !== 'DELETE_COMPLETE') names.push(summary.StackName);
    }
  }
  const stacks: StackInfo[] = [];
  for (const name of [...new Set(names)]) {
    const stack = await describeStack(clients, name);
    if (stack) stacks.push(stack);
  }
  return stacks;
}

/** Lists the resources of a stack. */
export async function listStackResources(clients: AwsClients, stackName: string): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = [];
  try {
    for await (const page of paginateListStackResources({ client: clients.cloudFormation }, { StackName: stackName })) {
      resources.push(...(page.StackResourceSummaries ?? []));
    }
  } catch (error) {
    // Some CloudFormation emulators (moto) fail ListStackResources where DescribeStackResources works; the latter
    // returns up to 100 resources, which a stack of this project never exceeds by design.
    const reply = await clients.cloudFormation.send(new DescribeStackResourcesCommand({ StackName: stackName })).catch(() => {
      throw error;
    });
    return (reply.StackResources ?? []).map((r) => ({ ...r, LastUpdatedTimestamp: r.Timestamp ?? new Date() }));
  }
  return resources;
}

/** Tells whether a stack status is an operation still running. */
export function isInProgress(status: string): boolean {
  return status.endsWith('_IN_PROGRESS');
}

/**
 * Status of a stack that a CREATE change set made and nobody executed (a refused approval leaves one). It ends
 * only when someone executes or deletes the change set: waiting for it never helps.
 */
export const REVIEW_IN_PROGRESS = 'REVIEW_IN_PROGRESS';

/** Tells whether CloudFormation is running an operation on a stack that ends by itself (not {@link REVIEW_IN_PROGRESS}). */
export function isBusy(status: string): boolean {
  return isInProgress(status) && status !== REVIEW_IN_PROGRESS;
}

/**
 * Tells whether a stack is only the shell of a change set never executed: {@link REVIEW_IN_PROGRESS} and without
 * resources, so deleting it loses nothing (as the CDK deletes a stack left `ROLLBACK_COMPLETE`).
 */
export async function isUnexecuted(clients: AwsClients, stack: StackInfo): Promise<boolean> {
  return stack.status === REVIEW_IN_PROGRESS && (await listStackResources(clients, stack.id || stack.name)).length === 0;
}

/** Statuses from which CloudFormation cannot update a stack until someone intervenes. */
export const STUCK_STATUSES = ['UPDATE_ROLLBACK_FAILED', 'ROLLBACK_FAILED', 'DELETE_FAILED', 'IMPORT_ROLLBACK_FAILED'] as const;

/**
 * Fails with an {@link SdlfError} when a stack is busy or stuck: in progress (wait), or in a failed state that needs
 * a manual step first. A stack in `ROLLBACK_COMPLETE` passes: it never finished creating and can only be deleted,
 * which a deploy does before re-creating it and delete-all does anyway.
 */
export function assertStackUsable(stack: StackInfo, region: string): void {
  if (stack.status === REVIEW_IN_PROGRESS) {
    throw new SdlfError(
      `Stack ${stack.name} is ${REVIEW_IN_PROGRESS} and holds resources: a change set of it was never executed.`,
      {
        code: 'STACK_IN_REVIEW',
        suggestions: [
          `Execute or delete the pending change set of ${stack.name} (CloudFormation console, ${region}, tab "Change sets"), then re-run.`,
        ],
      },
    );
  }
  if (isInProgress(stack.status)) {
    throw new SdlfError(`Stack ${stack.name} is busy (${stack.status}).`, {
      code: 'STACK_BUSY',
      suggestions: [
        `Wait until the current operation of ${stack.name} finishes (CloudFormation console, ${region}), then re-run.`,
      ],
    });
  }
  if ((STUCK_STATUSES as readonly string[]).includes(stack.status)) {
    const fix =
      stack.status === 'UPDATE_ROLLBACK_FAILED'
        ? `Continue the rollback of ${stack.name} ("Stack actions > Continue update rollback" in the CloudFormation console, ${region}), then re-run.`
        : `Fix the resource named in the reason, or delete ${stack.name} in the CloudFormation console (${region}), then re-run.`;
    throw new SdlfError(
      `Stack ${stack.name} is ${stack.status}${stack.statusReason ? `: ${stack.statusReason}` : ''}. CloudFormation cannot change it in this state.`,
      { code: 'STACK_FAILED', suggestions: [fix] },
    );
  }
}

/** Options of {@link deleteStack}. */
export interface DeleteStackOptions extends WaitLimits {
  /** The command that resumes the work, for messages. */
  readonly resumeCommand: string;
  /** Lines saying what a timeout leaves (which stacks are gone, which remain and how). @default the stack's status */
  readonly state?: () => Promise<readonly string[]>;
}

/**
 * Deletes a stack and waits until it is gone: `skipped` when it did not exist, `done` otherwise. A stack busy with
 * another operation is deleted once that finishes; a {@link REVIEW_IN_PROGRESS} one at once. Each wait lasts at
 * most `timeoutMinutes` and then fails with `WAIT_TIMEOUT`; a stack CloudFormation leaves `DELETE_FAILED` fails
 * with an {@link SdlfError} naming the resources.
 */
export async function deleteStack(
  clients: AwsClients,
  name: string,
  io: Io,
  options: DeleteStackOptions,
): Promise<'done' | 'skipped'> {
  let stack = await describeStack(clients, name);
  if (!stack) return 'skipped';
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const wait = (what: string): WaitOptions<StackInfo | undefined> => ({
    ...options,
    what,
    io,
    onTimeout: async (last, minutes) =>
      waitTimeoutError({
        what,
        minutes,
        state: (await options.state?.()) ?? [`left: stack ${name} (${last?.status ?? 'gone'})`],
        resumeCommand: options.resumeCommand,
      }),
  });
  const describeIt = () => describeStack(clients, name);
  if (isBusy(stack.status) && stack.status !== 'DELETE_IN_PROGRESS') {
    stack = await pollUntil(
      describeIt,
      (s) => !s || !isBusy(s.status) || s.status === 'DELETE_IN_PROGRESS',
      wait(`stack ${name} to finish ${stack.status}`),
    );
    if (!stack) return 'skipped';
  }
  io.info(`deleting stack ${name}…`);
  const id = stack.id;
  if (stack.status !== 'DELETE_IN_PROGRESS') await clients.cloudFormation.send(new DeleteStackCommand({ StackName: id }));
  const current = await pollUntil(
    () => describeStack(clients, id),
    (s) => !s || s.status === 'DELETE_FAILED',
    wait(`stack ${name} to be deleted`),
  );
  if (current?.status === 'DELETE_FAILED') {
    const failed = (await listStackResources(clients, id)).filter((r) => r.ResourceStatus === 'DELETE_FAILED');
    const details = failed.map(
      (r) =>
        `${r.LogicalResourceId} (${r.ResourceType} ${r.PhysicalResourceId ?? ''}): ${r.ResourceStatusReason ?? 'no reason given'}`,
    );
    throw new SdlfError(`Stack ${name} could not be deleted: ${details.join('; ') || current.statusReason || 'DELETE_FAILED'}.`, {
      code: 'STACK_DELETE_FAILED',
      suggestions: [
        `Fix or remove the resource(s) named above, then run "${options.resumeCommand}" again: it continues where it stopped.`,
      ],
    });
  }
  io.info(`deleted stack ${name} (${((clock.now() - started) / 1000).toFixed(1)} s)`);
  return 'done';
}
