import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { type Problem, SdlfError } from '../core/errors.js';
import { readJsonFile } from '../core/json.js';
import { didYouMean, nearest } from '../core/suggest.js';
import { locateProblems } from './locate.js';
import {
  BUILTIN_PIPELINE_TYPES,
  type CicdEnvironment,
  type DatasetConfig,
  type DeploymentEnvironment,
  type PipelineSource,
  type Project,
} from './model.js';
import { checkProjectNames } from './naming.js';
import { DDK_FILE } from './project-root.js';

export { DDK_FILE, findProjectRoot } from './project-root.js';

import {
  DEFAULTS,
  ddkSchema,
  deploymentEnvironmentSchema,
  KNOWN_KEYS,
  type ProblemParams,
  parametersSchema,
  type RawCicdEnvironment,
  type RawDatasetEntry,
  type RawDeploymentEnvironment,
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
    throw SdlfError.fromProblems(
      `The project at ${absolute} has ${problems.length} problem(s):`,
      locateProblems(absolute, problems),
    );
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

const DDK_SHAPE_PROBLEM: Problem = {
  code: 'INVALID_CONFIG',
  file: DDK_FILE,
  path: 'environments',
  message: 'ddk.json must be an object with an "environments" object.',
  suggestion: 'Start from `{ "environments": { "cicd": {…}, "dev": {…} } }` as "sdlf init" writes it.',
};

/** Parses `ddk.json` with {@link ddkSchema}; problems go to `problems`, things worth knowing to `warnings`. */
function parseDdk(
  raw: unknown,
  problems: Problem[],
  warnings: string[],
): { cicd?: CicdEnvironment; environments: DeploymentEnvironment[]; projectId?: string } {
  const result = ddkSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...ddkProblems(result.error.issues, raw));
    return { environments: [] };
  }
  const { environments: envs, project_id: projectId } = result.data;
  const environments = Object.entries(envs).flatMap(([id, env]) =>
    id === 'cicd' ? [] : [toDeploymentEnvironment(id, env as RawDeploymentEnvironment, warnings)],
  );
  if (!envs.cicd) throw new Error('unreachable: ddkSchema requires cicd');
  const cicd = toCicdEnvironment(envs.cicd, environments, warnings);
  return { cicd, environments, ...(projectId === undefined ? {} : { projectId }) };
}

function toDeploymentEnvironment(id: string, env: RawDeploymentEnvironment, warnings: string[]): DeploymentEnvironment {
  if (env.resources)
    warnings.push(`${DDK_FILE}: environments.${id}.resources holds DDK resource overrides, which sdlf does not apply.`);
  return {
    id,
    name: env.name ?? id,
    account: env.account,
    region: env.region,
    resourcePrefix: env.resource_prefix,
    manualApprovals: env.manual_approvals,
    org: env.data_pipeline_parameters.org,
    app: env.data_pipeline_parameters.app,
    tags: env.tags,
    notificationEmail: env.notification_email,
    removeDataOnDestroy: env.remove_data_on_destroy,
    kmsStrategy: env.kms_strategy,
    logRetentionDays: env.log_retention_days,
  };
}

function toCicdEnvironment(
  cicd: RawCicdEnvironment,
  environments: readonly DeploymentEnvironment[],
  warnings: string[],
): CicdEnvironment {
  if (cicd.execute_security_lint !== undefined)
    warnings.push(`${DDK_FILE}: environments.cicd.execute_security_lint is ignored; cdk-nag checks run on every synth.`);
  return {
    account: cicd.account,
    region: cicd.region,
    enabled: cicd.cicd_enabled,
    resourcePrefix: cicd.resource_prefix ?? environments[0]?.resourcePrefix ?? DEFAULTS.resourcePrefix,
    source: pipelineSource(cicd),
    tags: cicd.tags,
  };
}

function pipelineSource(cicd: RawCicdEnvironment): PipelineSource {
  const branch = cicd.source?.branch ?? cicd.branch;
  if (cicd.source?.provider !== 'codeconnections')
    return { provider: 'codecommit', repository: cicd.source?.repository ?? cicd.repository, branch };
  const { connection_arn: connectionArn, repository } = cicd.source;
  if (!connectionArn || !repository) throw new Error('unreachable: ddkSchema requires connection_arn and repository');
  return { provider: 'codeconnections', connectionArn, repository, branch };
}

/**
 * Turns the issues of {@link ddkSchema} into problems, listed as they always were: the top-level keys and
 * project_id, the missing environments, each deployment environment in file order, then cicd.
 */
function ddkProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): Problem[] {
  const isShapeIssue = (issue: z.core.$ZodIssue) =>
    issue.code === 'invalid_type' && (issue.path.length === 0 || (issue.path.length === 1 && issue.path[0] === 'environments'));
  if (issues.some(isShapeIssue)) return [DDK_SHAPE_PROBLEM];
  const misnamed = issues.filter((issue) => issueParams(issue)?.code === 'INVALID_NAME').map((issue) => issue.path[1]);
  const envIds = isObject(raw) && isObject(raw.environments) ? Object.keys(raw.environments) : [];
  const rank = (issue: z.core.$ZodIssue): number => {
    if (issue.path[0] !== 'environments') return issue.code === 'unrecognized_keys' ? 0 : 1;
    if (issueParams(issue)?.code === 'MISSING_ENVIRONMENT') return 2;
    return issue.path[1] === 'cicd' ? 3 + envIds.length : 3 + envIds.indexOf(String(issue.path[1]));
  };
  const insideMisnamed = (issue: z.core.$ZodIssue) =>
    issue.path[0] === 'environments' && misnamed.includes(issue.path[1]) && issueParams(issue)?.code !== 'INVALID_NAME';
  const kept = issues.filter((issue) => !insideMisnamed(issue));
  return issuesToProblems(
    [...kept].sort((a, b) => rank(a) - rank(b)),
    raw,
    DDK_FILE,
    [],
  );
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
  problems.push(...issuesToProblems(result.error.issues, value, file, basePath));
  return undefined;
}

/**
 * Turns schema issues into problems: an unknown key names the nearest known one, a refinement's issue carries its
 * own code and fix ({@link ProblemParams}), any other issue names the value found and the rule it breaks.
 */
function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  value: unknown,
  file: string,
  basePath: readonly (string | number)[],
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...basePath, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKey(file, path, key, knownKeysAt(file, path)));
    const params = issueParams(issue);
    if (params)
      return [{ code: params.code, file, path: formatPath(path), message: issue.message, suggestion: params.suggestion }];
    const actual = valueAt(value, issue.path as (string | number)[]);
    return [
      {
        code: 'INVALID_CONFIG',
        file,
        path: formatPath(path),
        message:
          actual === undefined
            ? `"${formatPath(path)}" is required: ${issue.message}.`
            : `${JSON.stringify(actual)} is not valid here: ${issue.message}.`,
        suggestion: fixFor(path, actual),
      },
    ];
  });
}

function issueParams(issue: z.core.$ZodIssue): ProblemParams | undefined {
  return issue.code === 'custom' ? (issue.params as ProblemParams | undefined) : undefined;
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
    if (path[0] !== 'environments') return KNOWN_KEYS.ddk;
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
