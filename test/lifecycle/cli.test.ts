import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/project.js';
import { writeProject } from './moto.js';

// The built CLI, run as a user would, against moto_server; credentials and endpoint exist only in the child's env.
const bin = join(repoRoot, 'bin', 'run.js');
const region = 'ca-central-1';
let env: Record<string, string>;
let root: string;
const sdlf = (...args: string[]) => execa('node', [bin, ...args], { env, reject: false, stdin: 'ignore' });

describe('the lifecycle commands (built CLI)', () => {
  beforeAll(() => {
    env = {
      AWS_ENDPOINT_URL: inject('motoEndpoint').replace('127.0.0.1', 'localhost'),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: region,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    };
    root = writeProject({ region, prefix: 'cli' });
  });

  it('bootstraps with --json: the result on stdout, progress and the policy warning on stderr', async () => {
    const result = await sdlf('bootstrap', '--path', root, '--env', 'dev', '--json');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ env: 'dev', region, lakeFormation: { changed: true } });
    expect(result.stderr).toContain('AdministratorAccess');
    expect(result.stderr).toContain('--cloudformation-execution-policies');
  }, 120_000);

  it('prints the delete-all plan under --dry-run and exits 0', async () => {
    const result = await sdlf('delete-all', '--path', root, '--env', 'dev', '--dry-run');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Dry run: delete-all would do this in environment "dev"');
    expect(result.stdout).toContain('remove LF admins');
    // The AWS SDK ran (it listed the stacks), and its multi-line Node.js warning did not reach the user: on a Node.js
    // older than 22 sdlf says so in one line of its own, once.
    expect(result.stderr).not.toContain('NodeVersionSupportWarning');
    const notices = result.stderr.split('\n').filter((line) => line.includes('is past its end of life'));
    expect(notices).toEqual(Number.parseInt(process.versions.node, 10) < 22 ? [expect.stringContaining('nvm install 24')] : []);
  }, 60_000);

  it('refuses delete-all without a terminal and without --yes, exit code 2', async () => {
    const result = await sdlf('delete-all', '--path', root, '--env', 'dev');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--yes');
  }, 60_000);

  it.each(['delete-all', 'deploy', 'bootstrap'])(
    'rejects %s --timeout that is not minutes above 0, exit code 2',
    async (command) => {
      const result = await sdlf(command, '--path', root, '--env', 'dev', '--timeout', 'soon');
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('--timeout "soon" is not a number of minutes above 0.');
      expect(result.stderr).toContain('--timeout 30');
    },
    60_000,
  );

  it('fails deploy with NOT_BOOTSTRAPPED guidance in a region that is not bootstrapped, exit code 2', async () => {
    const result = await sdlf('deploy', '--path', root, '--env', 'dev', '--direct', '--region', 'sa-east-1');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('sdlf bootstrap --env dev --region sa-east-1');
  }, 60_000);
});
