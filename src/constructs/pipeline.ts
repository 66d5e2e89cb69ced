import type { Code } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { DatasetConfig, DeploymentEnvironment } from '../config/model.js';
import type { Naming } from '../config/naming.js';
import type { HandlerName } from '../runtime/contract.js';

/** Prebuilt handlers a pipeline can deploy; `light-transform` is built per dataset (see {@link DatasetRegistration}). */
export type PipelineHandler = Exclude<HandlerName, 'light-transform'>;

/** What a pipeline type gets to build one team's pipeline. */
export interface PipelineContext {
  /** The deployment environment (`dev`, `prod`, …). */
  readonly environment: DeploymentEnvironment;
  /** Every physical name of the environment. */
  readonly naming: Naming;
  /** The team the pipeline belongs to. */
  readonly team: string;
  /** The pipeline type's name, as datasets name it in `parameters.json`. */
  readonly pipeline: string;
  /** Returns the code of a prebuilt sdlf handler. */
  handlerCode(name: PipelineHandler): Code;
}

/** What a pipeline gets to register one dataset. */
export interface DatasetRegistration {
  /** The dataset's entry of `parameters.json`, defaults applied. */
  readonly config: DatasetConfig;
  /** The light-transform function's code: the sdlf handler bundled with the dataset's `transforms/light/<name>.ts`. */
  readonly lightTransformCode: Code;
  /** Absolute path of `transforms/heavy/<stage_b_transform>/` (holds `transform.sql`, and `main.py` if the user owns it). */
  readonly heavyTransformDir: string;
  /** Absolute path of the Glue job's script: the folder's own `main.py`, or the runner that ships with sdlf. */
  readonly heavyTransformScript: string;
}

/**
 * One team's instance of a pipeline type: its shared infrastructure lives in the pipeline stack; what is specific
 * to a dataset is created by {@link Pipeline.registerDataset} in the dataset's own stack. The TypeScript form of
 * the seed's `SDLFPipeline` protocol (`PIPELINE_TYPE` + `register_dataset`).
 */
export interface Pipeline {
  /** The pipeline type's name. */
  readonly pipelineType: string;
  /**
   * Creates the dataset's resources under `scope` (the dataset stack) and wires them to this pipeline. It must
   * refer to the pipeline's resources by name (the naming module) or through SSM parameters, never by object:
   * an object reference would become a CloudFormation export between the stacks.
   */
  registerDataset(scope: Construct, dataset: string, registration: DatasetRegistration): void;
}

/** A pipeline type: what `parameters.json` names in `pipeline`, and how to build it. */
export interface PipelineType {
  /** Name datasets use to register to it: lowercase letters, digits and dashes. */
  readonly pipelineType: string;
  /** One line shown by `sdlf synth` and `sdlf validate`. @default none */
  readonly description?: string;
  /**
   * Whether datasets of this type have a stage B (the heavy transform on Glue). `sdlf run --local` runs the
   * dataset's `transform.sql` only for types that have one. @default true
   */
  readonly stageB?: boolean;
  /** Builds one team's pipeline under `scope` (the pipeline stack). */
  create(scope: Construct, context: PipelineContext): Pipeline;
}

/** Declares a pipeline type with its type checked; the default export of a `pipelines/<name>.ts` module. */
export function definePipelineType<T extends PipelineType>(type: T): T {
  return type;
}
