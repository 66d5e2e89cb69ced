import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { type Problem, SdlfError } from '../core/errors.js';
import { readJsonFile } from '../core/json.js';
import { didYouMean, nearest } from '../core/suggest.js';
import {
  BUILTIN_PIPELINE_TYPES,
  type CicdEnvironment,
  type DatasetConfig,
  type DeploymentEnvironment,
  type Project,
} from './model.js';
import { checkProjectNames } from './naming.js';
import { DDK_FILE } from './project-root.js';

export { DDK_FILE, findProjectRoot } from './project-root.js';

import {
  cicdEnvironmentSchema,
  DEFAULTS,
  deploymentEnvironmentSchema,
  ENVIRONMENT_NAME_PATTERN,
  KNOWN_KEYS,
  PROJECT_ID_PATTERN,
  parametersSchema,
  type RawDatasetEntry,
  RESOURCE_NAME_PATTERN,
  TRANSFORM_NAME_PATTERN,
} from './schema.js';

/** Where `parameters.json` may live, in order of preference; the second is the seed's location. */
export const PARAMETERS_LOCATIONS = ['parameters.json', 'data_lake/pipelines/parameters.json'] as const;
/** Folder of custom pipeline type modules. */
export const PIPELINES_DIR = 'pipelines';

/** Name rules shared by the loader and the commands that take names as flags. */
export const NAME_RULES = {
  team: {
    pattern: RESOURCE_NAME_PATTERN,
    min: 2,
    max: 30,
    text: '2-30 lowercase letters, digits or dashes, starting with a letter',
  },
  dataset: {
    pattern: RESOURCE_NAME_PATTERN,
    min: 2,
    max: 30,
    text: '2-30 lowercase letters, digits or dashes, starting with a letter',
  },
  pipeline: {
    pattern: RESOURCE_NAME_PATTERN,
    min: 2,
    max: 20,
    text: '2-20 lowercase letters, digits or dashes, starting with a letter',
  },
  transform: {
    pattern: TRANSFORM_NAME_PATTERN,
    min: 2,
    max: 64,
    text: '2-64 lowercase letters, digits or underscores, starting with a letter',
  },
} as const;

/** Kinds of name with rules in {@link NAME_RULES}. */
export type NameKind = keyof typeof NAME_RULES;

/** Checks a team, dataset, pipeline or transform name; returns the problem, if any. */
export function checkNameSyntax(kind: NameKind, value: string): Problem | undefined {
  const rule = NAME_RULES[kind];
  if (rule.pattern.test(value) && value.length >= rule.min && value.length <= rule.max) return undefined;
  const hint =
    kind === 'transform'
      ? value.toLowerCase().replaceAll(/[^a-z0-9_]/g, '_')
      : value.toLowerCase().replaceAll(/[^a-z0-9-]/g, '-');
  return {
    code: 'INVALID_NAME',
    message: `${capitalize(kind)} name "${value}" is invalid: use ${rule.text}.`,
    suggestion: hint !== value && rule.pattern.test(hint) && hint.length <= rule.max ? `Try "${hint}".` : `Use ${rule.text}.`,
  };
}

/** Throws an {@link SdlfError} when a name breaks its rule (see {@link checkNameSyntax}). */
export function assertName(kind: NameKind, value: string): void {
  const problem = checkNameSyntax(kind, value);
  if (problem)
    throw new SdlfError(problem.message, { code: problem.code, suggestions: problem.suggestion ? [problem.suggestion] : [] });
}

/**
 * Loads and validates `ddk.json` and `parameters.json` of the project at `root`. Throws one {@link SdlfError}
 * listing every problem found (file, JSON path, offending value and fix) when anything is wrong.
 */
export async function loadProject(root: string): Promise<Project> {
  const absolute = resolve(root);
  const ddkPath = join(absolute, DDK_FILE);
  if (!existsSync(ddkPath)) {
    throw new SdlfError(`${absolute} is not an sdlf project: it has no ${DDK_FILE}.`, {
      code: 'NOT_A_PROJECT',
      suggestions: [
        'Run the command in the project folder or one of its subfolders, pass the project folder with --path, or create a project with "sdlf init".',
      ],
    });
  }
  const parametersFile = await findParametersFile(absolute);
  const problems: Problem[] = [];
  const warnings: string[] = [];

  const ddk = (await readJsonFile(ddkPath, DDK_FILE)).value;
  const { cicd, environments, projectId } = parseDdk(ddk, problems, warnings);

  const parametersRaw = (await readJsonFile(join(absolute, parametersFile), parametersFile)).value;
  const customPipelineFiles = await findCustomPipelines(absolute);
  const pipelineTypes = [...BUILTIN_PIPELINE_TYPES, ...Object.keys(customPipelineFiles)];
  const datasets = parseParameters(parametersRaw, parametersFile, environments, pipelineTypes, problems, warnings);

  if (problems.length === 0) problems.push(...checkProjectNames({ environments, datasets, parametersFile }));
  if (problems.length > 0)
    throw SdlfError.fromProblems(`The project at ${absolute} has ${problems.length} problem(s):`, problems);
  if (!cicd) throw new Error('unreachable: cicd checked above');
  return {
    root: absolute,
    ddkFile: DDK_FILE,
    parametersFile,
    ...(projectId === undefined ? {} : { projectId }),
    cicd,
    environments,
    datasets,
    customPipelineFiles,
    warnings,
  };
}

function parseProjectId(value: unknown, problems: Problem[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && PROJECT_ID_PATTERN.test(value)) return value;
  problems.push({
    code: 'INVALID_CONFIG',
    file: DDK_FILE,
    path: 'project_id',
    message: `project_id ${JSON.stringify(value)} is invalid: use 8-64 letters, digits or dashes (sdlf init writes a UUID).`,
    suggestion:
      'Put back the id the project was deployed with (its stacks carry it as the tag sdlf:project-id), or remove project_id and run "sdlf deploy --adopt" once.',
  });
  return undefined;
}

async function findParametersFile(root: string): Promise<string> {
  const present = PARAMETERS_LOCATIONS.filter((location) => existsSync(join(root, location)));
  if (present.length === 2) {
    throw new SdlfError(
      `${root} has both ${PARAMETERS_LOCATIONS[0]} and ${PARAMETERS_LOCATIONS[1]}; sdlf cannot tell which to use.`,
      {
        code: 'AMBIGUOUS_PARAMETERS',
        suggestions: [`Keep one of them: move your datasets into ${PARAMETERS_LOCATIONS[0]} and delete the other.`],
      },
    );
  }
  const found = present[0];
  if (!found) {
    throw new SdlfError(`${root} has no parameters.json (looked for ${PARAMETERS_LOCATIONS.join(' and ')}).`, {
      code: 'MISSING_PARAMETERS',
      suggestions: ['Create parameters.json with `{ "dev": [] }`, then register datasets with "sdlf add-dataset".'],
    });
  }
  return found;
}

/** Lists `pipelines/*.ts` of a project as pipeline type name → relative file. */
export async function findCustomPipelines(root: string): Promise<Record<string, string>> {
  const dir = join(root, PIPELINES_DIR);
  if (!existsSync(dir)) return {};
  const entries = await readdir(dir);
  const result: Record<string, string> = {};
  for (const entry of entries.sort()) {
    if (entry.endsWith('.ts') && !entry.endsWith('.d.ts') && !entry.endsWith('.test.ts')) {
      result[basename(entry, '.ts')] = `${PIPELINES_DIR}/${entry}`;
    }
  }
  return result;
}

function parseDdk(
  raw: unknown,
  problems: Problem[],
  warnings: string[],
): { cicd?: CicdEnvironment; environments: DeploymentEnvironment[]; projectId?: string } {
  const file = DDK_FILE;
  if (!isObject(raw) || !isObject(raw.environments)) {
    problems.push({
      code: 'INVALID_CONFIG',
      file,
      path: 'environments',
      message: 'ddk.json must be an object with an "environments" object.',
      suggestion: 'Start from `{ "environments": { "cicd": {…}, "dev": {…} } }` as "sdlf init" writes it.',
    });
    return { environments: [] };
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'environments' && key !== 'project_id') problems.push(unknownKey(file, [], key, ['environments', 'project_id']));
  }
  const projectId = parseProjectId(raw.project_id, problems);
  const envs = raw.environments;
  let cicd: CicdEnvironment | undefined;
  const environments: DeploymentEnvironment[] = [];
  const deploymentIds = Object.keys(envs).filter((id) => id !== 'cicd');
  if (!('cicd' in envs)) {
    problems.push({
      code: 'MISSING_ENVIRONMENT',
      file,
      path: 'environments.cicd',
      message: 'ddk.json has no "cicd" environment.',
      suggestion: 'Add `"cicd": { "account": "<12 digits>", "region": "<region>" }` under "environments".',
    });
  }
  if (deploymentIds.length === 0) {
    problems.push({
      code: 'MISSING_ENVIRONMENT',
      file,
      path: 'environments',
      message: 'ddk.json has no deployment environment (such as "dev").',
      suggestion: 'Add `"dev": { "account": "<12 digits>", "region": "<region>" }` under "environments".',
    });
  }
  for (const id of deploymentIds) {
    if (!ENVIRONMENT_NAME_PATTERN.test(id)) {
      problems.push({
        code: 'INVALID_NAME',
        file,
        path: `environments.${id}`,
        message: `Environment name "${id}" is invalid: use 1-10 lowercase letters or digits, starting with a letter.`,
        suggestion: `Rename it, e.g. "${id.toLowerCase().replaceAll(/[^a-z0-9]/g, '') || 'dev'}".`,
      });
      continue;
    }
    const parsed = parseWith(deploymentEnvironmentSchema, envs[id], file, ['environments', id], problems);
    if (!parsed) continue;
    if (parsed.resources)
      warnings.push(`${file}: environments.${id}.resources holds DDK resource overrides, which sdlf does not apply.`);
    environments.push({
      id,
      name: parsed.name ?? id,
      account: parsed.account,
      region: parsed.region,
      resourcePrefix: parsed.resource_prefix ?? DEFAULTS.resourcePrefix,
      manualApprovals: parsed.manual_approvals ?? false,
      org: parsed.data_pipeline_parameters?.org ?? DEFAULTS.org,
      app: parsed.data_pipeline_parameters?.app ?? DEFAULTS.app,
      tags: parsed.tags ?? {},
      notificationEmail: parsed.notification_email,
      removeDataOnDestroy: parsed.remove_data_on_destroy ?? false,
      kmsStrategy: parsed.kms_strategy ?? DEFAULTS.kmsStrategy,
      logRetentionDays: parsed.log_retention_days ?? DEFAULTS.logRetentionDays,
    });
  }
  if ('cicd' in envs) {
    const parsed = parseWith(cicdEnvironmentSchema, envs.cicd, file, ['environments', 'cicd'], problems);
    if (parsed) {
      const branch = parsed.source?.branch ?? parsed.branch ?? DEFAULTS.branch;
      const provider = parsed.source?.provider ?? 'codecommit';
      let source: CicdEnvironment['source'] | undefined;
      if (provider === 'codeconnections') {
        const missing = (['connection_arn', 'repository'] as const).filter((key) => !parsed.source?.[key]);
        for (const key of missing) {
          problems.push({
            code: 'INVALID_CONFIG',
            file,
            path: `environments.cicd.source.${key}`,
            message: `A "codeconnections" source needs "${key}".`,
            suggestion:
              key === 'connection_arn'
                ? 'Create a connection in the console (Developer Tools > Connections) and paste its ARN.'
                : 'Set it to "owner/name" of the repository.',
          });
        }
        if (parsed.source?.connection_arn && parsed.source.repository) {
          source = { provider, connectionArn: parsed.source.connection_arn, repository: parsed.source.repository, branch };
        }
      } else {
        source = {
          provider: 'codecommit',
          repository: parsed.source?.repository ?? parsed.repository ?? DEFAULTS.repository,
          branch,
        };
      }
      if (parsed.execute_security_lint !== undefined) {
        warnings.push(`${file}: environments.cicd.execute_security_lint is ignored; cdk-nag checks run on every synth.`);
      }
      if (source) {
        cicd = {
          account: parsed.account,
          region: parsed.region,
          enabled: parsed.cicd_enabled ?? false,
          resourcePrefix: parsed.resource_prefix ?? environments[0]?.resourcePrefix ?? DEFAULTS.resourcePrefix,
          source,
          tags: parsed.tags ?? {},
        };
      }
    }
  }
  return { cicd, environments, ...(projectId === undefined ? {} : { projectId }) };
}

function parseParameters(
  raw: unknown,
  file: string,
  environments: readonly DeploymentEnvironment[],
  pipelineTypes: readonly string[],
  problems: Problem[],
  warnings: string[],
): Record<string, DatasetConfig[]> {
  const result: Record<string, DatasetConfig[]> = {};
  for (const environment of environments) result[environment.id] = [];
  const parsed = parseWith(parametersSchema, raw, file, [], problems);
  if (!parsed) return result;
  const envIds = environments.map((e) => e.id);
  for (const [envId, entries] of Object.entries(parsed)) {
    if (!envIds.includes(envId)) {
      if (envIds.length > 0) {
        problems.push({
          code: 'MISSING_ENVIRONMENT',
          file,
          path: envId,
          message: `Environment "${envId}" has datasets but is not in ddk.json; ${didYouMean(envId, envIds)}`,
          suggestion: `Add "${envId}" to environments in ddk.json, or rename the key.`,
        });
      }
      continue;
    }
    const seen = new Map<string, { pipeline: string; index: number }>();
    const list: DatasetConfig[] = [];
    entries.forEach((entry, index) => {
      const at = `${envId}[${index}]`;
      const dataset = resolveEntry(entry, file, at, pipelineTypes, problems);
      if (!dataset) return;
      const key = `${dataset.team}/${dataset.dataset}`;
      const previous = seen.get(key);
      if (previous) {
        problems.push({
          code: 'DUPLICATE_DATASET',
          file,
          path: at,
          message: `Dataset "${dataset.dataset}" of team "${dataset.team}" is registered twice in "${envId}" (pipelines "${previous.pipeline}" at ${envId}[${previous.index}] and "${dataset.pipeline}" at ${at}).`,
          suggestion: 'A dataset belongs to one pipeline of its team: remove one entry or rename the dataset.',
        });
        return;
      }
      seen.set(key, { pipeline: dataset.pipeline, index });
      list.push(dataset);
    });
    for (const dataset of list) {
      if (list.some((other) => other.team === dataset.team && other.pipeline === dataset.dataset)) {
        problems.push({
          code: 'NAME_CLASH',
          file,
          path: envId,
          message: `Dataset "${dataset.dataset}" of team "${dataset.team}" has the name of one of the team's pipelines; both stacks would be named "${dataset.team}-${dataset.dataset}".`,
          suggestion: 'Rename the dataset.',
        });
      }
    }
    result[envId] = list;
  }
  for (const id of envIds) {
    if (!(id in parsed)) warnings.push(`${file} has no datasets for environment "${id}".`);
  }
  return result;
}

function resolveEntry(
  entry: RawDatasetEntry,
  file: string,
  at: string,
  pipelineTypes: readonly string[],
  problems: Problem[],
): DatasetConfig | undefined {
  const before = problems.length;
  const setting = <K extends 'stage_a_transform' | 'stage_b_transform' | 'min_items_process' | 'max_items_process'>(key: K) => {
    const flat = entry[key];
    const nested = entry.config?.[key];
    if (flat !== undefined && nested !== undefined && flat !== nested) {
      problems.push({
        code: 'CONFLICTING_SETTING',
        file,
        path: `${at}.${key}`,
        message: `"${key}" is set to ${JSON.stringify(flat)} and config.${key} to ${JSON.stringify(nested)}.`,
        suggestion: 'Keep one of the two.',
      });
    }
    return flat ?? nested;
  };
  const pipeline = entry.pipeline ?? DEFAULTS.pipeline;
  const dataset: DatasetConfig = {
    team: entry.team,
    dataset: entry.dataset,
    pipeline,
    stageATransform: setting('stage_a_transform') ?? DEFAULTS.stageATransform,
    stageBTransform: setting('stage_b_transform') ?? DEFAULTS.stageBTransform,
    minItemsProcess: setting('min_items_process') ?? DEFAULTS.minItemsProcess,
    maxItemsProcess: setting('max_items_process') ?? DEFAULTS.maxItemsProcess,
  };
  const names: Array<[string, 'team' | 'dataset' | 'pipeline' | 'transform', string]> = [
    ['team', 'team', dataset.team],
    ['dataset', 'dataset', dataset.dataset],
    ['pipeline', 'pipeline', dataset.pipeline],
    ['stage_a_transform', 'transform', dataset.stageATransform],
    ['stage_b_transform', 'transform', dataset.stageBTransform],
  ];
  for (const [key, kind, value] of names) {
    const problem = checkNameSyntax(kind, value);
    if (problem) problems.push({ ...problem, file, path: `${at}.${key}` });
  }
  if (checkNameSyntax('pipeline', pipeline) === undefined && !pipelineTypes.includes(pipeline)) {
    problems.push({
      code: 'UNKNOWN_PIPELINE',
      file,
      path: `${at}.pipeline`,
      message: `Pipeline type "${pipeline}" does not exist; ${didYouMean(pipeline, pipelineTypes)}`,
      suggestion: `Use one of ${pipelineTypes.map((t) => `"${t}"`).join(', ')}, or create it with "sdlf add-pipeline ${pipeline}".`,
    });
  }
  if (dataset.minItemsProcess > dataset.maxItemsProcess) {
    problems.push({
      code: 'INVALID_CONFIG',
      file,
      path: `${at}.min_items_process`,
      message: `min_items_process (${dataset.minItemsProcess}) is larger than max_items_process (${dataset.maxItemsProcess}).`,
      suggestion: 'Make min_items_process at most max_items_process.',
    });
  }
  return problems.length === before ? dataset : undefined;
}

/** Parses a value with a schema; turns each issue into a problem with file, JSON path, value and fix. */
function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  basePath: readonly (string | number)[],
  problems: Problem[],
): z.infer<S> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = [...basePath, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(unknownKey(file, path, key, knownKeysAt(file, path)));
      continue;
    }
    const actual = valueAt(value, issue.path as (string | number)[]);
    problems.push({
      code: 'INVALID_CONFIG',
      file,
      path: formatPath(path),
      message:
        actual === undefined
          ? `"${formatPath(path)}" is required: ${issue.message}.`
          : `${JSON.stringify(actual)} is not valid here: ${issue.message}.`,
      suggestion: fixFor(path, actual),
    });
  }
  return undefined;
}

function fixFor(path: readonly (string | number)[], actual: unknown): string {
  const last = path.at(-1);
  if (last === 'region' && typeof actual === 'string') {
    const best = nearest(actual, [...(deploymentEnvironmentSchema.shape.region.options as readonly string[])]);
    return best ? `Did you mean "${best}"?` : 'Use a region name such as "us-east-1".';
  }
  if (last === 'account') return 'Use the 12-digit account id, as a string in quotes (e.g. "111122223333").';
  return 'See the configuration reference in the README.';
}

function unknownKey(file: string, path: readonly (string | number)[], key: string, known: readonly string[]): Problem {
  const best = nearest(key, known);
  return {
    code: 'UNKNOWN_KEY',
    file,
    path: formatPath([...path, key]),
    message: `Unknown key "${key}"${best ? `; did you mean "${best}"?` : '.'}`,
    suggestion: best ? `Rename it to "${best}".` : `Remove it; known keys here are ${known.join(', ')}.`,
  };
}

function knownKeysAt(file: string, path: readonly (string | number)[]): readonly string[] {
  if (file === DDK_FILE) {
    if (path[0] !== 'environments') return ['environments'];
    if (path.length === 2) return path[1] === 'cicd' ? KNOWN_KEYS.cicd : KNOWN_KEYS.environment;
    if (path[2] === 'data_pipeline_parameters') return KNOWN_KEYS.dataPipelineParameters;
    if (path[2] === 'source') return KNOWN_KEYS.source;
    return [];
  }
  return path.length >= 3 && path[2] === 'config' ? KNOWN_KEYS.datasetConfig : KNOWN_KEYS.dataset;
}

function valueAt(value: unknown, path: readonly (string | number | symbol)[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment as string];
  }
  return current;
}

/** Formats a JSON path as `environments.dev.account` or `dev[0].team`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (out, segment) => (typeof segment === 'number' ? `${out}[${segment}]` : out ? `${out}.${segment}` : segment),
    '',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
