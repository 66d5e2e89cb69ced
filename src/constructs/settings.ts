import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { DeploymentEnvironment } from '../config/model.js';

// cdk-nag AwsSolutions-L1 wants the newest runtime the installed aws-cdk-lib knows; aws-cdk-lib is pinned exactly in
// package.json, so this stays the newest until the pin moves (and the cdk-nag test then says so).
/** The Node.js runtime of every sdlf function: the newest that aws-cdk-lib offers. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
/** Graviton: cheaper per GB-second and faster to start for Node.js. */
export const LAMBDA_ARCHITECTURE = Architecture.ARM_64;
/** Longest a staged object waits for stage B's trigger: the batching window of its wake queue. */
export const DEFAULT_STAGE_B_WAIT = Duration.minutes(5);
/** Lambda's longest batching window for an SQS event source. */
export const MAX_STAGE_B_WAIT = Duration.minutes(5);

/** Removal policy of data stores (buckets, tables) and the keys that encrypt them: RETAIN unless opted out. */
export function dataRemovalPolicy(environment: Pick<DeploymentEnvironment, 'removeDataOnDestroy'>): RemovalPolicy {
  return environment.removeDataOnDestroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** Maps `log_retention_days` to the nearest CloudWatch retention that keeps logs at least that long. */
export function logRetention(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays)
    .filter((value): value is RetentionDays => typeof value === 'number' && value > 0)
    .sort((a, b) => a - b);
  return allowed.find((value) => value >= days) ?? RetentionDays.INFINITE;
}

/** Days an execution history item lives before DynamoDB expires it. */
export const DEFAULT_EXECUTION_TTL_DAYS = 90;
