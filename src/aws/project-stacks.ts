import type { DatasetConfig, DeploymentEnvironment } from '../config/model.js';
import { type Naming, uniquePipelines } from '../config/naming.js';

/** The role of a stack in the project. */
export type StackRole = 'foundations' | 'pipeline' | 'dataset' | 'cicd';

/** A stack the project's configuration defines. */
export interface ProjectStack {
  readonly name: string;
  readonly role: StackRole;
  readonly team?: string;
  readonly pipeline?: string;
  readonly dataset?: string;
}

/**
 * Lists the stacks the configuration defines for one environment, in deployment order: foundations, then each
 * team's pipelines, then each dataset. Every name comes from the naming module.
 */
export function environmentStacks(naming: Naming, datasets: readonly DatasetConfig[]): ProjectStack[] {
  return [
    { name: naming.foundationsStack(), role: 'foundations' },
    ...uniquePipelines(datasets).map(
      ({ team, pipeline }): ProjectStack => ({ name: naming.pipelineStack(team, pipeline), role: 'pipeline', team, pipeline }),
    ),
    ...datasets.map(
      ({ team, dataset, pipeline }): ProjectStack => ({
        name: naming.datasetStack(team, dataset),
        role: 'dataset',
        team,
        pipeline,
        dataset,
      }),
    ),
  ];
}

/** The order stacks are deleted in: datasets, pipelines, foundations, then the CI/CD pipeline. */
export const DELETE_ORDER: readonly StackRole[] = ['dataset', 'pipeline', 'foundations', 'cicd'];

/** The prefix every stack name of an environment starts with: `{prefix}-{env}-`. */
export function environmentStackPrefix(environment: DeploymentEnvironment): string {
  return `${environment.resourcePrefix}-${environment.id}-`;
}
