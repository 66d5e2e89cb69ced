import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, type Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type Code, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type ILogGroup, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Naming } from '../config/naming.js';
import { acknowledgeCheckov } from './checkov.js';
import { InlinePolicyRole } from './inline-policy-role.js';
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from './settings.js';

/** Properties of an {@link SdlfFunction}. */
export interface SdlfFunctionProps {
  /** Physical name of the function (from the naming module). */
  readonly functionName: string;
  /** Physical name of its execution role (from the naming module). @default a name CloudFormation generates */
  readonly roleName?: string;
  /** The bundle: a folder holding `index.mjs` that exports `handler`. */
  readonly code: Code;
  /** Environment variables. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Memory in MB. @default 256 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** Retention of the function's own log group; unused with {@link logGroup}. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /**
   * The log group the function writes to, shared with other functions (Lambda's `LoggingConfig`; its streams are
   * named `YYYY/MM/DD/{functionName}[…]…`), e.g. its team pipeline's. @default a log group of its own,
   * `/aws/lambda/{functionName}`, with {@link logRetention}
   */
  readonly logGroup?: ILogGroup;
  /** Description shown in the console. @default none */
  readonly description?: string;
  /**
   * How a failed invocation is kept: a dead-letter queue for the events of asynchronous invocations (EventBridge
   * targets), or why the function needs none (its caller keeps what failed: Step Functions' Catch, an SQS event
   * source's redrive policy, a schedule that runs again), recorded for checkov.
   * @default no dead-letter queue, and nothing recorded
   */
  readonly failures?: { readonly deadLetterQueue: IQueue } | { readonly keptBy: string };
}

/**
 * Defines a Node.js function the sdlf way: newest runtime, ARM64, its own role with nothing but write access to
 * its own log group (callers add grants), and an explicit log group with a retention, so no `LogRetention`
 * custom resource is needed.
 */
export class SdlfFunction extends Construct {
  /** The function. */
  readonly function: LambdaFunction;
  /** Its execution role. */
  readonly role: Role;
  /** Its log group: its own `/aws/lambda/{functionName}`, or the shared one it was given. */
  readonly logGroup: ILogGroup;

  constructor(scope: Construct, id: string, props: SdlfFunctionProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? 256;
    const timeout = props.timeout ?? Duration.minutes(1);
    const retention = props.logRetention ?? RetentionDays.ONE_YEAR;

    this.logGroup = props.logGroup ?? this.addLogGroup(props.functionName, retention);
    this.role = new InlinePolicyRole(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    this.function = new LambdaFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      code: props.code,
      handler: 'index.handler',
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...props.environment },
      ...(props.failures && 'deadLetterQueue' in props.failures ? { deadLetterQueue: props.failures.deadLetterQueue } : {}),
    });
    if (props.failures && 'keptBy' in props.failures) acknowledgeCheckov(this.function, 'CKV_AWS_116', props.failures.keptBy);
    acknowledgeCheckov(
      this.function,
      'CKV_AWS_115',
      'No reserved concurrency: it would take capacity from every other function of the account, and a throttled invocation is retried by its source (EventBridge, the SQS event source, the state machine task).',
    );
    acknowledgeCheckov(
      this.function,
      'CKV_AWS_117',
      'Reaches only regional AWS endpoints (S3, DynamoDB, SQS, SSM, Step Functions) through its role; a VPC would add NAT or endpoint costs and no protection.',
    );
    acknowledgeCheckov(
      this.function,
      'CKV_AWS_173',
      'The environment holds resource names, URLs and ARNs only, no secret; Lambda encrypts it at rest with its service key.',
    );
  }

  /** The function's own log group, `/aws/lambda/{functionName}`. */
  private addLogGroup(functionName: string, retention: RetentionDays): LogGroup {
    // Logs expire on their own; keeping the group after a stack is deleted would only block the next deploy.
    const logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: Naming.lambdaLogGroup(functionName),
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeLogGroup(logGroup);
    return logGroup;
  }
}

/** Why sdlf's log groups use CloudWatch Logs' own encryption rather than a customer-managed key. */
export function acknowledgeLogGroup(logGroup: LogGroup): void {
  acknowledgeCheckov(
    logGroup,
    'CKV_AWS_158',
    'Holds operational logs (object keys, counts, statuses, errors), which CloudWatch Logs encrypts at rest with its own keys; a customer-managed key would need a key policy for the logs service of each region.',
  );
}
