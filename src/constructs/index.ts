/**
 * The constructs of sdlf, for custom pipeline types (`pipelines/<name>.ts` imports them from `sdlf/constructs`).
 */
export type { Construct } from 'constructs';
export type { DatasetConfig, DeploymentEnvironment } from '../config/model.js';
export { Naming } from '../config/naming.js';
export { CustomPipeline, type CustomPipelineProps, customPipelineType } from './custom-pipeline.js';
export {
  DATASET_PARAMETER_VERSION,
  DatasetResources,
  type DatasetResourcesProps,
  type HeavyTransformProps,
} from './dataset-resources.js';
export {
  FOUNDATIONS_PARAMETERS,
  Foundations,
  type FoundationsProps,
  KEYED_BUCKET_KINDS,
  type KeyedBucketKind,
  type KmsStrategy,
  LAKE_LOCATION_KINDS,
} from './foundations.js';
export { FoundationsReferences } from './foundations-references.js';
export { HeavyTransformStage, type HeavyTransformStageProps } from './heavy-transform-stage.js';
export { LightTransformStage, type LightTransformStageProps, type StageTask, stageDefinition } from './light-transform-stage.js';
export { MonitoredQueue, type MonitoredQueueProps } from './monitored-queue.js';
export { MonitoredStateMachine, type MonitoredStateMachineProps } from './monitored-state-machine.js';
export { acknowledge, acknowledgeWildcards } from './nag.js';
export {
  type DatasetRegistration,
  definePipelineType,
  type Pipeline,
  type PipelineContext,
  type PipelineHandler,
  type PipelineType,
} from './pipeline.js';
export { S3EventCapture, type S3EventCaptureProps } from './s3-event-capture.js';
export { SdlfFunction, type SdlfFunctionProps } from './sdlf-function.js';
export { dataRemovalPolicy, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, logRetention } from './settings.js';
export { captureDataset, StandardPipeline, type StandardPipelineProps, standardPipelineType } from './standard-pipeline.js';
