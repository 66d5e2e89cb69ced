import { z } from 'zod';

/** AWS regions accepted in `ddk.json` (commercial, GovCloud and China partitions). */
export const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
] as const;

/** A project id (`project_id` of ddk.json): 8-64 letters, digits or dashes, as `sdlf init` writes a UUID. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;

/** Lowercase letters, digits and dashes, starting with a letter and not ending with a dash. */
export const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;
/** Transform names are file and module names: lowercase letters, digits and underscores. */
export const TRANSFORM_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
/** Environment names appear in every physical name: short, lowercase letters and digits. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9]{0,9}$/;

/** Defaults the seed documents, kept so existing projects behave as before. */
export const DEFAULTS = {
  resourcePrefix: 'ddk',
  org: 'aws',
  app: 'datalake',
  repository: 'sdlf-ddk-example',
  branch: 'main',
  pipeline: 'standard',
  stageATransform: 'sdlf_light_transform',
  stageBTransform: 'sdlf_heavy_transform',
  minItemsProcess: 1,
  maxItemsProcess: 100,
  logRetentionDays: 365,
  kmsStrategy: 'shared',
} as const;

const account = z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' });
const region = z.enum(AWS_REGIONS, { message: 'must be an AWS region name such as "us-east-1"' });
const tags = z.record(z.string().min(1).max(128), z.string().max(256));

/** The source of the CI/CD pipeline when it is not the CodeCommit repository. */
export const sourceSchema = z.strictObject({
  /** `codecommit` (the seed's) or `codeconnections` (GitHub, GitLab, Bitbucket). @default 'codecommit' */
  provider: z.enum(['codecommit', 'codeconnections']).default('codecommit'),
  /** ARN of the CodeConnections connection; required for `codeconnections`. */
  connection_arn: z
    .string()
    .regex(/^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/, {
      message: 'must be a CodeConnections connection ARN',
    })
    .optional(),
  /** `owner/name` of the repository on the connected provider; required for `codeconnections`. */
  repository: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, { message: 'must be "owner/name"' })
    .optional(),
  /** Branch that triggers the pipeline. @default 'main' */
  branch: z.string().min(1).optional(),
});

/** `environments.cicd` of `ddk.json`. */
export const cicdEnvironmentSchema = z.strictObject({
  account,
  region,
  /** CodeCommit repository name. @default 'sdlf-ddk-example' */
  repository: z
    .string()
    .regex(/^[\w.-]{1,100}$/, { message: 'must be 1-100 letters, digits, ".", "_" or "-"' })
    .default(DEFAULTS.repository),
  /** Deploys through a CI/CD pipeline in this account. @default false */
  cicd_enabled: z.boolean().default(false),
  /** Branch that triggers the pipeline. @default 'main' */
  branch: z.string().min(1).default(DEFAULTS.branch),
  /** A CodeConnections source instead of CodeCommit. */
  source: sourceSchema.optional(),
  /** Prefix of the CI/CD pipeline stack's name. @default the first deployment environment's resource_prefix */
  resource_prefix: z.string().optional(),
  /** The seed's DDK security-lint switch; cdk-nag always runs, so this is accepted and ignored. */
  execute_security_lint: z.boolean().optional(),
  tags: tags.default(() => ({})),
});

/** One deployment environment (`dev`, `prod`, …) of `ddk.json`. */
export const deploymentEnvironmentSchema = z.strictObject({
  account,
  region,
  /** Display name. @default the environment key */
  name: z.string().min(1).optional(),
  /** Prefix of every physical name. @default 'ddk' */
  resource_prefix: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,14}$/, { message: 'must be 1-15 lowercase letters, digits or dashes, starting with a letter' })
    .default(DEFAULTS.resourcePrefix),
  /** Adds a manual approval before this environment in the CI/CD pipeline. @default false */
  manual_approvals: z.boolean().default(false),
  data_pipeline_parameters: z
    .strictObject({
      /** @default 'aws' */
      org: z.string().min(1).default(DEFAULTS.org),
      /** @default 'datalake' */
      app: z.string().min(1).default(DEFAULTS.app),
    })
    .prefault({}),
  /** Extra tags on every resource. */
  tags: tags.default(() => ({})),
  /** E-mail address subscribed to the alarm topic. */
  notification_email: z.email({ message: 'must be an e-mail address' }).optional(),
  /** Deletes buckets, tables and keys with their data when the stacks are deleted. @default false */
  remove_data_on_destroy: z.boolean().default(false),
  /** `shared`: one customer-managed key for the data buckets; `per-bucket`: one key per data bucket. @default 'shared' */
  kms_strategy: z.enum(['shared', 'per-bucket']).default(DEFAULTS.kmsStrategy),
  /** Retention of Lambda and state machine logs, in days. @default 365 */
  log_retention_days: z.number().int().positive().default(DEFAULTS.logRetentionDays),
  /** The seed's DDK per-resource overrides; accepted so seed files load, not applied. */
  resources: z.record(z.string(), z.unknown()).optional(),
});

/** Extra settings of a dataset, in the flat form or under `config`. */
const datasetSettings = {
  /** Name of the stage A light transform (`transforms/light/<name>.ts`). @default 'sdlf_light_transform' */
  stage_a_transform: z.string().optional(),
  /** Name of the stage B heavy transform (`transforms/heavy/<name>/`). @default 'sdlf_heavy_transform' */
  stage_b_transform: z.string().optional(),
  /** Fewest staged objects that start a stage B run. @default 1 */
  min_items_process: z.number().int().positive().optional(),
  /** Most staged objects in one stage B run. @default 100 */
  max_items_process: z.number().int().positive().max(10_000).optional(),
};

/** One entry of `parameters.json`. */
export const datasetEntrySchema = z.strictObject({
  team: z.string(),
  /** Pipeline type the dataset is registered to. @default 'standard' */
  pipeline: z.string().optional(),
  dataset: z.string(),
  ...datasetSettings,
  config: z.strictObject({ ...datasetSettings }).optional(),
});

/** `parameters.json`: datasets per environment. */
export const parametersSchema = z.record(z.string(), z.array(datasetEntrySchema));

/**
 * How a refinement's issue becomes a problem: its error code and fix ride in the issue's `params`, its text in the
 * issue's message.
 */
export interface ProblemParams {
  readonly code: string;
  readonly suggestion: string;
}

/** `project_id` of `ddk.json`. */
const projectId = z.custom<string>((value) => typeof value === 'string' && PROJECT_ID_PATTERN.test(value), {
  error: (issue) =>
    `project_id ${JSON.stringify(issue.input)} is invalid: use 8-64 letters, digits or dashes (sdlf init writes a UUID).`,
  params: {
    code: 'INVALID_CONFIG',
    suggestion:
      'Put back the id the project was deployed with (its stacks carry it as the tag sdlf:project-id), or remove project_id and run "sdlf deploy --adopt" once.',
  } satisfies ProblemParams,
});

/** A `codeconnections` source names its connection and repository. */
const cicdEnvironment = cicdEnvironmentSchema.superRefine(
  (cicd, ctx) => {
    if (cicd.source?.provider !== 'codeconnections') return;
    const missing = (['connection_arn', 'repository'] as const).filter((key) => !cicd.source?.[key]);
    for (const key of missing) {
      ctx.addIssue({
        code: 'custom',
        path: ['source', key],
        message: `A "codeconnections" source needs "${key}".`,
        params: {
          code: 'INVALID_CONFIG',
          suggestion:
            key === 'connection_arn'
              ? 'Create a connection in the console (Developer Tools > Connections) and paste its ARN.'
              : 'Set it to "owner/name" of the repository.',
        } satisfies ProblemParams,
      });
    }
  },
  // Only a CI/CD environment without other problems, unknown keys included, is checked for its source.
  { when: (payload) => payload.issues.length === 0 },
);

/**
 * `environments` of `ddk.json`: `cicd` and the deployment environments. Their names are checked even when an
 * environment has other problems.
 */
const environments = z
  .object({ cicd: cicdEnvironment.optional() })
  .catchall(deploymentEnvironmentSchema)
  .superRefine(
    (envs, ctx) => {
      const deploymentIds = Object.keys(envs).filter((id) => id !== 'cicd');
      if (!('cicd' in envs)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cicd'],
          message: 'ddk.json has no "cicd" environment.',
          params: {
            code: 'MISSING_ENVIRONMENT',
            suggestion: 'Add `"cicd": { "account": "<12 digits>", "region": "<region>" }` under "environments".',
          } satisfies ProblemParams,
        });
      }
      if (deploymentIds.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'ddk.json has no deployment environment (such as "dev").',
          params: {
            code: 'MISSING_ENVIRONMENT',
            suggestion: 'Add `"dev": { "account": "<12 digits>", "region": "<region>" }` under "environments".',
          } satisfies ProblemParams,
        });
      }
      for (const id of deploymentIds.filter((name) => !ENVIRONMENT_NAME_PATTERN.test(name))) {
        ctx.addIssue({
          code: 'custom',
          path: [id],
          message: `Environment name "${id}" is invalid: use 1-10 lowercase letters or digits, starting with a letter.`,
          params: {
            code: 'INVALID_NAME',
            suggestion: `Rename it, e.g. "${id.toLowerCase().replaceAll(/[^a-z0-9]/g, '') || 'dev'}".`,
          } satisfies ProblemParams,
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) },
  );

/**
 * `ddk.json`, with defaults applied. An environment whose name is invalid is reported by its name alone: the
 * loader drops the issues inside it.
 */
export const ddkSchema = z.strictObject({
  environments,
  /** Tells this project's stacks from those of another project with the same prefix. */
  project_id: projectId.optional(),
});

/** `ddk.json` as parsed by {@link ddkSchema}. */
export type DdkJson = z.output<typeof ddkSchema>;
export type RawCicdEnvironment = z.infer<typeof cicdEnvironmentSchema>;
export type RawDeploymentEnvironment = z.infer<typeof deploymentEnvironmentSchema>;
export type RawDatasetEntry = z.infer<typeof datasetEntrySchema>;

/** The keys each object of the configuration knows, for "did you mean" suggestions. */
export const KNOWN_KEYS = {
  ddk: Object.keys(ddkSchema.shape),
  cicd: Object.keys(cicdEnvironmentSchema.shape),
  environment: Object.keys(deploymentEnvironmentSchema.shape),
  dataset: Object.keys(datasetEntrySchema.shape),
  datasetConfig: Object.keys(datasetSettings),
  source: Object.keys(sourceSchema.shape),
  dataPipelineParameters: ['org', 'app'],
} as const;
