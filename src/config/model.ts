/** The CI/CD environment of a project, with defaults applied. */
export interface CicdEnvironment {
  readonly account: string;
  readonly region: string;
  /** Deploys through the CI/CD pipeline. */
  readonly enabled: boolean;
  /** Prefix of the CI/CD pipeline stack (`{prefix}-cicd-pipeline`). */
  readonly resourcePrefix: string;
  readonly source: PipelineSource;
  readonly tags: Readonly<Record<string, string>>;
}

/** Where the CI/CD pipeline reads the project from. */
export type PipelineSource =
  | { readonly provider: 'codecommit'; readonly repository: string; readonly branch: string }
  | {
      readonly provider: 'codeconnections';
      readonly connectionArn: string;
      /** `owner/name`. */
      readonly repository: string;
      readonly branch: string;
    };

/** A deployment environment (`dev`, `prod`, …) with defaults applied. */
export interface DeploymentEnvironment {
  /** The key in `ddk.json` (`dev`). Appears in every physical name. */
  readonly id: string;
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly resourcePrefix: string;
  readonly manualApprovals: boolean;
  readonly org: string;
  readonly app: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly notificationEmail?: string;
  readonly removeDataOnDestroy: boolean;
  readonly kmsStrategy: 'shared' | 'per-bucket';
  readonly logRetentionDays: number;
}

/**
 * A dataset registered in `parameters.json`, with defaults applied: the one declaration of a dataset's
 * registration. The runtime's SSM `DatasetParameter` and the `Datasets` metadata item extend it.
 */
export interface DatasetConfig {
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  readonly stageATransform: string;
  readonly stageBTransform: string;
  readonly minItemsProcess: number;
  readonly maxItemsProcess: number;
}

/** Copies the registration fields of `source` (a `DatasetConfig`, `DatasetParameter` or `Datasets` item), in declaration order. */
export function datasetConfigOf(source: DatasetConfig): DatasetConfig {
  return {
    team: source.team,
    dataset: source.dataset,
    pipeline: source.pipeline,
    stageATransform: source.stageATransform,
    stageBTransform: source.stageBTransform,
    minItemsProcess: source.minItemsProcess,
    maxItemsProcess: source.maxItemsProcess,
  };
}

/** A loaded, validated project. */
export interface Project {
  /** Absolute path of the project's root folder. */
  readonly root: string;
  /** `ddk.json`, relative to the root. */
  readonly ddkFile: string;
  /** `parameters.json` or `data_lake/pipelines/parameters.json`, relative to the root. */
  readonly parametersFile: string;
  /**
   * `project_id` of `ddk.json`: tells this project's stacks (tag `sdlf:project-id`) from those of another project
   * with the same prefix. Absent in projects made before ids; `sdlf deploy --adopt` gives them one.
   */
  readonly projectId?: string;
  readonly cicd: CicdEnvironment;
  /** Deployment environments in the order of `ddk.json`. */
  readonly environments: readonly DeploymentEnvironment[];
  /** Datasets per environment id; an environment without entries maps to an empty list. */
  readonly datasets: Readonly<Record<string, readonly DatasetConfig[]>>;
  /** Custom pipeline types found in `pipelines/*.ts`, by type name. */
  readonly customPipelineFiles: Readonly<Record<string, string>>;
  /** Things worth knowing that do not stop the work (ignored seed keys, environments without datasets). */
  readonly warnings: readonly string[];
}

/** Pipeline types every project has. */
export const BUILTIN_PIPELINE_TYPES = ['standard', 'custom'] as const;

/** Whether each built-in pipeline type has a stage B (the heavy transform on Glue): `custom` is stage A only. */
export const BUILTIN_PIPELINE_STAGE_B: Readonly<Record<(typeof BUILTIN_PIPELINE_TYPES)[number], boolean>> = {
  standard: true,
  custom: false,
};
