import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkNameSyntax, loadProject } from '../config/load.js';
import { locateProblems } from '../config/locate.js';
import { BUILTIN_PIPELINE_TYPES, type DatasetConfig, type Project } from '../config/model.js';
import { checkProjectNames, defaultStageBTransform } from '../config/naming.js';
import { projectPaths } from '../config/paths.js';
import { DEFAULTS } from '../config/schema.js';
import { type Problem, SdlfError } from '../core/errors.js';
import { type FileChange, type PlannedFile, writeFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { detectJsonStyle, parseJson, stringifyJson } from '../core/json.js';
import { didYouMean } from '../core/suggest.js';
import { GLUE_RUNNER } from '../runtime/glue/runner.js';
import { pipelineHasStageB } from './heavy-transform.js';
import { renderTemplateTree } from './templates.js';

/** Options of {@link addDataset}. */
export interface AddDatasetOptions {
  /** Project root. */
  readonly root: string;
  readonly team: string;
  readonly dataset: string;
  /** Pipeline type: `standard`, `custom` or a `pipelines/<type>.ts` of the project. @default 'standard' */
  readonly pipeline?: string;
  /** Stage A light transform, `transforms/light/<name>.ts`; shared with other datasets of the same name. @default 'sdlf_light_transform' */
  readonly stageATransform?: string;
  /**
   * Stage B heavy transform, `transforms/heavy/<name>/`; shared with other datasets of the same name. Unlike the
   * light transform, the heavy transform's SQL reads the dataset's own tables, so each dataset gets its own.
   * @default `<team>_<dataset>` with dashes as underscores (see {@link defaultStageBTransform})
   */
  readonly stageBTransform?: string;
  /**
   * Environments to register the dataset in. @default every environment listed in parameters.json, or every
   * deployment environment of ddk.json when parameters.json lists none
   */
  readonly envs?: readonly string[];
  /** Shows the plan and writes nothing. @default false */
  readonly dryRun?: boolean;
  /** Overwrites scaffolded files that exist with other contents. @default false */
  readonly force?: boolean;
  /**
   * Copies the Glue job's script (the runner that ships with sdlf) into the heavy transform folder as `main.py`, to
   * own and edit the job's PySpark. Without it the job runs the runner of the installed sdlf, which upgrades with
   * it. @default false
   */
  readonly glueScript?: boolean;
}

/** What {@link addDataset} did. */
export interface AddDatasetResult {
  readonly root: string;
  readonly dryRun: boolean;
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  readonly stageATransform: string;
  readonly stageBTransform: string;
  /** Environments the dataset was registered in by this call. */
  readonly environments: readonly string[];
  /** Environments where the dataset was registered already (its missing transforms were scaffolded). */
  readonly alreadyRegistered: readonly string[];
  /** `parameters.json` or the seed's `data_lake/pipelines/parameters.json`. */
  readonly parametersFile: string;
  /** Transforms that existed already and are now shared with this dataset. */
  readonly reusedTransforms: readonly string[];
  readonly files: readonly FileChange[];
}

/** A dataset's names, as the `dataset` templates need them. */
export interface DatasetNames {
  readonly team: string;
  readonly dataset: string;
  readonly pipeline: string;
  readonly stageATransform: string;
  readonly stageBTransform: string;
}

/** The view of the `dataset` template tree. */
export interface DatasetTemplateView extends DatasetNames {
  /** The input view the starting SQL reads: the table the default light transform makes of `<dataset>.json`. */
  readonly inputTable: string;
  /** The output table the starting SQL writes. */
  readonly outputTable: string;
}

/** Builds the view of the `dataset` template tree (light transform, Glue script, SQL, data folder). */
export function datasetTemplateView(names: DatasetNames): DatasetTemplateView {
  const { team, dataset, pipeline, stageATransform, stageBTransform } = names;
  // Table names are SQL identifiers: the default light transform maps every other character to "_".
  const inputTable = dataset.replaceAll('-', '_');
  return { team, dataset, pipeline, stageATransform, stageBTransform, inputTable, outputTable: `${inputTable}_curated` };
}

// A new dataset gets its own stage B transform unless told otherwise, since its SQL reads its own tables.
export { defaultStageBTransform } from '../config/naming.js';

/**
 * Registers a dataset in `parameters.json` and scaffolds what it needs: its light transform and, when its pipeline
 * has a stage B, its heavy transform (SQL, and the Glue script with `glueScript`), unless transforms of those
 * names exist already (transforms are shared by name), and `data/<team>/<dataset>/`.
 *
 * Re-running it for a dataset registered already (in the same pipeline, with the same transforms) registers it in
 * the environments that lack it and scaffolds transforms that are missing, so it also repairs what
 * `sdlf validate` reports as a missing transform.
 *
 * The project must load cleanly first. Names, the pipeline type, the environments, duplicates (also in another
 * pipeline of the team) and every resulting physical name are checked before anything is written. The entry is
 * added in the form the file already uses (flat keys or a nested `config`), keeping its indentation and its
 * other content.
 */
export async function addDataset(options: AddDatasetOptions, io: Io): Promise<AddDatasetResult> {
  const pipeline = options.pipeline ?? DEFAULTS.pipeline;
  const syntax = (
    [
      ['team', '--team', options.team],
      ['dataset', '--dataset', options.dataset],
      ['pipeline', '--pipeline', pipeline],
      ['transform', '--stage-a-transform', options.stageATransform],
      ['transform', '--stage-b-transform', options.stageBTransform],
    ] as const
  ).flatMap(([kind, flag, value]) => {
    // Defaults are derived from names checked here, so only given values need checking.
    const problem = value === undefined ? undefined : checkNameSyntax(kind, value);
    return problem ? [{ ...problem, path: flag }] : [];
  });
  if (syntax.length > 0) throw SdlfError.fromProblems('sdlf add-dataset got invalid names:', syntax);

  const project = await loadProject(options.root);
  assertPipelineExists(project, pipeline);
  const { text, value } = await readParameters(project);
  const envs = targetEnvironments(project, value, options.envs);
  const registered = envs.flatMap((env) =>
    (project.datasets[env] ?? [])
      .filter((d) => d.team === options.team && d.dataset === options.dataset)
      .map((d) => ({ env, d })),
  );
  // A dataset already registered keeps its transforms unless they are given: re-running scaffolds what is missing.
  const dataset: DatasetConfig = {
    team: options.team,
    dataset: options.dataset,
    pipeline,
    stageATransform: options.stageATransform ?? registered[0]?.d.stageATransform ?? DEFAULTS.stageATransform,
    stageBTransform:
      options.stageBTransform ?? registered[0]?.d.stageBTransform ?? defaultStageBTransform(options.team, options.dataset),
    minItemsProcess: DEFAULTS.minItemsProcess,
    maxItemsProcess: DEFAULTS.maxItemsProcess,
  };
  const newEnvs = envs.filter((env) => !registered.some((r) => r.env === env));
  const problems = [...checkRegistered(project, dataset, registered), ...checkRegistration(project, dataset, newEnvs)];
  if (problems.length > 0) {
    throw SdlfError.fromProblems(
      `Cannot add dataset "${dataset.team}/${dataset.dataset}":`,
      locateProblems(project.root, problems),
    );
  }
  const already = registered.map((r) => r.env);
  if (already.length > 0) {
    io.info(
      `Dataset ${dataset.team}/${dataset.dataset} is registered in ${already.join(', ')} already; scaffolding what it lacks.`,
    );
  }

  // A pipeline without a stage B (the custom type, or a project's type with `stageB: false`) runs no heavy transform.
  const stageB = await pipelineHasStageB(project, pipeline);
  if (!stageB && options.glueScript) {
    throw new SdlfError(`The pipeline "${pipeline}" has no stage B, so no Glue job would run a --glue-script.`, {
      code: 'NO_STAGE_B',
      suggestions: [`Leave out --glue-script, or add the dataset to a pipeline with a stage B (--pipeline standard).`],
    });
  }
  if (!stageB) io.info(`The pipeline "${pipeline}" has no stage B: no heavy transform is scaffolded.`);
  const { files, reused } = await planScaffold(project.root, dataset, { glueScript: options.glueScript ?? false, stageB });
  for (const name of reused) io.info(`Reusing the existing transform ${name}: it is shared with the datasets that name it.`);
  const parameters: PlannedFile[] =
    newEnvs.length > 0 ? [{ path: project.parametersFile, contents: addEntry(value, newEnvs, dataset, text), update: true }] : [];
  const changes = await writeFiles(
    { root: project.root, files: [...files, ...parameters] },
    { dryRun: options.dryRun ?? false, force: options.force ?? false },
    io,
  );
  return {
    root: project.root,
    dryRun: options.dryRun ?? false,
    team: dataset.team,
    dataset: dataset.dataset,
    pipeline: dataset.pipeline,
    stageATransform: dataset.stageATransform,
    stageBTransform: dataset.stageBTransform,
    environments: newEnvs,
    alreadyRegistered: already,
    parametersFile: project.parametersFile,
    reusedTransforms: reused,
    files: changes,
  };
}

/** Checks that the environments where the dataset is registered already agree with what was asked. */
function checkRegistered(
  project: Project,
  dataset: DatasetConfig,
  registered: ReadonlyArray<{ env: string; d: DatasetConfig }>,
): Problem[] {
  const file = project.parametersFile;
  return registered.flatMap(({ env, d }): Problem[] => {
    if (d.pipeline !== dataset.pipeline) {
      return [
        {
          code: 'DATASET_EXISTS',
          file,
          path: env,
          message: `Dataset "${d.dataset}" of team "${d.team}" is already registered in "${env}" in pipeline "${d.pipeline}"; a dataset belongs to one pipeline of its team.`,
          suggestion: `Choose another dataset name, or move it by editing ${file}.`,
        },
      ];
    }
    if (d.stageATransform !== dataset.stageATransform || d.stageBTransform !== dataset.stageBTransform) {
      return [
        {
          code: 'DATASET_EXISTS',
          file,
          path: env,
          message: `Dataset "${d.dataset}" of team "${d.team}" is already registered in "${env}" with transforms "${d.stageATransform}" and "${d.stageBTransform}".`,
          suggestion: `Leave out --stage-a-transform and --stage-b-transform, or change the transforms by editing ${file}.`,
        },
      ];
    }
    return [];
  });
}

function assertPipelineExists(project: Project, pipeline: string): void {
  const types = [...BUILTIN_PIPELINE_TYPES, ...Object.keys(project.customPipelineFiles)];
  if (types.includes(pipeline)) return;
  throw new SdlfError(`Pipeline type "${pipeline}" does not exist; ${didYouMean(pipeline, types)}`, {
    code: 'UNKNOWN_PIPELINE',
    suggestions: [
      `Use one of ${types.map((t) => `"${t}"`).join(', ')}, or create it with "sdlf add-pipeline ${pipeline}" first.`,
    ],
  });
}

/** `parameters.json` as parsed: environment id → dataset entries. */
export type ParametersJson = Record<string, unknown[]>;

/** Reads the project's parameters file, as text (for its style) and parsed. */
export async function readParameters(project: Project): Promise<{ text: string; value: ParametersJson }> {
  const text = await readFile(join(project.root, project.parametersFile), 'utf8');
  // loadProject has validated the shape: an object of arrays.
  return { text, value: parseJson(text, project.parametersFile) as ParametersJson };
}

/**
 * The environments a dataset command acts on: those requested (each checked against ddk.json), else those
 * parameters.json lists, else every deployment environment.
 */
export function targetEnvironments(
  project: Project,
  parameters: ParametersJson,
  requested: readonly string[] | undefined,
): string[] {
  const known = project.environments.map((e) => e.id);
  if (requested === undefined || requested.length === 0) {
    const listed = Object.keys(parameters).filter((id) => known.includes(id));
    return listed.length > 0 ? listed : known;
  }
  const unknown = requested.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    const first = unknown[0] ?? '';
    throw new SdlfError(
      `Environment ${unknown.map((id) => `"${id}"`).join(', ')} is not in ddk.json; ${didYouMean(first, known)}`,
      {
        code: 'UNKNOWN_ENVIRONMENT',
        suggestions: [`Use one of ${known.map((id) => `"${id}"`).join(', ')}, or add the environment to ddk.json first.`],
      },
    );
  }
  return [...new Set(requested)];
}

/** Checks the dataset against what each environment already has, and every name it would create. */
function checkRegistration(project: Project, dataset: DatasetConfig, envs: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const file = project.parametersFile;
  const { team, dataset: name, pipeline } = dataset;
  for (const env of envs) {
    const existing = project.datasets[env] ?? [];
    if (existing.some((d) => d.team === team && d.pipeline === name)) {
      problems.push({
        code: 'NAME_CLASH',
        file,
        path: env,
        message: `Dataset "${name}" has the name of a pipeline of team "${team}"; both stacks would be named "${team}-${name}".`,
        suggestion: 'Choose another dataset name.',
      });
    }
    if (existing.some((d) => d.team === team && d.dataset === pipeline)) {
      problems.push({
        code: 'NAME_CLASH',
        file,
        path: env,
        message: `Pipeline "${pipeline}" has the name of a dataset of team "${team}"; both stacks would be named "${team}-${pipeline}".`,
        suggestion: 'Use another pipeline type, or rename that dataset.',
      });
    }
  }
  if (problems.length > 0) return problems;
  const datasets = Object.fromEntries(
    project.environments.map((e) => [e.id, [...(project.datasets[e.id] ?? []), ...(envs.includes(e.id) ? [dataset] : [])]]),
  );
  return checkProjectNames({ environments: project.environments, datasets, parametersFile: file });
}

/** Adds the dataset's entry to each environment, in the form (flat or nested `config`) the file already uses. */
function addEntry(parameters: ParametersJson, envs: readonly string[], dataset: DatasetConfig, text: string): string {
  const entries = Object.values(parameters).flat();
  const nested = entries.some((entry) => typeof entry === 'object' && entry !== null && 'config' in entry);
  const transforms = { stage_a_transform: dataset.stageATransform, stage_b_transform: dataset.stageBTransform };
  const entry = nested
    ? { team: dataset.team, pipeline: dataset.pipeline, dataset: dataset.dataset, config: transforms }
    : { team: dataset.team, pipeline: dataset.pipeline, dataset: dataset.dataset, ...transforms };
  const next: ParametersJson = { ...parameters };
  for (const env of envs) next[env] = [...(parameters[env] ?? []), entry];
  return stringifyJson(next, detectJsonStyle(text));
}

/** Plans the dataset's scaffold, leaving out transforms (and the data folder) that exist already. */
async function planScaffold(
  root: string,
  dataset: DatasetConfig,
  { glueScript, stageB }: { readonly glueScript: boolean; readonly stageB: boolean },
): Promise<{ files: PlannedFile[]; reused: string[] }> {
  const light = projectPaths.lightTransform(dataset.stageATransform);
  const heavyDir = `${projectPaths.heavyTransformDir(dataset.stageBTransform)}/`;
  const dataDir = `${projectPaths.sampleData(dataset.team, dataset.dataset)}/`;
  const lightExists = existsSync(join(root, light));
  // Without a stage B, the heavy transform is left out as if it existed, but it is not reused either.
  const heavyExists = !stageB || existsSync(join(root, heavyDir));
  const dataExists = existsSync(join(root, dataDir));
  const files = (await renderTemplateTree('dataset', datasetTemplateView(dataset))).filter(
    (file) =>
      !(lightExists && file.path === light) &&
      !(heavyExists && file.path.startsWith(heavyDir)) &&
      !(dataExists && file.path.startsWith(dataDir)),
  );
  if (glueScript) {
    files.push({ path: projectPaths.heavyTransformScript(dataset.stageBTransform), contents: await readFile(GLUE_RUNNER) });
  }
  const reused = [
    ...(lightExists ? [`${dataset.stageATransform} (${light})`] : []),
    ...(stageB && heavyExists ? [`${dataset.stageBTransform} (${heavyDir})`] : []),
  ];
  return { files, reused };
}
