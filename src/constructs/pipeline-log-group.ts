import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import type { Naming } from '../config/naming.js';
import { acknowledgeLogGroup } from './sdlf-function.js';

const PIPELINE_LOG_GROUP_ID = 'PipelineLogGroup';

/**
 * Returns the log group of a team pipeline, {@link Naming.pipelineLogGroup}, creating it in the stack of `scope`
 * on first use: one group for the pipeline's functions and state machines (and, by name, its datasets' light
 * transforms), with the environment's retention. Logs expire on their own, so the group goes with its stack.
 * Throws when a second stage of the stack asks for another retention.
 */
export function pipelineLogGroup(
  scope: IConstruct,
  naming: Naming,
  team: string,
  pipeline: string,
  retention: RetentionDays,
): LogGroup {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(PIPELINE_LOG_GROUP_ID);
  const logGroupName = naming.pipelineLogGroup(team, pipeline);
  if (existing instanceof LogGroup) {
    const days: unknown = stack.resolve((existing.node.defaultChild as { retentionInDays?: number }).retentionInDays);
    const current = days ?? RetentionDays.INFINITE;
    if (current !== retention) {
      throw new Error(
        `Log group ${logGroupName} keeps logs ${current} days; a stage of ${stack.stackName} asked for ${retention}.`,
      );
    }
    return existing;
  }
  const logGroup = new LogGroup(stack, PIPELINE_LOG_GROUP_ID, { logGroupName, retention, removalPolicy: RemovalPolicy.DESTROY });
  acknowledgeLogGroup(logGroup);
  return logGroup;
}
