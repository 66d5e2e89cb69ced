import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type { Alarm, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, type Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Code, IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { FilterPattern, type ILogGroup, MetricFilter, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { CustomState, DefinitionBody, Fail, JsonPath, type StateMachine, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { type Naming, TABLE_KINDS } from '../config/naming.js';
import { DROPPED_EVENTS, HANDLER_ENV, MAX_RECEIVE_COUNT } from '../runtime/contract.js';
import { acknowledgeSqsManagedEncryption } from './checkov.js';
import { FoundationsReferences } from './foundations-references.js';
import { grantTeamMetadata } from './metadata-grants.js';
import { type AlarmFault, alarmOnFaults, deadLetterMetric, MonitoredQueue } from './monitored-queue.js';
import { MonitoredStateMachine } from './monitored-state-machine.js';
import { acknowledge, acknowledgeWildcards, indexesOf, objectsUnder, wildcardName } from './nag.js';
import { grantReadUnder } from './object-grants.js';
import type { PipelineContext } from './pipeline.js';
import { pipelineLogGroup } from './pipeline-log-group.js';
import { commonEnvironment } from './runtime-environment.js';
import { SdlfFunction } from './sdlf-function.js';
import { logRetention } from './settings.js';
import { PolicySharingQueue } from './stack-queue-policy.js';

/** Properties of a {@link LightTransformStage}. */
export interface LightTransformStageProps {
  /** Names of the environment. */
  readonly naming: Naming;
  /** The team. */
  readonly team: string;
  /** The pipeline type's name. */
  readonly pipeline: string;
  /** Code of the routing, stage-a-trigger and step handlers. */
  readonly code: { readonly routing: Code; readonly stageATrigger: Code; readonly step: Code };
  /** Retention of the pipeline's log group ({@link Naming.pipelineLogGroup}). @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Longest a stage A execution may run. @default Duration.minutes(30) */
  readonly executionTimeout?: Duration;
  /** Most stage A messages one trigger invocation starts. @default 10 */
  readonly batchSize?: number;
  /** Receives of a stage A message before it moves to the dead-letter queue. @default 3 */
  readonly maxReceiveCount?: number;
  /**
   * Whether the stage has an alarm of its own over its {@link LightTransformStage.faults}; a pipeline that alarms
   * once over all its stages' faults turns it off (as `StandardPipeline` does). @default true
   */
  readonly ownAlarm?: boolean;
}

/**
 * Stage A, the light transform, shared by a team's datasets: routing (an S3 event becomes a message on the team's
 * FIFO queue, grouped by dataset, deduplicated by object version), the queue and its dead-letter queue, the
 * trigger that starts one execution per message (partial batch failures reported), and the state machine
 * pre-update → Process (invokes the dataset's light-transform function named in the input) → post-update, with
 * every failure recorded by the error step before the execution fails.
 */
export class LightTransformStage extends Construct {
  /**
   * Creates the stage A of a team's pipeline from its context: the package's routing, trigger and step handlers
   * and the environment's log retention. The built-in pipeline types use it; a custom type may pass its own props.
   */
  static forPipeline(
    scope: Construct,
    id: string,
    context: PipelineContext,
    options: Pick<LightTransformStageProps, 'ownAlarm'> = {},
  ): LightTransformStage {
    return new LightTransformStage(scope, id, {
      naming: context.naming,
      team: context.team,
      pipeline: context.pipeline,
      code: {
        routing: context.handlerCode('routing'),
        stageATrigger: context.handlerCode('stage-a-trigger'),
        step: context.handlerCode('step'),
      },
      logRetention: logRetention(context.environment.logRetentionDays),
      ...options,
    });
  }

  /** Routing: the target of each dataset's S3 event rule. */
  readonly routingFunction: SdlfFunction;
  /** Pre-update, post-update and error steps of both stages. */
  readonly stepFunction: SdlfFunction;
  /** Starts executions from the queue. */
  readonly triggerFunction: SdlfFunction;
  /** The stage A queue and its dead-letter queue. */
  readonly queue: MonitoredQueue;
  /** Events of the team's dataset rules that EventBridge could not deliver to routing (standard queue). */
  readonly routingDeadLetterQueue: Queue;
  /**
   * What the stage alarms on: dead letters of the stage A queue, events in {@link routingDeadLetterQueue}, the
   * events routing dropped (malformed, or for objects outside every registered dataset), failed executions.
   */
  readonly faults: readonly AlarmFault[];
  /** The stage's alarm over {@link faults}, unless `ownAlarm` is off. */
  readonly alarm?: Alarm;
  /** The stage A state machine. */
  readonly stateMachine: StateMachine;
  /** The state machine with its log group and alarm. */
  readonly monitoredStateMachine: MonitoredStateMachine;

  private readonly naming: Naming;
  private readonly team: string;
  private readonly pipeline: string;
  private readonly foundations: FoundationsReferences;
  /** The {@link commonEnvironment} of every function of the stage. */
  private readonly commonEnv: Record<string, string>;
  /** ARN pattern of the team's dataset parameters. */
  private readonly datasetParameters: string;
  /** The pipeline's log group, shared by the stage's functions and state machine. */
  private readonly logGroup: ILogGroup;

  constructor(scope: Construct, id: string, props: LightTransformStageProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const executionTimeout = props.executionTimeout ?? Duration.minutes(30);
    const batchSize = props.batchSize ?? 10;
    const maxReceiveCount = props.maxReceiveCount ?? MAX_RECEIVE_COUNT;
    const { naming, team } = props;
    this.naming = naming;
    this.team = team;
    this.pipeline = props.pipeline;
    this.foundations = FoundationsReferences.of(this, naming);
    this.commonEnv = commonEnvironment(this.foundations, naming);
    this.datasetParameters = this.foundations.arn('ssm', 'parameter', naming.datasetParameter(team, '*').slice(1));
    this.logGroup = pipelineLogGroup(this, naming, team, props.pipeline, logRetention);

    this.queue = this.addQueue(maxReceiveCount);
    this.routingDeadLetterQueue = this.addRoutingDeadLetterQueue();
    this.routingFunction = this.addRoutingFunction(props.code.routing);
    const droppedEvents = this.countDroppedEvents();
    this.grantRouting(this.routingFunction.role);
    this.stepFunction = this.addStepFunction(props.code.step);
    this.grantStep(this.stepFunction.role);
    this.monitoredStateMachine = this.addStateMachine(executionTimeout);
    this.stateMachine = this.monitoredStateMachine.stateMachine;
    // Each dataset stack grants this role the invocation of its own light-transform function (see DatasetResources).
    this.triggerFunction = this.addTriggerFunction(props.code.stageATrigger);
    this.grantTrigger(this.triggerFunction.role);
    this.triggerFunction.function.addEventSource(
      new SqsEventSource(this.queue.queue, { batchSize, reportBatchItemFailures: true }),
    );
    this.faults = this.faultsOf(droppedEvents, maxReceiveCount);
    if (props.ownAlarm ?? true) {
      this.alarm = alarmOnFaults(
        this,
        'Alarm',
        this.faults,
        this.foundations.alarmTopic,
        `Stage A of ${team}'s ${props.pipeline} pipeline needs attention.`,
      );
    }
    this.acknowledgeFindings();
  }

  /** The stage's faults, each naming its queue, function or state machine. */
  private faultsOf(droppedEvents: IMetric, maxReceiveCount: number): AlarmFault[] {
    const { naming, team, pipeline } = this;
    const routing = naming.pipelineFunction(team, pipeline, 'routing');
    return [
      {
        id: 'stageADeadLetters',
        metric: this.queue.deadLetterMetric,
        fault: `messages of ${naming.stageAQueue(team, pipeline)} failed ${maxReceiveCount} times and wait in ${naming.stageADeadLetterQueue(team, pipeline)} (fix the cause, then "sdlf redrive")`,
      },
      {
        id: 'routingDeadLetters',
        metric: deadLetterMetric(this.routingDeadLetterQueue),
        fault: `events of new raw objects that EventBridge could not deliver to ${routing}, or that it failed on, wait in ${naming.routingDeadLetterQueue(team, pipeline)}`,
      },
      {
        id: 'droppedEvents',
        metric: droppedEvents,
        fault: `${routing} dropped events, malformed or under no registered dataset of ${team}: its "Dropped …" log lines name each object; register the dataset ("sdlf add-dataset") and upload it again`,
      },
      this.monitoredStateMachine.failureFault('stageAFailures'),
    ];
  }

  /** The team's FIFO stage A queue, with its dead-letter queue and alarm. */
  private addQueue(maxReceiveCount: number): MonitoredQueue {
    const { naming, team, pipeline } = this;
    return new MonitoredQueue(this, 'Queue', {
      queueName: naming.stageAQueue(team, pipeline),
      deadLetterQueueName: naming.stageADeadLetterQueue(team, pipeline),
      visibilityTimeout: Duration.minutes(6),
      maxReceiveCount,
    });
  }

  /** The dead-letter queue of the dataset rules' EventBridge targets and of routing's asynchronous invocations. */
  private addRoutingDeadLetterQueue(): Queue {
    const { naming, team, pipeline } = this;
    // EventBridge dead-letter queues must be standard queues, and SSE-SQS needs no key policy for EventBridge.
    const queue = new PolicySharingQueue(this, 'RoutingDeadLetterQueue', {
      queueName: naming.routingDeadLetterQueue(team, pipeline),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeSqsManagedEncryption(queue);
    acknowledge(
      queue,
      'AwsSolutions-SQS3',
      "This queue is itself a dead-letter queue: that of the dataset rules' EventBridge targets, in the dataset stacks.",
    );
    // The rules live in the dataset stacks: matched by name, so a new dataset changes nothing here.
    const datasetRules = Stack.of(this).formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: naming.datasetRule(team, '*'),
    });
    queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowDatasetRules',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': datasetRules } },
      }),
    );
    return queue;
  }

  /** The routing function, the target of each dataset's S3 event rule. */
  private addRoutingFunction(code: Code): SdlfFunction {
    const { naming, team, pipeline } = this;
    return new SdlfFunction(this, 'Routing', {
      functionName: naming.pipelineFunction(team, pipeline, 'routing'),
      roleName: naming.pipelineRole(team, pipeline, 'routing'),
      code,
      description: `Routes new raw objects of ${team}'s datasets to stage A of ${pipeline}`,
      // EventBridge invokes it asynchronously: an event it still fails on after Lambda's retries is kept here too.
      failures: { deadLetterQueue: this.routingDeadLetterQueue },
      logGroup: this.logGroup,
      environment: {
        ...this.commonEnv,
        [HANDLER_ENV.routing.team]: team,
        [HANDLER_ENV.routing.pipeline]: pipeline,
        [HANDLER_ENV.routing.stageAQueueUrl]: this.queue.queue.queueUrl,
      },
    });
  }

  /** Lets routing queue objects, record them and read the datasets' configuration. */
  private grantRouting(role: Role): void {
    const { foundations } = this;
    this.queue.queue.grantSendMessages(role);
    // routeObject records each object (putObject) under the team's keys.
    grantTeamMetadata(role, foundations, this.team, { 'object-metadata': ['PutItem'] });
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [this.datasetParameters] }));
  }

  /** The step function: pre-update, post-update and error steps of both stages. */
  private addStepFunction(code: Code): SdlfFunction {
    const { naming, team, pipeline, foundations } = this;
    return new SdlfFunction(this, 'Step', {
      functionName: naming.pipelineFunction(team, pipeline, 'step'),
      roleName: naming.pipelineRole(team, pipeline, 'step'),
      code,
      description: `Pre-update, post-update and error steps of ${team}'s ${pipeline} pipeline`,
      failures: {
        keptBy:
          "Invoked synchronously by the state machines, whose retries and Catch record the failure and dead-letter the object's message.",
      },
      logGroup: this.logGroup,
      environment: {
        ...this.commonEnv,
        [HANDLER_ENV.step.team]: team,
        [HANDLER_ENV.step.pipeline]: pipeline,
        [HANDLER_ENV.step.stageBucket]: foundations.bucket('stage').bucketName,
        [HANDLER_ENV.step.analyticsBucket]: foundations.bucket('analytics').bucketName,
        [HANDLER_ENV.step.stageADeadLetterQueueUrl]: this.queue.deadLetterQueue.queueUrl,
      },
    });
  }

  /** Lets the steps record in every metadata table, dead-letter messages and read the team's staged objects. */
  private grantStep(role: Role): void {
    const { foundations } = this;
    // The steps' store calls: putStagedObject and releaseStaged; getDataset, putDataset and recordPipelineRun;
    // startExecution, transition and getExecution.
    grantTeamMetadata(role, foundations, this.team, {
      'object-metadata': ['GetItem', 'PutItem', 'UpdateItem'],
      datasets: ['GetItem', 'PutItem', 'UpdateItem'],
      pipelines: ['PutItem'],
      'execution-history': ['GetItem', 'PutItem'],
    });
    this.queue.deadLetterQueue.grantSendMessages(role);
    // Each dataset stack grants this role its own stage B queue (see DatasetResources).
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [this.datasetParameters] }));
    grantReadUnder(foundations.bucket('stage'), role, `${this.team}/`);
    foundations.bucketKey('stage').grantDecrypt(role);
  }

  /** The state machine pre-update → Process (the dataset's light-transform function) → post-update. */
  private addStateMachine(timeout: Duration): MonitoredStateMachine {
    const definition = stageDefinition(this, this.stepFunction.function, {
      id: 'Process',
      comment: "Runs the dataset's light transform on the raw object",
      stateJson: {
        Type: 'Task',
        Resource: `arn:${Aws.PARTITION}:states:::lambda:invoke`,
        Parameters: {
          'FunctionName.$': '$$.Execution.Input.lightTransformFunction',
          Payload: {
            'bucket.$': '$$.Execution.Input.bucket',
            'key.$': '$$.Execution.Input.key',
            'versionId.$': '$$.Execution.Input.versionId',
            'team.$': '$$.Execution.Input.team',
            'dataset.$': '$$.Execution.Input.dataset',
            'executionId.$': '$$.Execution.Input.executionId',
          },
        },
        ResultSelector: { 'outputs.$': '$.Payload.outputs' },
        ResultPath: '$.result',
      },
      retryErrors: [
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ],
    });
    const { naming, team, pipeline } = this;
    return new MonitoredStateMachine(this, 'StateMachine', {
      stateMachineName: naming.stateMachine(team, pipeline, 'a'),
      roleName: naming.pipelineRole(team, pipeline, 'stage-a'),
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout,
      logGroup: this.logGroup,
    });
  }

  /** The trigger function, which starts one execution per queued object. */
  private addTriggerFunction(code: Code): SdlfFunction {
    const { naming, team, pipeline } = this;
    return new SdlfFunction(this, 'Trigger', {
      functionName: naming.pipelineFunction(team, pipeline, 'stage-a-trigger'),
      roleName: naming.pipelineRole(team, pipeline, 'stage-a-trigger'),
      code,
      description: `Starts a stage A execution of ${team}'s ${pipeline} pipeline per queued object`,
      failures: {
        keptBy:
          "Invoked by the stage A queue's event source: a failed message returns to the queue, whose redrive policy dead-letters it.",
      },
      logGroup: this.logGroup,
      environment: {
        ...this.commonEnv,
        [HANDLER_ENV['stage-a-trigger'].stateMachineArn]: this.stateMachine.stateMachineArn,
      },
    });
  }

  /** Lets the trigger start executions, read the datasets' parameters and record the executions. */
  private grantTrigger(role: Role): void {
    this.stateMachine.grantStartExecution(role);
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [this.datasetParameters] }));
    // startStageA reads the execution (getExecution).
    grantTeamMetadata(role, this.foundations, this.team, { 'execution-history': ['GetItem'] });
  }

  /** Records why the stage's wildcards, all scoped to the team, pass cdk-nag. */
  private acknowledgeFindings(): void {
    acknowledgeWildcards(
      this,
      `Scoped to ${this.team}'s resources: its datasets' parameters by path, and the grants CDK generates for named tables, buckets and keys.`,
      [
        /^Action::(s3|kms|dynamodb|sqs|states|lambda):[A-Za-z]*\*$/,
        /^Resource::<[A-Za-z0-9]+\.Arn>:\*$/,
        indexesOf(TABLE_KINDS.map((kind) => this.naming.table(kind))),
        objectsUnder([this.naming.bucket('stage')], `${this.team}/`),
        wildcardName(this.naming.datasetParameter(this.team, '*').slice(1)),
      ],
    );
  }

  /**
   * Counts the events routing drops, from its log lines (see {@link DROPPED_EVENTS}), per minute: an object uploaded
   * under a prefix no dataset is registered for would otherwise only leave a log line.
   */
  private countDroppedEvents(): IMetric {
    const functionName = this.routingFunction.function.functionName;
    const filter = new MetricFilter(this, 'DroppedEventsFilter', {
      logGroup: this.routingFunction.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', `${DROPPED_EVENTS.logPrefix}*`),
      metricNamespace: DROPPED_EVENTS.namespace,
      metricName: DROPPED_EVENTS.metricName,
      metricValue: '1',
      dimensions: { FunctionName: '$.function_name' },
    });
    return filter.metric({ statistic: 'Sum', period: Duration.minutes(1), dimensionsMap: { FunctionName: functionName } });
  }
}

/** The middle state of a stage: a custom task state with its id and Amazon States Language. */
export interface StageTask {
  readonly id: string;
  readonly comment: string;
  readonly stateJson: Record<string, unknown>;
  /** Transient service errors to retry (with backoff) before failing. */
  readonly retryErrors: readonly string[];
  /** Wait before the first retry. @default Duration.seconds(2) */
  readonly retryInterval?: Duration;
  /** @default 4 */
  readonly retryAttempts?: number;
}

/**
 * Builds pre-update → task → post-update, where any failure goes to the error step (which records it) and then
 * to a Fail state carrying the original error. Service errors of Lambda and Glue calls are retried.
 */
export function stageDefinition(scope: Construct, step: IFunction, task: StageTask) {
  const execution = JsonPath.objectAt('$$.Execution.Input');
  const invokeStep = (id: string, comment: string, payload: Record<string, unknown>) =>
    new LambdaInvoke(scope, id, {
      comment,
      lambdaFunction: step,
      payload: TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      resultPath: JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
  const fail = new Fail(scope, 'Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const recordFailure = invokeStep('RecordFailure', 'Records the failure and its cause', {
    step: 'error',
    execution,
    error: JsonPath.objectAt('$.error'),
  }).next(fail);
  const preUpdate = invokeStep('PreUpdate', 'Records the execution as STARTED', { step: 'pre-update', execution });
  const work = new CustomState(scope, task.id, { stateJson: { Comment: task.comment, ...task.stateJson } });
  const postUpdate = invokeStep('PostUpdate', 'Records the outputs and hands them to the next stage', {
    step: 'post-update',
    execution,
    result: JsonPath.objectAt('$.result'),
  });
  for (const state of [preUpdate, postUpdate]) state.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
  work.addRetry({
    errors: [...task.retryErrors],
    interval: task.retryInterval ?? Duration.seconds(2),
    maxAttempts: task.retryAttempts ?? 4,
    backoffRate: 2,
  });
  work.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
  return preUpdate.next(work).next(postUpdate);
}
