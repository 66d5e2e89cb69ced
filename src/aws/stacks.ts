import {
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  paginateListStackResources,
  paginateListStacks,
  type Stack,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { SdlfError } from '../core/errors.js';
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
  readonly statusReason?: string;
}

const toInfo = (stack: Stack): StackInfo => ({
  name: stack.StackName ?? '',
  id: stack.StackId ?? '',
  status: stack.StackStatus ?? 'UNKNOWN',
  statusReason: stack.StackStatusReason,
  tags: Object.fromEntries((stack.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  parameters: Object.fromEntries((stack.Parameters ?? []).map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? ''])),
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

/** Statuses from which CloudFormation cannot update a stack until someone intervenes. */
export const STUCK_STATUSES = ['UPDATE_ROLLBACK_FAILED', 'ROLLBACK_FAILED', 'DELETE_FAILED', 'IMPORT_ROLLBACK_FAILED'] as const;

/**
 * Fails with an {@link SdlfError} when a stack is busy or stuck: in progress (wait), or in a failed state that needs
 * a manual step first. A stack in `ROLLBACK_COMPLETE` passes: it never finished creating and can only be deleted,
 * which a deploy does before re-creating it and delete-all does anyway.
 */
export function assertStackUsable(stack: StackInfo, region: string): void {
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
