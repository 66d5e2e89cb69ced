import { Aws, Duration, Stack } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Code, IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, type StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Naming } from '../config/naming.js';
import { HANDLER_ENV } from '../runtime/contract.js';
import { FoundationsReferences } from './foundations-references.js';
import { stageDefinition, wildcardName } from './light-transform-stage.js';
import { MonitoredStateMachine } from './monitored-state-machine.js';
import { acknowledgeWildcards } from './nag.js';
import { commonEnvironment } from './runtime-environment.js';
import { SdlfFunction } from './sdlf-function.js';
import { DEFAULT_STAGE_B_SCHEDULE } from './settings.js';

/** Properties of a {@link HeavyTransformStage}. */
export interface HeavyTransformStageProps {
  /** Names of the environment. */
  readonly naming: Naming;
  /** The team. */
  readonly team: string;
  /** The pipeline type's name. */
  readonly pipeline: string;
  /** The step function (pre-update, post-update, error), usually stage A's. */
  readonly stepFunction: IFunction;
  /** Code of the stage-b-trigger handler. */
  readonly triggerCode: Code;
  /** How often the trigger batches each dataset's staged objects. @default Duration.minutes(5) */
  readonly schedule?: Duration;
  /** Retention of the trigger's and state machine's logs. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Longest a stage B execution (one Glue job run) may take. @default Duration.hours(6) */
  readonly executionTimeout?: Duration;
}

/**
 * Stage B, the heavy transform, shared by a team's datasets: a trigger on a schedule turns each dataset's stage B
 * queue into batches (between the dataset's min and max items), writes the batch's manifest and starts one
 * execution per batch; the state machine runs pre-update → the dataset's Glue job through
 * `glue:startJobRun.sync` (no polling loop: FAILED, STOPPED, TIMEOUT and ERROR all fail the task) with the job
 * name and arguments from the input → post-update, and records any failure before failing.
 */
export class HeavyTransformStage extends Construct {
  /** Batches staged objects and starts executions. */
  readonly triggerFunction: SdlfFunction;
  /** The schedule of the trigger. */
  readonly schedule: Rule;
  /** The stage B state machine. */
  readonly stateMachine: StateMachine;
  /** The state machine with its log group and alarm. */
  readonly monitoredStateMachine: MonitoredStateMachine;

  constructor(scope: Construct, id: string, props: HeavyTransformStageProps) {
    super(scope, id);
    const { naming, team, pipeline } = props;
    const schedule = props.schedule ?? DEFAULT_STAGE_B_SCHEDULE;
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const executionTimeout = props.executionTimeout ?? Duration.hours(6);
    const foundations = FoundationsReferences.of(this, naming);
    const stack = Stack.of(this);

    const input = (field: string) => `$$.Execution.Input.${field}`;
    const definition = stageDefinition(this, props.stepFunction, {
      id: 'RunGlueJob',
      comment: "Runs the dataset's Glue job on the batch and waits for it to end",
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Aws.PARTITION}:states:::glue:startJobRun.sync`,
        Parameters: {
          'JobName.$': input('glueJob'),
          Arguments: {
            '--manifest.$': input('manifest'),
            '--team.$': input('team'),
            '--dataset.$': input('dataset'),
            '--database.$': input('glueDatabase'),
            '--execution-id.$': input('executionId'),
          },
        },
        ResultSelector: {
          'jobRunId.$': '$.Id',
          'jobRunState.$': '$.JobRunState',
          'executionTime.$': '$.ExecutionTime',
        },
        ResultPath: '$.result',
      },
      // A dataset's job runs one batch at a time: a second batch waits (up to ~30 min) instead of failing.
      retryErrors: ['Glue.ConcurrentRunsExceededException', 'Glue.InternalServiceException', 'Glue.ThrottlingException'],
      retryInterval: Duration.seconds(30),
      retryAttempts: 6,
    });
    this.monitoredStateMachine = new MonitoredStateMachine(this, 'StateMachine', {
      stateMachineName: naming.stateMachine(team, pipeline, 'b'),
      roleName: naming.pipelineRole(team, pipeline, 'stage-b'),
      definitionBody: DefinitionBody.fromChainable(definition),
      alarmTopic: foundations.alarmTopic,
      timeout: executionTimeout,
      logRetention,
    });
    this.stateMachine = this.monitoredStateMachine.stateMachine;
    // Each dataset stack grants this role its own Glue job, and the trigger and step roles its own stage B queue
    // and dead-letter queue (see DatasetResources): no statement here matches another team's names.

    this.triggerFunction = new SdlfFunction(this, 'Trigger', {
      functionName: naming.pipelineFunction(team, pipeline, 'stage-b-trigger'),
      roleName: naming.pipelineRole(team, pipeline, 'stage-b-trigger'),
      code: props.triggerCode,
      description: `Batches staged objects of ${team}'s ${pipeline} datasets into stage B executions`,
      failures: {
        keptBy:
          'Invoked by its schedule (and sdlf trigger) with no data in the event: a failed run leaves the staged objects on their stage B queues for the next one.',
      },
      logRetention,
      timeout: Duration.minutes(5),
      environment: {
        ...commonEnvironment(foundations, naming),
        [HANDLER_ENV['stage-b-trigger'].team]: team,
        [HANDLER_ENV['stage-b-trigger'].pipeline]: pipeline,
        [HANDLER_ENV['stage-b-trigger'].stateMachineArn]: this.stateMachine.stateMachineArn,
        [HANDLER_ENV['stage-b-trigger'].artifactsBucket]: foundations.bucket('artifacts').bucketName,
      },
    });
    const role = this.triggerFunction.role;
    this.stateMachine.grantStartExecution(role);
    const teamParameters = naming.datasetParameter(team, '').slice(1, -1);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ssm:GetParametersByPath', 'ssm:GetParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: teamParameters }),
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${teamParameters}/*` }),
        ],
      }),
    );
    // Writes each batch's manifest, and reads it back to resume a batch an earlier run did not finish handing
    // over (a GET of a missing manifest must answer 404, not 403, hence the list grant of grantRead).
    foundations.bucket('artifacts').grantPut(role, `manifests/${team}/*`);
    foundations.bucket('artifacts').grantRead(role, `manifests/${team}/*`);
    foundations.bucketKey('artifacts').grantEncryptDecrypt(role);
    foundations.table('execution-history').grantReadWriteData(role);
    // Claims the staged objects of each batch (ObjectMetadata.batchId).
    foundations.table('object-metadata').grantReadWriteData(role);

    this.schedule = new Rule(this, 'Schedule', {
      ruleName: naming.stageBScheduleRule(team, pipeline),
      description: `Starts stage B of ${team}'s ${pipeline} datasets every ${schedule.toHumanString()}`,
      schedule: Schedule.rate(schedule),
      targets: [new LambdaTarget(this.triggerFunction.function, { retryAttempts: 2 })],
    });

    // The step function's stage B steps: post-update reads the job result beside the manifest (a GET of a missing
    // result must answer 404, not 403, hence the list grant of grantRead); the error step dead-letters the batch's
    // keys to the dataset's dead-letter queue, which the dataset stack grants.
    const stepRole = props.stepFunction.role;
    if (stepRole) {
      foundations.bucket('artifacts').grantRead(stepRole, `manifests/${team}/*`);
      foundations.bucketKey('artifacts').grantDecrypt(stepRole);
      acknowledgeWildcards(stepRole, `Stage B steps of ${team}: the job results under manifests/${team}/.`, [
        /^Action::(s3|kms):[A-Za-z]*\*$/,
        /^Resource::arn:<AWS::Partition>:s3:::<SsmParameterValue[A-Za-z0-9]+>\/manifests\/[a-z0-9-]+\/\*$/,
      ]);
    }

    acknowledgeWildcards(
      this,
      `Scoped to ${team}'s resources: its datasets' parameters by path, its manifests by prefix, and the grants CDK generates for named tables, buckets and keys.`,
      [
        /^Action::(s3|kms|dynamodb|sqs|states|lambda):[A-Za-z]*\*$/,
        /^Resource::<[A-Za-z0-9]+\.Arn>:\*$/,
        /^Resource::arn:<AWS::Partition>:dynamodb:[^:]*:[^:]*:table\/<SsmParameterValue[A-Za-z0-9]+>\/index\/\*$/,
        /^Resource::arn:<AWS::Partition>:s3:::<SsmParameterValue[A-Za-z0-9]+>\/manifests\/[a-z0-9-]+\/\*$/,
        wildcardName(`${teamParameters}/*`),
      ],
    );
  }
}
