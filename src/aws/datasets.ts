import { assertName } from '../config/load.js';
import type { DatasetConfig, Project } from '../config/model.js';
import { SdlfError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/** Finds a dataset registered in parameters.json for an environment, or fails naming the registered ones. */
export function findDataset(project: Project, envId: string, team: string, dataset: string): DatasetConfig {
  assertName('team', team);
  assertName('dataset', dataset);
  const datasets = project.datasets[envId] ?? [];
  const found = datasets.find((d) => d.team === team && d.dataset === dataset);
  if (found) return found;
  const names = datasets.map((d) => `${d.team}/${d.dataset}`);
  throw new SdlfError(
    `Dataset "${team}/${dataset}" is not registered for environment "${envId}" in ${project.parametersFile}; ${didYouMean(`${team}/${dataset}`, names)}`,
    {
      code: 'UNKNOWN_DATASET',
      suggestions: [
        `Register it with "sdlf add-dataset --team ${team} --dataset ${dataset}", then deploy, or pick a registered dataset.`,
      ],
    },
  );
}
