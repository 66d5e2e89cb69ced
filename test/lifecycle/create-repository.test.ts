import { execFileSync } from 'node:child_process';
import { CodeCommitClient, CreateRepositoryCommand, GetRepositoryCommand } from '@aws-sdk/client-codecommit';
import { CodeStarConnectionsClient, GetConnectionCommand } from '@aws-sdk/client-codestar-connections';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { createRepository } from '../../src/services/create-repository.js';
import { tempDir, writeJsonFiles } from '../helpers/project.js';
import { MOTO_ACCOUNT, writeProject } from './moto.js';

// CodeCommit is mocked here for what moto_server cannot show (an existing repository's default branch, a taken
// remote, CodeConnections); test/lifecycle/moto-cicd.test.ts runs createRepository against moto_server.
const sts = mockClient(STSClient);
const codeCommit = mockClient(CodeCommitClient);
const connections = mockClient(CodeStarConnectionsClient);
const cloneUrl = 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/sdlf-demo';
const notFound = Object.assign(new Error('no repo'), { name: 'RepositoryDoesNotExistException' });
/** A bare repository standing in for the remote. */
const bare = () => {
  const dir = tempDir();
  execFileSync('git', ['init', '--bare', '--quiet', dir]);
  return dir;
};
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

let root: string;
beforeEach(() => {
  root = writeProject({ region: 'eu-west-1', prefix: 'demo' });
  sts.on(GetCallerIdentityCommand).resolves({ Account: MOTO_ACCOUNT, Arn: `arn:aws:iam::${MOTO_ACCOUNT}:user/ci` });
  codeCommit.on(GetRepositoryCommand).rejects(notFound);
  codeCommit
    .on(CreateRepositoryCommand)
    .resolves({ repositoryMetadata: { repositoryName: 'sdlf-demo', cloneUrlHttp: cloneUrl } });
});
afterEach(() => {
  sts.reset();
  codeCommit.reset();
  connections.reset();
});

describe('createRepository', () => {
  it('creates the repository with the project tag, initialises git and adds the remote', async () => {
    const result = await createRepository({ root }, createRecordingIo());
    expect(result).toMatchObject({
      provider: 'codecommit',
      status: 'created',
      remote: 'added',
      gitInitialised: true,
      pushCommand: 'git add -A && git commit -m "Add the data lake project" && git push --set-upstream origin HEAD:main',
    });
    expect(codeCommit.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toMatchObject({
      repositoryName: 'sdlf-demo',
      tags: { 'sdlf:project': 'demo' },
    });
    expect(git(root, 'remote', 'get-url', 'origin')).toBe(cloneUrl);
  });

  it('gives a push command that works in the fresh repository, from a local branch of another name', async () => {
    // Given the command's own hint, run in the fresh repository it initialised, on a branch renamed since
    const result = await createRepository({ root }, createRecordingIo());
    git(root, 'branch', '-m', 'work');
    git(root, 'remote', 'set-url', 'origin', bare());
    // When the hint runs
    execFileSync('sh', ['-c', result.pushCommand], {
      cwd: root,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'a',
        GIT_AUTHOR_EMAIL: 'a@b.c',
        GIT_COMMITTER_NAME: 'a',
        GIT_COMMITTER_EMAIL: 'a@b.c',
      },
      stdio: 'ignore',
    });
    // Then the project is on the repository's branch
    expect(git(root, 'ls-remote', '--heads', 'origin', 'main')).toMatch(/refs\/heads\/main$/);
  });

  it('is idempotent: an existing repository and remote are left as they are, history untouched', async () => {
    git(root, 'init', '--initial-branch', 'main');
    git(root, '-c', 'user.email=a@b.c', '-c', 'user.name=a', 'commit', '--allow-empty', '-m', 'mine');
    git(root, 'remote', 'add', 'origin', cloneUrl);
    codeCommit
      .on(GetRepositoryCommand)
      .resolves({ repositoryMetadata: { repositoryName: 'sdlf-demo', cloneUrlHttp: cloneUrl, defaultBranch: 'main' } });
    const result = await createRepository({ root }, createRecordingIo());
    expect(result).toMatchObject({
      status: 'exists',
      remote: 'unchanged',
      gitInitialised: false,
      pushCommand: 'git push --set-upstream origin HEAD:main',
    });
    expect(codeCommit.commandCalls(CreateRepositoryCommand)).toHaveLength(0);
    expect(git(root, 'log', '--format=%s')).toBe('mine');
  });

  it('throws REPOSITORY_MISMATCH showing both names', async () => {
    await expect(createRepository({ root, name: 'other-repo' }, createRecordingIo())).rejects.toMatchObject({
      code: 'REPOSITORY_MISMATCH',
      message: expect.stringMatching(/"other-repo".*"sdlf-demo"/),
    });
  });

  it('throws REPOSITORY_SETTINGS when the repository exists with another default branch', async () => {
    codeCommit
      .on(GetRepositoryCommand)
      .resolves({ repositoryMetadata: { repositoryName: 'sdlf-demo', cloneUrlHttp: cloneUrl, defaultBranch: 'master' } });
    await expect(createRepository({ root }, createRecordingIo())).rejects.toMatchObject({
      code: 'REPOSITORY_SETTINGS',
      message: expect.stringContaining('"master"'),
    });
  });

  it('throws REMOTE_EXISTS when origin points elsewhere, and keeps it', async () => {
    git(root, 'init', '--initial-branch', 'main');
    git(root, 'remote', 'add', 'origin', 'https://example.com/mine.git');
    await expect(createRepository({ root }, createRecordingIo())).rejects.toMatchObject({ code: 'REMOTE_EXISTS' });
    expect(git(root, 'remote', 'get-url', 'origin')).toBe('https://example.com/mine.git');
  });

  it('explains the console step of a pending CodeConnections connection', async () => {
    const arn = `arn:aws:codeconnections:eu-west-1:${MOTO_ACCOUNT}:connection/abc-123`;
    writeJsonFiles(root, {
      'ddk.json': {
        environments: {
          cicd: {
            account: MOTO_ACCOUNT,
            region: 'eu-west-1',
            cicd_enabled: true,
            source: { provider: 'codeconnections', connection_arn: arn, repository: 'acme/lake' },
          },
          dev: { account: MOTO_ACCOUNT, region: 'eu-west-1', resource_prefix: 'demo' },
        },
      },
    });
    connections.on(GetConnectionCommand).resolves({ Connection: { ConnectionArn: arn, ConnectionStatus: 'PENDING' } });
    const result = await createRepository({ root }, createRecordingIo());
    expect(result).toMatchObject({ provider: 'codeconnections', connectionStatus: 'PENDING' });
    expect(result.provider === 'codeconnections' && result.instructions.join(' ')).toContain('Update pending connection');
    expect(codeCommit.calls()).toHaveLength(0);
  });
});
