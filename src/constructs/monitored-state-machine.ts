import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type ILogGroup, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Naming } from '../config/naming.js';
import { InlinePolicyRole } from './inline-policy-role.js';
import { type AlarmFault, alarmOnAny } from './monitored-queue.js';
import { acknowledgeAnyResource } from './nag.js';
import { acknowledgeLogGroup } from './sdlf-function.js';

/**
 * What aws-cdk-lib grants a state machine's role on `Resource: "*"` for tracing and logging: the X-Ray and
 * CloudWatch Logs delivery actions, none of which has resource-level permissions.
 */
const STATE_MACHINE_ANY_RESOURCE_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
] as const;

/** Properties of a {@link MonitoredStateMachine}. */
export interface MonitoredStateMachineProps {
  /** Physical name of the state machine (from the naming module). */
  readonly stateMachineName: string;
  /** The definition. */
  readonly definitionBody: DefinitionBody;
  /**
   * Topic the state machine's own failure alarm notifies. @default no alarm of its own: the owner alarms on
   * {@link MonitoredStateMachine.failureMetric}, e.g. in one `alarmOnFaults` alarm of a team pipeline
   */
  readonly alarmTopic?: ITopic;
  /** Longest an execution may run. @default Duration.hours(2) */
  readonly timeout?: Duration;
  /** Retention of the state machine's own log group; unused with {@link logGroup}. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /**
   * The log group the executions are logged to, shared with others (each event names its `execution_arn`), e.g.
   * its team pipeline's. @default a log group of its own, `/aws/vendedlogs/states/{stateMachineName}`
   */
  readonly logGroup?: ILogGroup;
  /**
   * Physical name of the state machine's role, so that dataset stacks can grant it access to their own
   * resources by name (see `DatasetResources`). @default a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * Defines a standard state machine with full execution logging to its own log group (with a retention), X-Ray
 * tracing, and one alarm to the alarm topic whenever an execution fails, times out or is aborted.
 */
export class MonitoredStateMachine extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;
  /** Its execution log group: its own, or the shared one it was given. */
  readonly logGroup: ILogGroup;
  /** Failed, timed-out and aborted executions, per minute. */
  readonly failureMetric: IMetric;
  /** The alarm on failed, timed-out and aborted executions, with {@link MonitoredStateMachineProps.alarmTopic}. */
  readonly failureAlarm?: Alarm;
  private readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: MonitoredStateMachineProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.hours(2);
    const retention = props.logRetention ?? RetentionDays.ONE_YEAR;
    this.stateMachineName = props.stateMachineName;

    this.logGroup = props.logGroup ?? this.addLogGroup(props.stateMachineName, retention);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      role: new InlinePolicyRole(this, 'Role', {
        roleName: props.roleName,
        assumedBy: new ServicePrincipal('states.amazonaws.com'),
      }),
      definitionBody: props.definitionBody,
      timeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    acknowledgeAnyResource(
      this,
      'X-Ray tracing and CloudWatch Logs delivery actions have no resource-level permissions.',
      STATE_MACHINE_ANY_RESOURCE_ACTIONS,
    );
    const period = Duration.minutes(1);
    this.failureMetric = new MathExpression({
      expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
      usingMetrics: {
        failed: this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
        timedOut: this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
        aborted: this.stateMachine.metricAborted({ period, statistic: 'Sum' }),
      },
      period,
    });
    if (props.alarmTopic) {
      this.failureAlarm = alarmOnAny(
        this,
        'FailureAlarm',
        this.failureMetric,
        props.alarmTopic,
        `Executions of ${props.stateMachineName} failed, timed out or were aborted; "sdlf status" lists them.`,
      );
    }
  }

  /** {@link failureMetric} as a fault of an `alarmOnFaults` alarm, naming the state machine. */
  failureFault(id: string): AlarmFault {
    return {
      id,
      metric: this.failureMetric,
      fault: `executions of ${this.stateMachineName} failed, timed out or were aborted ("sdlf status" lists them)`,
    };
  }

  /** The state machine's own log group, `/aws/vendedlogs/states/{stateMachineName}`. */
  private addLogGroup(stateMachineName: string, retention: RetentionDays): LogGroup {
    const logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: Naming.stateMachineLogGroup(stateMachineName),
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeLogGroup(logGroup);
    return logGroup;
  }
}
