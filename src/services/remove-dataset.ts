import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkNameSyntax, loadProject } from '../config/load.js';
import type { DatasetConfig, Project } from '../config/model.js';
import { Naming } from '../config/naming.js';
import { projectPaths } from '../config/paths.js';
import { SdlfError } from '../core/errors.js';
import { writeFiles } from '../core/files.js';
import type { Io } from '../core/io.js';
import { detectJsonStyle, stringifyJson } from '../core/json.js';
import { didYouMean } from '../core/suggest.js';
import { type ParametersJson, readParameters, targetEnvironments } from './add-dataset.js';

/** What happens to a removed dataset's scaffolding and local outputs. */
export type RemoveFilesChoice = 'remove' | 'keep' | 'ask';

/** Options of {@link removeDataset}. */
export interface RemoveDatasetOptions {
  /** Project root. */
  readonly root: string;
  readonly team: string;
  readonly dataset: string;
  /** Environments to unregister it from. @default every environment it is registered in */
  readonly envs?: readonly string[];
  /**
   * `remove` deletes the files it no longer needs, `ask` asks first (on a terminal), `keep` keeps them and says how
   * to delete them. @default 'keep'
   */
  readonly files?: RemoveFilesChoice;
  /** Shows what would change and changes nothing. @default false */
  readonly dryRun?: boolean;
}

/** The AWS side of a removed dataset in one environment: what stays and the commands that delete it. */
export interface RemovedDatasetEnvironment {
  readonly env: string;
  readonly account: string;
  readonly region: string;
  /** The dataset's stack, which only `sdlf deploy --prune` deletes. */
  readonly stack: string;
  /** The sdlf command that deletes {@link stack} (after asking). */
  readonly pruneCommand: string;
  readonly deleteStackCommand: string;
  /** The Glue database the stack deletes with it (table definitions only; the data stays in S3). */
  readonly glueDatabase: string;
  /** `s3://bucket/team/dataset/` of each bucket that holds the dataset's objects. */
  readonly dataPrefixes: readonly string[];
  readonly deleteDataCommands: readonly string[];
}

/** What {@link removeDataset} did. */
export interface RemoveDatasetResult {
  readonly root: string;
  readonly dryRun: boolean;
  readonly team: string;
  readonly dataset: string;
  readonly parametersFile: string;
  /** Environments it was unregistered from. */
  readonly environments: readonly string[];
  /** Environments where it stays registered. */
  readonly stillRegistered: readonly string[];
  /** Files and folders of the dataset that nothing else uses, relative to the root. */
  readonly unused: readonly string[];
  /** Those of {@link unused} that were deleted (with `dryRun`: that would be). */
  readonly removed: readonly string[];
  /** Transforms kept because other registered datasets use them. */
  readonly shared: readonly string[];
  /** `rm -r …` that deletes the unused files that were kept, when there are any. */
  readonly removeCommand?: string;
  readonly aws: readonly RemovedDatasetEnvironment[];
}

/** Buckets that hold objects under a dataset's prefix. */
const DATA_BUCKETS = ['raw', 'stage', 'analytics'] as const;

/**
 * The inverse of `add-dataset`: unregisters a dataset from `parameters.json` (from every environment it is in, or
 * those given), in the file's own style, and lists what it leaves: its scaffolding (light and heavy transform, when
 * no other dataset uses them; its sample data and local run outputs), which it deletes only when asked; and on
 * AWS its stack, which `sdlf deploy --prune` deletes, and its objects, which nothing here deletes. Everything is
 * checked before anything changes; the parameters file is written before any file is deleted.
 */
export async function removeDataset(options: RemoveDatasetOptions, io: Io): Promise<RemoveDatasetResult> {
  const syntax = (
    [
      ['team', '--team', options.team],
      ['dataset', '--dataset', options.dataset],
    ] as const
  ).flatMap(([kind, flag, value]) => {
    const problem = checkNameSyntax(kind, value);
    return problem ? [{ ...problem, path: flag }] : [];
  });
  if (syntax.length > 0) throw SdlfError.fromProblems('sdlf remove-dataset got invalid names:', syntax);

  const project = await loadProject(options.root);
  const { team, dataset } = options;
  const name = `${team}/${dataset}`;
  const { text, value } = await readParameters(project);
  const registeredIn = project.environments
    .map((e) => e.id)
    .filter((env) => (project.datasets[env] ?? []).some((d) => d.team === team && d.dataset === dataset));
  if (registeredIn.length === 0) throw unknownDataset(project, name);
  const envs = options.envs && options.envs.length > 0 ? targetEnvironments(project, value, options.envs) : registeredIn;
  const missing = envs.filter((env) => !registeredIn.includes(env));
  if (missing.length > 0) {
    throw new SdlfError(
      `Dataset "${name}" is not registered in ${missing.map((e) => `"${e}"`).join(', ')} in ${project.parametersFile}; it is registered in ${registeredIn.join(', ')}.`,
      {
        code: 'UNKNOWN_DATASET',
        suggestions: [`Pass --env with ${registeredIn.join(' or ')}, or leave out --env to remove it from all of them.`],
      },
    );
  }
  const stillRegistered = registeredIn.filter((env) => !envs.includes(env));
  const configs = envs.flatMap((env) => (project.datasets[env] ?? []).filter((d) => d.team === team && d.dataset === dataset));
  const remaining = project.environments.flatMap((e) =>
    (project.datasets[e.id] ?? []).filter((d) => !(envs.includes(e.id) && d.team === team && d.dataset === dataset)),
  );
  const { unused, shared } = unusedScaffolding(project, configs, remaining, envs, stillRegistered.length > 0);

  // Plan: parameters.json, then the files, then what stays on AWS.
  const dryRun = options.dryRun ?? false;
  io.info(`${dryRun ? '(dry run) ' : ''}Unregistering ${name} from ${envs.join(', ')} in ${project.parametersFile}.`);
  for (const transform of shared) io.info(`Keeping ${transform}: other datasets use it.`);
  const choice = options.files ?? 'keep';
  let remove = choice === 'remove';
  if (unused.length > 0) {
    io.info(`Files of ${name} that nothing else uses:`);
    for (const path of unused) io.info(`  ${path}`);
    if (choice === 'ask' && !dryRun) {
      remove = await io.confirm(`Delete these ${unused.length} file(s) and folder(s) of ${name}?`, { yesFlag: '--remove-files' });
    }
  }
  await writeFiles(
    {
      root: project.root,
      files: [{ path: project.parametersFile, contents: removeEntries(value, envs, team, dataset, text), update: true }],
    },
    { dryRun },
    io,
  );
  const removed: string[] = [];
  if (remove) {
    for (const path of unused) {
      if (!dryRun) await rm(join(project.root, path), { recursive: true, force: true });
      removed.push(path);
      io.info(`${dryRun ? '(dry run) ' : ''}delete    ${path}`);
    }
  }
  const kept = unused.filter((path) => !removed.includes(path));
  const removeCommand = kept.length > 0 ? `rm -r ${kept.map(shellQuote).join(' ')}` : undefined;
  const aws = envs.map((env) => awsLeftovers(project, env, team, dataset));
  return {
    root: project.root,
    dryRun,
    team,
    dataset,
    parametersFile: project.parametersFile,
    environments: envs,
    stillRegistered,
    unused,
    removed,
    shared,
    ...(removeCommand ? { removeCommand } : {}),
    aws,
  };
}

function unknownDataset(project: Project, name: string): SdlfError {
  const registered = [
    ...new Set(Object.values(project.datasets).flatMap((datasets) => datasets.map((d) => `${d.team}/${d.dataset}`))),
  ];
  return new SdlfError(
    `Dataset "${name}" is not registered in any environment of ${project.parametersFile}; ${didYouMean(name, registered)}`,
    {
      code: 'UNKNOWN_DATASET',
      suggestions: [
        registered.length > 0
          ? `Registered datasets: ${registered.join(', ')}. Pass one of them as --team <team> --dataset <dataset>.`
          : `${project.parametersFile} registers no dataset; there is nothing to remove.`,
      ],
    },
  );
}

/**
 * The removed dataset's files that nothing else uses: its transforms when no remaining dataset names them, its
 * sample data when it stays registered nowhere, and its local run outputs in the environments it leaves.
 */
function unusedScaffolding(
  project: Project,
  removed: readonly DatasetConfig[],
  remaining: readonly DatasetConfig[],
  envs: readonly string[],
  stillRegistered: boolean,
): { unused: string[]; shared: string[] } {
  const unused: string[] = [];
  const shared: string[] = [];
  const exists = (path: string) => existsSync(join(project.root, path));
  const consider = (path: string, usedBy: readonly DatasetConfig[]) => {
    if (!exists(path) || unused.includes(path)) return;
    if (usedBy.length === 0) unused.push(path);
    else if (!shared.some((s) => s.startsWith(path))) {
      shared.push(`${path} (used by ${[...new Set(usedBy.map((d) => `${d.team}/${d.dataset}`))].join(', ')})`);
    }
  };
  for (const config of removed) {
    consider(
      projectPaths.lightTransform(config.stageATransform),
      remaining.filter((d) => d.stageATransform === config.stageATransform),
    );
    consider(
      `${projectPaths.heavyTransformDir(config.stageBTransform)}/`,
      remaining.filter((d) => d.stageBTransform === config.stageBTransform),
    );
  }
  const [first] = removed;
  if (first && !stillRegistered) {
    const data = `${projectPaths.sampleData(first.team, first.dataset)}/`;
    if (exists(data)) unused.push(data);
  }
  for (const env of envs) {
    for (const bucket of DATA_BUCKETS) {
      const path = `${projectPaths.localRun(env)}/${bucket}/${first?.team}/${first?.dataset}/`;
      if (first && exists(path)) unused.push(path);
    }
  }
  return { unused, shared };
}

/** Drops the dataset's entries from the given environments, keeping the file's indentation and key order. */
function removeEntries(parameters: ParametersJson, envs: readonly string[], team: string, dataset: string, text: string): string {
  const next: ParametersJson = {};
  for (const [env, entries] of Object.entries(parameters)) {
    next[env] = envs.includes(env)
      ? entries.filter((entry) => {
          const { team: t, dataset: d } = (entry ?? {}) as { team?: unknown; dataset?: unknown };
          return !(t === team && d === dataset);
        })
      : entries;
  }
  return stringifyJson(next, detectJsonStyle(text));
}

/** The dataset's stack and objects in one environment, with the AWS CLI commands that delete them. */
function awsLeftovers(project: Project, envId: string, team: string, dataset: string): RemovedDatasetEnvironment {
  const environment = project.environments.find((e) => e.id === envId);
  if (!environment) throw new Error(`environment ${envId} vanished from the loaded project`);
  const naming = Naming.forEnvironment(environment);
  const region = `--region ${environment.region}`;
  const stack = naming.datasetStack(team, dataset);
  const dataPrefixes = DATA_BUCKETS.map((kind) => `s3://${naming.bucket(kind)}/${Naming.datasetPrefix(team, dataset)}`);
  return {
    env: envId,
    account: environment.account,
    region: environment.region,
    stack,
    pruneCommand: `sdlf deploy --env ${envId}${project.cicd.enabled ? ' --direct' : ''} --prune`,
    deleteStackCommand: `aws cloudformation delete-stack --stack-name ${stack} ${region}`,
    glueDatabase: naming.glueDatabase(team, dataset),
    dataPrefixes,
    deleteDataCommands: dataPrefixes.map((prefix) => `aws s3 rm ${prefix} --recursive ${region}`),
  };
}

/** Quotes a path for a POSIX shell when it needs it. */
function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

/** The lines that tell what stays after a removal and how to delete it; the command prints them. */
export function formatRemoveDatasetSummary(result: RemoveDatasetResult): string[] {
  const name = `${result.team}/${result.dataset}`;
  const lines = [
    result.dryRun
      ? `Dry run: would unregister ${name} from ${result.environments.join(', ')} of ${result.parametersFile}; nothing was changed.`
      : `Unregistered ${name} from ${result.environments.join(', ')} of ${result.parametersFile}.`,
  ];
  if (result.stillRegistered.length > 0) lines.push(`It stays registered in ${result.stillRegistered.join(', ')}.`);
  if (result.removed.length > 0) {
    lines.push(
      `${result.dryRun ? 'Would delete' : 'Deleted'} ${result.removed.length} file(s) and folder(s) that only ${name} used.`,
    );
  }
  if (result.removeCommand) {
    lines.push(
      `${result.dryRun ? 'Would keep' : 'Kept'} its files that nothing else uses (--remove-files deletes them); to delete them yourself: ${result.removeCommand}`,
    );
  }
  for (const env of result.aws) {
    lines.push(
      `On AWS (${env.env}, account ${env.account}): its stack ${env.stack} stays until "${env.pruneCommand}" deletes it (it asks first; or delete it yourself: ${env.deleteStackCommand}).`,
      `  (that deletes the Glue database ${env.glueDatabase} with its table definitions, and any stage B message still queued; the data files stay)`,
      `Its data stays in ${env.dataPrefixes.join(', ')}; nothing deletes it unless you do (the buckets are versioned, so earlier versions stay):`,
      ...env.deleteDataCommands.map((command) => `  ${command}`),
    );
  }
  return lines;
}
