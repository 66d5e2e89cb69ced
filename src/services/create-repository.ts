import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateRepositoryCommand,
  GetRepositoryCommand,
  ListTagsForResourceCommand,
  type RepositoryMetadata,
} from '@aws-sdk/client-codecommit';
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections';
import { isAwsError } from '../aws/errors.js';
import { type AwsCommandOptions, type AwsSession, openSession } from '../aws/session.js';
import { CICD_ENVIRONMENT } from '../aws/target.js';
import { loadProject } from '../config/load.js';
import type { CicdEnvironment, PipelineSource } from '../config/model.js';
import { SDLF_TAG_KEYS } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';

const run = promisify(execFile);

/** Options of {@link createRepository}. */
export interface CreateRepositoryOptions extends Omit<AwsCommandOptions, 'env'> {
  /** Repository name; must equal the one in ddk.json. @default ddk.json's cicd repository */
  readonly name?: string;
}

/** What {@link createRepository} did. */
export type CreateRepositoryResult =
  | {
      readonly provider: 'codecommit';
      readonly repository: string;
      readonly account: string;
      readonly region: string;
      /** `created`, or `exists` when it was already there. */
      readonly status: 'created' | 'exists';
      readonly cloneUrl: string;
      /** What happened to the git remote `origin`. */
      readonly remote: 'added' | 'unchanged';
      /** Whether the project folder was made a git repository. */
      readonly gitInitialised: boolean;
      readonly pushCommand: string;
    }
  | {
      readonly provider: 'codeconnections';
      readonly repository: string;
      readonly connectionArn: string;
      /** `AVAILABLE`, `PENDING` (needs the console step) or `ERROR`. */
      readonly connectionStatus: string;
      readonly instructions: readonly string[];
    };

/**
 * Prepares the CI/CD source. For CodeCommit (the default) it creates the repository in the cicd account if it is
 * missing (idempotent), points the project's git remote `origin` at it (initialising git when the folder is not
 * a repository yet, never touching existing history) and returns the push command. For a CodeConnections source it
 * checks the connection and explains the one console step a new connection needs.
 */
export async function createRepository(options: CreateRepositoryOptions, io: Io): Promise<CreateRepositoryResult> {
  const project = await loadProject(options.root);
  const source = project.cicd.source;
  assertRepositoryName(options.name, source);
  const session = await openSession({ ...options, env: CICD_ENVIRONMENT }, io, { allowCicd: true });
  if (source.provider === 'codeconnections') return checkConnection(session, source, io);

  const { target } = session;
  const { metadata, status } = await ensureCodeCommitRepository(session, project.cicd, source, io);
  const cloneUrl =
    metadata?.cloneUrlHttp ?? `https://git-codecommit.${target.region}.amazonaws.com/v1/repos/${source.repository}`;
  const gitInitialised = await initialiseGit(project.root, source.branch, io);
  const remote = await pointOriginAt(project.root, cloneUrl, io);
  return {
    provider: 'codecommit',
    repository: source.repository,
    account: target.account,
    region: target.region,
    status,
    cloneUrl,
    remote,
    gitInitialised,
    pushCommand: await pushCommandFor(project.root, source.branch),
  };
}

type CodeCommitSource = Extract<PipelineSource, { provider: 'codecommit' }>;
type CodeConnectionsSource = Extract<PipelineSource, { provider: 'codeconnections' }>;

/** Refuses a repository name that differs from ddk.json's. */
function assertRepositoryName(name: string | undefined, source: PipelineSource): void {
  if (name !== undefined && name !== source.repository) {
    throw new SdlfError(`Repository "${name}" differs from the one in ddk.json, "${source.repository}".`, {
      code: 'REPOSITORY_MISMATCH',
      suggestions: [
        `Run "sdlf create-repository ${source.repository}", or set environments.cicd.repository to "${name}" in ddk.json.`,
      ],
    });
  }
}

/** Checks the CodeConnections connection and prints what, if anything, is left to do in the console. */
async function checkConnection(
  { clients, target }: AwsSession,
  source: CodeConnectionsSource,
  io: Io,
): Promise<CreateRepositoryResult> {
  const reply = await clients.codeConnections
    .send(new GetConnectionCommand({ ConnectionArn: source.connectionArn }))
    .catch((error: unknown) => {
      if (isAwsError(error, 'ResourceNotFoundException')) {
        throw new SdlfError(`Connection ${source.connectionArn} does not exist in aws://${target.account}/${target.region}.`, {
          code: 'CONNECTION_NOT_FOUND',
          suggestions: ['Create it in the console (Developer Tools > Settings > Connections) and put its ARN in ddk.json.'],
        });
      }
      throw error;
    });
  const status = reply.Connection?.ConnectionStatus ?? 'UNKNOWN';
  const instructions =
    status === 'AVAILABLE'
      ? [
          `Connection is AVAILABLE: pushes to ${source.repository}@${source.branch} will start the pipeline once it is deployed ("sdlf deploy").`,
        ]
      : [
          `Connection is ${status}: a new connection must be approved once by a person.`,
          `Open the console: Developer Tools > Settings > Connections > ${source.connectionArn.split('/').pop()} > "Update pending connection", and authorise access to ${source.repository}.`,
          'Then run "sdlf create-repository" again to check it.',
        ];
  for (const line of instructions) io.info(line);
  return {
    provider: 'codeconnections',
    repository: source.repository,
    connectionArn: source.connectionArn,
    connectionStatus: status,
    instructions,
  };
}

/** Creates the CodeCommit repository when it is missing; an existing one is checked instead. */
async function ensureCodeCommitRepository(
  session: AwsSession,
  cicd: CicdEnvironment,
  source: CodeCommitSource,
  io: Io,
): Promise<{ metadata: RepositoryMetadata | undefined; status: 'created' | 'exists' }> {
  const existing = await getRepository(session, source.repository);
  if (existing) {
    await checkExistingRepository(session, cicd, source, existing, io);
    return { metadata: existing, status: 'exists' };
  }
  const { clients, target } = session;
  const metadata = (
    await clients.codeCommit.send(
      new CreateRepositoryCommand({
        repositoryName: source.repository,
        repositoryDescription: `Serverless data lake (sdlf) project, prefix "${cicd.resourcePrefix}"`,
        tags: { [SDLF_TAG_KEYS.project]: cicd.resourcePrefix },
      }),
    )
  ).repositoryMetadata;
  io.info(`Created repository ${source.repository} in aws://${target.account}/${target.region}.`);
  return { metadata, status: 'created' };
}

/** The repository's metadata; undefined when it does not exist. */
async function getRepository({ clients }: AwsSession, repositoryName: string): Promise<RepositoryMetadata | undefined> {
  try {
    return (await clients.codeCommit.send(new GetRepositoryCommand({ repositoryName }))).repositoryMetadata;
  } catch (error) {
    if (!isAwsError(error, 'RepositoryDoesNotExistException')) throw error;
    return undefined;
  }
}

/** Refuses an existing repository on another default branch; warns when it lacks the project's tag. */
async function checkExistingRepository(
  { clients, target }: AwsSession,
  cicd: CicdEnvironment,
  source: CodeCommitSource,
  metadata: RepositoryMetadata,
  io: Io,
): Promise<void> {
  if (metadata.defaultBranch && metadata.defaultBranch !== source.branch) {
    throw new SdlfError(
      `Repository ${source.repository} already exists with default branch "${metadata.defaultBranch}", but ddk.json's pipeline follows "${source.branch}".`,
      {
        code: 'REPOSITORY_SETTINGS',
        suggestions: [
          `Set environments.cicd.branch to "${metadata.defaultBranch}" in ddk.json, or change the repository's default branch to "${source.branch}".`,
        ],
      },
    );
  }
  io.info(`Repository ${source.repository} already exists in aws://${target.account}/${target.region}.`);
  // delete-all deletes only a repository with the project's tag: say so when this one lacks it.
  const tags = metadata.Arn
    ? ((await clients.codeCommit.send(new ListTagsForResourceCommand({ resourceArn: metadata.Arn })))?.tags ?? {})
    : {};
  if (tags[SDLF_TAG_KEYS.project] !== cicd.resourcePrefix) {
    io.warn(
      `Repository ${source.repository} lacks the tag ${SDLF_TAG_KEYS.project}=${cicd.resourcePrefix} (sdlf did not create it): ` +
        'the pipeline uses it as its source, and "sdlf delete-all --include-repository" will leave it in place.',
    );
  }
}

/** Runs `git init` when the project folder is not a git repository yet; returns whether it did. */
async function initialiseGit(root: string, branch: string, io: Io): Promise<boolean> {
  if (existsSync(join(root, '.git'))) return false;
  await git(root, ['init', '--initial-branch', branch]);
  io.info(`Initialised git in ${root} (branch ${branch}).`);
  return true;
}

/** Adds the git remote `origin` for the repository; an `origin` that points elsewhere is refused, never changed. */
async function pointOriginAt(root: string, cloneUrl: string, io: Io): Promise<'added' | 'unchanged'> {
  const remotes = (await git(root, ['remote'])).split('\n').filter(Boolean);
  if (remotes.includes('origin')) {
    const current = (await git(root, ['remote', 'get-url', 'origin'])).trim();
    if (current !== cloneUrl) {
      throw new SdlfError(`The git remote "origin" points to ${current}, not to the repository ${cloneUrl}.`, {
        code: 'REMOTE_EXISTS',
        suggestions: [`Point it at the repository with "git remote set-url origin ${cloneUrl}", or add it under another name.`],
      });
    }
    return 'unchanged';
  }
  await git(root, ['remote', 'add', 'origin', cloneUrl]);
  io.info(`Added git remote origin → ${cloneUrl}.`);
  return 'added';
}

/** The command that pushes the project to the pipeline's branch, committing first when there is no commit yet. */
async function pushCommandFor(root: string, branch: string): Promise<string> {
  // A fresh repository has no commit to push yet; the push names the remote branch, so any local branch name works.
  const push = `git push --set-upstream origin HEAD:${branch}`;
  return (await hasCommit(root)) ? push : `git add -A && git commit -m "Add the data lake project" && ${push}`;
}

/** Whether the repository's HEAD points at a commit (a fresh repository's does not). */
async function hasCommit(cwd: string): Promise<boolean> {
  return run('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd }).then(
    () => true,
    () => false,
  );
}

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    return (await run('git', args, { cwd })).stdout;
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT') {
      throw new SdlfError('git is not installed, so sdlf cannot set the remote.', {
        code: 'GIT_MISSING',
        suggestions: ['Install git (2.28 or later), then re-run "sdlf create-repository".'],
      });
    }
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr ?? String(error)}`);
  }
}
