import { Construct } from 'constructs';
import { BUILTIN_PIPELINE_STAGE_B } from '../config/model.js';
import { DatasetResources } from './dataset-resources.js';
import { LightTransformStage } from './light-transform-stage.js';
import { type DatasetRegistration, definePipelineType, type Pipeline, type PipelineContext } from './pipeline.js';
import { captureDataset, importPipelineLogGroup } from './standard-pipeline.js';

/** Properties of a {@link CustomPipeline}. */
export interface CustomPipelineProps {
  /** The team, environment and handler code. */
  readonly context: PipelineContext;
}

/**
 * Stage A only: S3 event capture → routing → light transform → stage bucket. Each dataset adds its event rule,
 * light-transform function, Glue database and configuration; there is no Glue job or stage B queue.
 */
export class CustomPipeline extends Construct implements Pipeline {
  /** The type name datasets use in `parameters.json`. */
  static readonly PIPELINE_TYPE = 'custom';
  readonly pipelineType: string;
  /** Stage A. */
  readonly lightTransform: LightTransformStage;
  private readonly context: PipelineContext;

  constructor(scope: Construct, id: string, props: CustomPipelineProps) {
    super(scope, id);
    const { context } = props;
    this.context = context;
    this.pipelineType = context.pipeline;
    this.lightTransform = LightTransformStage.forPipeline(this, 'LightTransform', context);
  }

  registerDataset(scope: Construct, _dataset: string, registration: DatasetRegistration): void {
    captureDataset(scope, this.context, registration.config.dataset);
    new DatasetResources(scope, 'Dataset', {
      naming: this.context.naming,
      config: registration.config,
      lightTransformCode: registration.lightTransformCode,
      logGroup: importPipelineLogGroup(scope, this.context),
    });
  }
}

/** The built-in `custom` pipeline type. */
export const customPipelineType = definePipelineType({
  pipelineType: CustomPipeline.PIPELINE_TYPE,
  description: 'S3 event → stage A light transform (Lambda) only',
  stageB: BUILTIN_PIPELINE_STAGE_B.custom,
  create: (scope: Construct, context: PipelineContext): Pipeline => new CustomPipeline(scope, 'Pipeline', { context }),
});
