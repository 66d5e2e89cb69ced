import { Annotations, Aws, Duration, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { type IRole, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { type Code, type IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type ILogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, type StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type Naming, TABLE_KINDS } from '../config/naming.js';
import { HANDLER_ENV, STAGE_B_RECEIVE_VISIBILITY_SECONDS } from '../runtime/contract.js';
import { acknowledgeSqsManagedEncryption } from './checkov.js';
import { FoundationsReferences } from './foundations-references.js';
import { stageDefinition } from './light-transform-stage.js';
import { grantTeamMetadata } from './metadata-grants.js';
import { type AlarmFault, alarmOnFaults } from './monitored-queue.js';
import { MonitoredStateMachine } from './monitored-state-machine.js';
import { acknowledge, acknowledgeWildcards, indexesOf, objectsUnder, wildcardName } from './nag.js';
import { grantReadUnder } from './object-grants.js';
import { pipelineLogGroup } from './pipeline-log-group.js';
import { commonEnvironment } from './runtime-environment.js';
import { SdlfFunction } from './sdlf-function.js';
import { DEFAULT_STAGE_B_WAIT, MAX_STAGE_B_WAIT } from './settings.js';
import { PolicySharingQueue } from './stack-queue-policy.js';

/** Longest a trigger run may take. */
const TRIGGER_TIMEOUT = Duration.minutes(5);
const STAGE_B_VISIBILITY = Duration.seconds(STAGE_B_RECEIVE_VISIBILITY_SECONDS);

/** Properties of a {@link HeavyTransformStage}. */
export interface HeavyTransformStageProps {
  /** Names of the environment. */
  readonly naming: Naming;
  /** The team. */
  readonly team: string;
  /** The pipeline type's name. */
  readonly pipeline: string;
  /**
   * The step function (pre-update, post-update, error), usually stage A's. Its stage A post-update wakes this
   * stage: a `Function` gets the wake queue's URL in its environment (an imported function must be given it).
   */
  readonly stepFunction: IFunction;
  /** Code of the stage-b-trigger handler. */
  readonly triggerCode: Code;
  /**
   * Longest a staged object waits for the trigger: the wake queue's batching window, so the objects staged within
   * it start as one batch. At most 5 minutes (Lambda's limit). @default Duration.minutes(5)
   */
  readonly wait?: Duration;
  /** Retention of the pipeline's log group ({@link Naming.pipelineLogGroup}). @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Longest a stage B execution (one Glue job run) may take. @default Duration.hours(6) */
  readonly executionTimeout?: Duration;
  /**
   * Whether the stage has an alarm of its own over its {@link HeavyTransformStage.faults}; a pipeline that alarms
   * once over all its stages' faults turns it off (as `StandardPipeline` does). @default true
   */
  readonly ownAlarm?: boolean;
}

/**
 * Stage B, the heavy transform, shared by a team's datasets. Stage A's post-update sends a message to the wake
 * queue for each object it stages; the queue's event source invokes the trigger once per batching window with
 * every wake of that window, so a team with no arrivals invokes nothing. The trigger turns each dataset's stage B
 * queue into batches (between the dataset's min and max items), writes the batch's manifest and starts one
 * execution per batch; the state machine runs pre-update → the dataset's Glue job through
 * `glue:startJobRun.sync` (no polling loop: FAILED, STOPPED, TIMEOUT and ERROR all fail the task) with the job
 * name and arguments from the input → post-update, and records any failure before failing.
 */
export class HeavyTransformStage extends Construct {
  /** Batches staged objects and starts executions. */
  readonly triggerFunction: SdlfFunction;
  /** Wakes the trigger: one message per staged object, read by the trigger's SQS event source. */
  readonly wakeQueue: Queue;
  /** The stage B state machine. */
  readonly stateMachine: StateMachine;
  /** The state machine with its log group. */
  readonly monitoredStateMachine: MonitoredStateMachine;
  /** What the stage alarms on: failed executions (a dataset's stage B dead letters alarm in its own stack). */
  readonly faults: readonly AlarmFault[];
  /** The stage's alarm over {@link faults}, unless `ownAlarm` is off. */
  readonly alarm?: Alarm;

  private readonly naming: Naming;
  private readonly team: string;
  private readonly pipeline: string;
  private readonly foundations: FoundationsReferences;
  /** The pipeline's log group, shared by the stage's function and state machine. */
  private readonly logGroup: ILogGroup;

  constructor(scope: Construct, id: string, props: HeavyTransformStageProps) {
    super(scope, id);
    const wait = props.wait ?? DEFAULT_STAGE_B_WAIT;
    assertWait(wait);
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const executionTimeout = props.executionTimeout ?? Duration.hours(6);
    this.naming = props.naming;
    this.team = props.team;
    this.pipeline = props.pipeline;
    this.foundations = FoundationsReferences.of(this, props.naming);
    this.logGroup = pipelineLogGroup(this, props.naming, props.team, props.pipeline, logRetention);

    this.monitoredStateMachine = this.addStateMachine(props.stepFunction, executionTimeout);
    this.stateMachine = this.monitoredStateMachine.stateMachine;
    // Each dataset stack grants this role its own Glue job, and the trigger and step roles its own stage B queue
    // and dead-letter queue (see DatasetResources): no statement here matches another team's names.

    this.triggerFunction = this.addTriggerFunction(props.triggerCode);
    this.grantTrigger(this.triggerFunction.role);
    this.wakeQueue = this.addWakeQueue(wait);
    this.connectWakeQueue(props.stepFunction);
    const stepRole = props.stepFunction.role;
    if (stepRole) this.grantStageBSteps(stepRole);
    this.faults = [this.monitoredStateMachine.failureFault('stageBFailures')];
    if (props.ownAlarm ?? true) {
      this.alarm = alarmOnFaults(
        this,
        'Alarm',
        this.faults,
        this.foundations.alarmTopic,
        `Stage B of ${this.team}'s ${this.pipeline} pipeline needs attention.`,
      );
    }
    this.acknowledgeFindings();
  }

  /** The state machine pre-update → the dataset's Glue job (`glue:startJobRun.sync`) → post-update. */
  private addStateMachine(stepFunction: IFunction, timeout: Duration): MonitoredStateMachine {
    const input = (field: string) => `$$.Execution.Input.${field}`;
    const definition = stageDefinition(this, stepFunction, {
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
    const { naming, team, pipeline } = this;
    return new MonitoredStateMachine(this, 'StateMachine', {
      stateMachineName: naming.stateMachine(team, pipeline, 'b'),
      roleName: naming.pipelineRole(team, pipeline, 'stage-b'),
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout,
      logGroup: this.logGroup,
    });
  }

  /** The trigger function, which batches the team's stage B queues into executions of the state machine. */
  private addTriggerFunction(code: Code): SdlfFunction {
    const { naming, team, pipeline, foundations } = this;
    return new SdlfFunction(this, 'Trigger', {
      functionName: naming.pipelineFunction(team, pipeline, 'stage-b-trigger'),
      roleName: naming.pipelineRole(team, pipeline, 'stage-b-trigger'),
      code,
      description: `Batches staged objects of ${team}'s ${pipeline} datasets into stage B executions`,
      failures: {
        keptBy:
          'Invoked by its wake queue (SQS event source) and by sdlf trigger: a failed run leaves the wake messages on the queue, retried after its visibility timeout, and the staged objects on their stage B queues.',
      },
      logGroup: this.logGroup,
      timeout: TRIGGER_TIMEOUT,
      environment: {
        ...commonEnvironment(foundations, naming),
        [HANDLER_ENV['stage-b-trigger'].team]: team,
        [HANDLER_ENV['stage-b-trigger'].pipeline]: pipeline,
        [HANDLER_ENV['stage-b-trigger'].stateMachineArn]: this.stateMachine.stateMachineArn,
        [HANDLER_ENV['stage-b-trigger'].artifactsBucket]: foundations.bucket('artifacts').bucketName,
      },
    });
  }

  /** Lets the trigger read the team's dataset parameters, write and read manifests and start executions. */
  private grantTrigger(role: Role): void {
    const { foundations, team } = this;
    const stack = Stack.of(this);
    this.stateMachine.grantStartExecution(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ssm:GetParametersByPath', 'ssm:GetParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.teamParameters }),
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${this.teamParameters}/*` }),
        ],
      }),
    );
    // Writes each batch's manifest, and reads it back to resume a batch an earlier run did not finish handing
    // over (a missing manifest is told from a denied one by listing its key, see grantReadUnder).
    foundations.bucket('artifacts').grantPut(role, `manifests/${team}/*`);
    grantReadUnder(foundations.bucket('artifacts'), role, `manifests/${team}/`);
    foundations.bucketKey('artifacts').grantEncryptDecrypt(role);
    // Looks each batch's execution up (getExecution) and claims its staged objects (stagedClaims, claimStaged,
    // releaseStaged: ObjectMetadata.batchId).
    grantTeamMetadata(role, foundations, team, {
      'execution-history': ['GetItem'],
      'object-metadata': ['BatchGetItem', 'GetItem', 'UpdateItem'],
    });
  }

  /**
   * Gives the trigger and the step function the wake queue's URL and lets them send to it; an imported step
   * function cannot be given the URL, which a warning says.
   */
  private connectWakeQueue(stepFunction: IFunction): void {
    this.triggerFunction.function.addEnvironment(HANDLER_ENV['stage-b-trigger'].wakeQueueUrl, this.wakeQueue.queueUrl);
    this.wakeQueue.grantSendMessages(this.triggerFunction.role);
    if (stepFunction.role) this.wakeQueue.grantSendMessages(stepFunction.role);
    if (stepFunction instanceof LambdaFunction) {
      stepFunction.addEnvironment(HANDLER_ENV.step.stageBWakeQueueUrl, this.wakeQueue.queueUrl);
    } else {
      Annotations.of(this).addWarningV2(
        'sdlf:stage-b-wake',
        `The step function is imported: give it ${HANDLER_ENV.step.stageBWakeQueueUrl}=${this.naming.stageBWakeQueue(this.team, this.pipeline)}'s URL, or stage B starts only by sdlf trigger.`,
      );
    }
  }

  /**
   * The step function's stage B steps: post-update reads the job result beside the manifest (a GET of a missing
   * result is told from a denied one by listing its key, see grantReadUnder); the error step dead-letters the batch's
   * keys to the dataset's dead-letter queue, which the dataset stack grants.
   */
  private grantStageBSteps(stepRole: IRole): void {
    const { foundations, team } = this;
    grantReadUnder(foundations.bucket('artifacts'), stepRole, `manifests/${team}/`);
    foundations.bucketKey('artifacts').grantDecrypt(stepRole);
    acknowledgeWildcards(stepRole, `Stage B steps of ${team}: the job results under manifests/${team}/.`, [
      /^Action::(s3|kms):[A-Za-z]*\*$/,
      objectsUnder([this.naming.bucket('artifacts')], `manifests/${team}/`),
    ]);
  }

  /** Records why the stage's wildcards, all scoped to the team, pass cdk-nag. */
  private acknowledgeFindings(): void {
    acknowledgeWildcards(
      this,
      `Scoped to ${this.team}'s resources: its datasets' parameters by path, its manifests by prefix, and the grants CDK generates for named tables, buckets and keys.`,
      [
        /^Action::(s3|kms|dynamodb|sqs|states|lambda):[A-Za-z]*\*$/,
        /^Resource::<[A-Za-z0-9]+\.Arn>:\*$/,
        indexesOf(TABLE_KINDS.map((kind) => this.naming.table(kind))),
        objectsUnder([this.naming.bucket('artifacts')], `manifests/${this.team}/`),
        wildcardName(`${this.teamParameters}/*`),
      ],
    );
  }

  /** Path of the team's dataset parameters, without its leading and trailing slashes. */
  private get teamParameters(): string {
    return this.naming.datasetParameter(this.team, '').slice(1, -1);
  }

  /**
   * The wake queue and the trigger's event source on it. Its visibility timeout outlasts a batching window, a
   * trigger run and the stage B messages' own visibility timeout together, so a wake that a failed or stopped
   * run puts back comes after the staged objects it is for are visible again. Wakes carry no data: no
   * dead-letter queue: a failing trigger is retried until it succeeds (its failures show in its Errors metric and
   * log; no alarm watches them).
   */
  private addWakeQueue(wait: Duration): Queue {
    const queue = new PolicySharingQueue(this, 'WakeQueue', {
      queueName: this.naming.stageBWakeQueue(this.team, this.pipeline),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(wait.toSeconds() + TRIGGER_TIMEOUT.toSeconds() + STAGE_B_VISIBILITY.toSeconds()),
      retentionPeriod: Duration.days(14),
    });
    acknowledgeSqsManagedEncryption(queue);
    acknowledge(
      queue,
      'AwsSolutions-SQS3',
      'Wake messages carry no data (the staged objects are on the stage B queues): a failed trigger run leaves them on this queue to retry, so none is dead-lettered.',
    );
    this.triggerFunction.function.addEventSource(
      new SqsEventSource(queue, { batchSize: 10_000, maxBatchingWindow: wait, maxConcurrency: 2 }),
    );
    return queue;
  }
}

/** Fails unless the wait is whole seconds within Lambda's batching window. */
function assertWait(wait: Duration): void {
  const ms = wait.toMilliseconds();
  if (ms < 1000 || ms > MAX_STAGE_B_WAIT.toMilliseconds() || ms % 1000 !== 0) {
    throw new Error(
      `HeavyTransformStage wait must be whole seconds between 1 second and ${MAX_STAGE_B_WAIT.toHumanString()} (Lambda's batching window), got ${wait.toHumanString()}.`,
    );
  }
}
