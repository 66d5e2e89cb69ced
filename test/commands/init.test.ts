import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { ACME_INIT_FLAGS } from '../helpers/init.js';
import { repoRoot, snapshotTree, tempDir } from '../helpers/project.js';

beforeAll(() => ensureBuilt());

const flags = ACME_INIT_FLAGS;

describe('sdlf init', () => {
  it('creates a project under --yes that sdlf validate accepts', async () => {
    // Given an empty folder
    const parent = tempDir();
    // When init runs with --yes and then validate runs on the result
    const init = await sdlf(['init', 'demo', '--yes', '--path', parent]);
    // Then init succeeds, reports on stdout and lists the files on stderr
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toContain(`Created the sdlf project ${join(parent, 'demo')}`);
    expect(init.stdout).toContain('npx sdlf validate');
    expect(init.stderr).toContain('create    ddk.json');
    expect(init.stderr).toContain('Warning: ddk.json holds the placeholder account 111111111111');
    const validate = await sdlf(['validate', '--path', join(parent, 'demo')]);
    expect(validate.stderr).toBe('');
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout).toContain('dataset dev/demoteam/legislators: pipeline standard');
  });

  it('prints only the result as JSON under --json', async () => {
    const parent = tempDir();
    const run = await sdlf(['init', 'demo', '--path', parent, '--json', ...flags]);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      root: join(parent, 'demo'),
      prefix: 'acme',
      environment: { id: 'dev', account: '123456789012', region: 'eu-west-1' },
      cicd: { enabled: true, account: '210987654321', region: 'eu-central-1', repository: 'acme-lake' },
      placeholders: [],
    });
    expect(result.files).toContainEqual({ path: 'ddk.json', action: 'create' });
  });

  it('takes every answer from its SDLF_* environment variable', async () => {
    const parent = tempDir();
    const env = {
      SDLF_PREFIX: 'acme',
      SDLF_ACCOUNT: '123456789012',
      SDLF_REGION: 'eu-west-1',
      SDLF_CICD: 'true',
      SDLF_CICD_ACCOUNT: '210987654321',
      SDLF_CICD_REGION: 'eu-central-1',
      SDLF_REPOSITORY: 'acme-lake',
      SDLF_ENV_NAME: 'dev',
      SDLF_PROJECT_ID: '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d',
    };
    const byEnv = await sdlf(['init', 'lake', '--path', join(parent, 'env')], { env });
    const byFlags = await sdlf([
      'init',
      'lake',
      '--path',
      join(parent, 'flags'),
      ...flags,
      '--project-id',
      '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d',
    ]);
    expect(byEnv.exitCode).toBe(0);
    expect(byFlags.exitCode).toBe(0);
    expect(snapshotTree(join(parent, 'env'))).toEqual(snapshotTree(join(parent, 'flags')));
  });

  it('infers the region from AWS_REGION and says so', async () => {
    const parent = tempDir();
    const run = await sdlf(['init', 'lake', '--path', parent, '--yes'], { env: { AWS_REGION: 'eu-north-1' } });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('Using region eu-north-1 from AWS_REGION.');
    expect(JSON.parse(readFileSync(join(parent, 'lake', 'ddk.json'), 'utf8')).environments.dev.region).toBe('eu-north-1');
  });

  it('writes nothing under --dry-run', async () => {
    const parent = tempDir();
    const run = await sdlf(['init', 'lake', '--path', parent, '--yes', '--dry-run']);
    expect(run.exitCode).toBe(0);
    // Among the 15 files: this sdlf packed into vendor/ (no registry serves the clone) and the
    // manifest of generated files that `sdlf upgrade` reads.
    expect(run.stdout).toContain('Dry run: sdlf init would write 15 file(s)');
    expect(run.stdout).toContain('sdlf dependency: file:vendor/sdlf-0.1.0.tgz');
    expect(run.stderr).toContain('(dry run) create    ddk.json');
    expect(run.stderr).toContain('(dry run) create    vendor/sdlf-0.1.0.tgz');
    expect(run.stderr).toContain('(dry run) create    .sdlf-generated.json');
    expect(snapshotTree(parent)).toEqual({});
  });

  it.each([
    [
      'a 10-digit account',
      ['--yes', '--account', '1234567890'],
      '--account "1234567890" is invalid: must be a 12-digit AWS account id.',
    ],
    ['an unknown region', ['--yes', '--region', 'us-east-7'], '--region "us-east-7" is invalid'],
    ['an uppercase prefix', ['--yes', '--prefix', 'ACME'], '--prefix "ACME" is invalid'],
    ['a prefix with a space', ['--yes', '--prefix', 'my lake'], '--prefix "my lake" is invalid'],
    ['an environment name with an underscore', ['--yes', '--env-name', 'my_env'], '--env-name "my_env" is invalid'],
    [
      'names too long for AWS',
      ['--yes', '--prefix', 'abcdefghijklmno', '--env-name', 'abcdefghij', '--region', 'ap-southeast-1'],
      'AWS allows 63 for this resource',
    ],
    ['missing answers without a terminal', [], 'sdlf init needs --prefix, --account, --region, --cicd or --no-cicd'],
  ])('exits 2 on %s, naming the value, and writes nothing', async (_, args, message) => {
    const parent = tempDir();
    const run = await sdlf(['init', 'lake', '--path', parent, ...args]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toContain(message);
    expect(snapshotTree(parent)).toEqual({});
  });

  it('exits 2 on an empty folder argument (an unset variable in quotes) instead of writing into --path', async () => {
    const parent = tempDir();
    const run = await sdlf(['init', '', '--path', parent, '--yes', '--no-install']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain('The project folder "" is empty.');
    expect(oneLine(run.stderr)).toContain('Name the new folder (sdlf init my-lake), or leave the argument out');
    expect(snapshotTree(parent)).toEqual({});
  });

  it('exits 2 on a non-empty folder, naming it, and changes nothing', async () => {
    const parent = tempDir();
    mkdirSync(join(parent, 'lake'));
    writeFileSync(join(parent, 'lake', 'ddk.json'), '{ "mine": true }\n');
    const before = snapshotTree(parent);
    const run = await sdlf(['init', 'lake', '--path', parent, '--yes']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain(`The folder ${join(parent, 'lake')} is not empty`);
    expect(snapshotTree(parent)).toEqual(before);
  });

  it('produces TypeScript (transforms and a custom pipeline) that type-checks against the package', async () => {
    // Given a new project with a custom pipeline and a second dataset, linked to this package as npm would install it
    const parent = tempDir();
    const root = join(parent, 'lake');
    expect((await sdlf(['init', 'lake', '--path', parent, '--yes'])).exitCode).toBe(0);
    expect((await sdlf(['add-pipeline', 'batch', '--path', root])).exitCode).toBe(0);
    const addDataset = ['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders', '--pipeline', 'batch'];
    expect((await sdlf([...addDataset, '--stage-a-transform', 'orders_light'])).exitCode).toBe(0);
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(repoRoot, join(root, 'node_modules', 'sdlf'), 'dir');
    symlinkSync(join(repoRoot, 'node_modules', '@types'), join(root, 'node_modules', '@types'), 'dir');
    // When tsc checks the project with its own tsconfig.json
    const tsc = await execa('node', [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', root], {
      reject: false,
    });
    // Then it finds no error
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.exitCode).toBe(0);
  });
});
