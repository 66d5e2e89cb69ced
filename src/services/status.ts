import { findDataset } from '../aws/datasets.js';
import { queueDepth, queueUrl } from '../aws/queues.js';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { namingOf, requireDeploymentEnvironment, resolveTarget } from '../aws/target.js';
import { loadProject } from '../config/load.js';
import type { Project } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { type DatasetStatus, readLocalStatus, summariseExecution } from '../local/status.js';
import { DynamoMetadataStore } from '../runtime/aws/dynamo-metadata-store.js';

/** Options of {@link showStatus}. */
export interface ShowStatusOptions extends AwsCommandOptions {
  readonly team?: string;
  /** Needs `team`. */
  readonly dataset?: string;
  /** Reads the executions of `sdlf run --local` instead of AWS. @default false */
  readonly local?: boolean;
  /** Most executions per dataset. @default 10 */
  readonly limit?: number;
}

/** Messages waiting in a dataset's dead-letter queues; null when the queue does not exist. */
export interface DeadLetters {
  /** The team pipeline's stage A DLQ (shared by the pipeline's datasets). */
  readonly stageA: number | null;
  /** The dataset's stage B DLQ. */
  readonly stageB: number | null;
}

/** One dataset's recent executions and, on AWS, its dead-letter queue depths. */
export interface DatasetStatusResult extends DatasetStatus {
  readonly deadLetters?: DeadLetters;
}

/** What {@link showStatus} found. */
export interface ShowStatusResult {
  readonly source: 'aws' | 'local';
  readonly env: string;
  readonly datasets: readonly DatasetStatusResult[];
}

/**
 * Shows recent executions per dataset, newest first (status, stage, attempt, duration, failure cause), from the
 * execution history table's dataset index, and the depth of the dataset's dead-letter queues. With `local`, it
 * shows the executions of `sdlf run --local` instead.
 */
export async function showStatus(options: ShowStatusOptions, io: Io): Promise<ShowStatusResult> {
  if (options.dataset !== undefined && options.team === undefined) {
    throw new SdlfError(`A dataset ("${options.dataset}") needs its team.`, {
      code: 'TEAM_REQUIRED',
      suggestions: ['Pass --team with --dataset.'],
    });
  }
  const limit = options.limit ?? 10;
  if (options.local) {
    const project = await loadProject(options.root);
    const target = resolveTarget(project, { env: options.env });
    const local = await readLocalStatus({
      root: project.root,
      env: target.envId,
      team: options.team,
      dataset: options.dataset,
      limit,
    });
    return { source: 'local', env: local.env, datasets: local.datasets };
  }
  const { project, target, clients } = await openSession(options, io);
  const environment = requireDeploymentEnvironment(target, 'status');
  if (options.team !== undefined && options.dataset !== undefined)
    findDataset(project, environment.id, options.team, options.dataset);
  const naming = namingOf(target, environment);
  const store = new DynamoMetadataStore(clients.dynamoDb, {
    objectMetadata: naming.table('object-metadata'),
    datasets: naming.table('datasets'),
    pipelines: naming.table('pipelines'),
    executionHistory: naming.table('execution-history'),
  });
  const selected = (project.datasets[environment.id] ?? []).filter(
    (d) =>
      (options.team === undefined || d.team === options.team) && (options.dataset === undefined || d.dataset === options.dataset),
  );
  const depth = async (name: string) => {
    const url = await queueUrl(clients, name);
    return url ? (await queueDepth(clients, url)).visible : null;
  };
  const datasets: DatasetStatusResult[] = [];
  for (const d of selected) {
    const executions = await store.listExecutions({ team: d.team, dataset: d.dataset, limit }).catch((error: unknown) => {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') throw notDeployed(project, environment.id, naming);
      throw error;
    });
    datasets.push({
      team: d.team,
      dataset: d.dataset,
      pipeline: d.pipeline,
      executions: executions.map(summariseExecution),
      deadLetters: {
        stageA: await depth(naming.stageADeadLetterQueue(d.team, d.pipeline)),
        stageB: await depth(naming.stageBDeadLetterQueue(d.team, d.dataset)),
      },
    });
  }
  return { source: 'aws', env: environment.id, datasets };
}

/**
 * The error of an environment whose tables do not exist yet. With CI/CD on, `sdlf deploy` deployed the pipeline,
 * not the environment: its stacks come when the pipeline runs, so the error says that rather than "deploy first".
 */
function notDeployed(project: Project, envId: string, naming: Naming): SdlfError {
  const table = naming.table('execution-history');
  if (!project.cicd.enabled) {
    return new SdlfError(`The execution history table ${table} does not exist.`, {
      code: 'NOT_DEPLOYED',
      suggestions: [`Deploy the environment first: "sdlf deploy --env ${envId}".`],
    });
  }
  const pipeline = Naming.cicdStack(project.cicd.resourcePrefix);
  const { account, region, source } = project.cicd;
  return new SdlfError(
    `The execution history table ${table} does not exist: environment "${envId}" is not deployed yet. With CI/CD on, the pipeline ${pipeline} (aws://${account}/${region}) deploys it when it runs on a push to ${source.branch}.`,
    {
      code: 'NOT_DEPLOYED',
      suggestions: [
        `If the pipeline is not deployed yet: "sdlf deploy --env ${envId}"; then push to ${source.branch} ("git push origin ${source.branch}").`,
        `Follow its run: "aws codepipeline get-pipeline-state --name ${pipeline} --region ${region}" (with credentials for ${account}); a stage waiting for manual approval deploys nothing until it is approved.`,
        `To deploy "${envId}" without the pipeline: "sdlf deploy --env ${envId} --direct".`,
      ],
    },
  );
}
