import { type Duration, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type ILogGroup, LogGroup } from 'aws-cdk-lib/aws-logs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BUILTIN_PIPELINE_STAGE_B } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { DatasetResources } from './dataset-resources.js';
import { FoundationsReferences } from './foundations-references.js';
import { HeavyTransformStage } from './heavy-transform-stage.js';
import { LightTransformStage } from './light-transform-stage.js';
import { alarmOnFaults } from './monitored-queue.js';
import { type DatasetRegistration, definePipelineType, type Pipeline, type PipelineContext } from './pipeline.js';
import { S3EventCapture } from './s3-event-capture.js';
import { logRetention } from './settings.js';

/** Properties of a {@link StandardPipeline}. */
export interface StandardPipelineProps {
  /** The team, environment and handler code. */
  readonly context: PipelineContext;
  /** Longest a staged object waits for stage B's trigger (at most 5 minutes). @default Duration.minutes(5) */
  readonly stageBWait?: Duration;
}

/**
 * The seed's reference pipeline: S3 event capture → stage A (light transform, per object) → stage B (Glue job,
 * per batch). The team's stages live in the pipeline stack; each dataset adds its event rule, light-transform
 * function, Glue database and job, stage B queue, grants and configuration in its own stack.
 */
export class StandardPipeline extends Construct implements Pipeline {
  /** The type name datasets use in `parameters.json`. */
  static readonly PIPELINE_TYPE = 'standard';
  readonly pipelineType: string;
  /** Stage A. */
  readonly lightTransform: LightTransformStage;
  /** Stage B. */
  readonly heavyTransform: HeavyTransformStage;
  /** The pipeline's one alarm, over the faults of both stages. */
  readonly alarm: Alarm;
  private readonly context: PipelineContext;

  constructor(scope: Construct, id: string, props: StandardPipelineProps) {
    super(scope, id);
    const { context } = props;
    this.context = context;
    this.pipelineType = context.pipeline;
    const retention = logRetention(context.environment.logRetentionDays);
    // One alarm over both stages' faults, rather than one per stage.
    this.lightTransform = LightTransformStage.forPipeline(this, 'LightTransform', context, { ownAlarm: false });
    this.heavyTransform = new HeavyTransformStage(this, 'HeavyTransform', {
      naming: context.naming,
      team: context.team,
      pipeline: context.pipeline,
      stepFunction: this.lightTransform.stepFunction.function,
      triggerCode: context.handlerCode('stage-b-trigger'),
      wait: props.stageBWait,
      logRetention: retention,
      ownAlarm: false,
    });
    this.alarm = alarmOnFaults(
      this,
      'Alarm',
      [...this.lightTransform.faults, ...this.heavyTransform.faults],
      FoundationsReferences.of(this, context.naming).alarmTopic,
      `The ${context.pipeline} pipeline of team ${context.team} needs attention.`,
    );
  }

  registerDataset(scope: Construct, dataset: string, registration: DatasetRegistration): void {
    captureDataset(scope, this.context, dataset);
    new DatasetResources(scope, 'Dataset', {
      naming: this.context.naming,
      config: registration.config,
      lightTransformCode: registration.lightTransformCode,
      heavyTransform: { dir: registration.heavyTransformDir, script: registration.heavyTransformScript },
      logGroup: importPipelineLogGroup(scope, this.context),
    });
  }
}

/**
 * Routes a dataset's new raw objects to its team's pipeline: an {@link S3EventCapture} on `raw/{team}/{dataset}/`
 * whose target is the pipeline's routing function, with the pipeline's routing dead-letter queue for the events
 * it cannot deliver; both referred to by name so no export links the stacks.
 */
export function captureDataset(scope: Construct, context: PipelineContext, dataset: string): S3EventCapture {
  const { naming, team, pipeline } = context;
  const foundations = FoundationsReferences.of(scope, naming);
  const routing = LambdaFunction.fromFunctionAttributes(scope, 'Routing', {
    functionArn: foundations.arn('lambda', 'function', naming.pipelineFunction(team, pipeline, 'routing'), true),
    sameEnvironment: true,
  });
  // The pipeline stack's queue, by name; its policy lets the team's dataset rules send (see LightTransformStage).
  const deadLetterQueue = Queue.fromQueueArn(
    scope,
    'RoutingDeadLetterQueue',
    Stack.of(scope).formatArn({ service: 'sqs', resource: naming.routingDeadLetterQueue(team, pipeline) }),
  );
  return new S3EventCapture(scope, 'S3EventCapture', {
    bucket: foundations.bucket('raw'),
    prefix: Naming.datasetPrefix(team, dataset),
    ruleName: naming.datasetRule(team, dataset),
    target: routing,
    deadLetterQueue,
  });
}

/**
 * The log group of the dataset's team pipeline, by name, for the dataset's light transform: `sdlf logs` reads a
 * dataset's light transform there, in the streams named after its function.
 */
export function importPipelineLogGroup(scope: Construct, context: PipelineContext): ILogGroup {
  return LogGroup.fromLogGroupName(scope, 'PipelineLogGroup', context.naming.pipelineLogGroup(context.team, context.pipeline));
}

/** The built-in `standard` pipeline type. */
export const standardPipelineType = definePipelineType({
  pipelineType: StandardPipeline.PIPELINE_TYPE,
  description: 'S3 event → stage A light transform (Lambda) → stage B heavy transform (Glue)',
  stageB: BUILTIN_PIPELINE_STAGE_B.standard,
  create: (scope: Construct, context: PipelineContext): Pipeline => new StandardPipeline(scope, 'Pipeline', { context }),
});
