import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { isSdlfError, type SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { type InitProjectOptions, initProject, type Prompter } from '../../src/services/init-project.js';
import { validateProject } from '../../src/services/validate-project.js';
import { snapshotTree, tempDir } from '../helpers/project.js';

const full = {
  prefix: 'acme',
  account: '123456789012',
  region: 'eu-west-1',
  cicd: true,
  cicdAccount: '210987654321',
  cicdRegion: 'eu-central-1',
  repository: 'acme-lake',
} as const;

/** A prompter that answers from a script ('' takes the default) and records what it was asked and told. */
function scriptedPrompter(script: Array<string | boolean>) {
  const asked: string[] = [];
  const rejected: string[] = [];
  const prompter: Prompter = {
    input: async ({ message, default: fallback, validate }) => {
      asked.push(message);
      for (;;) {
        const next = script.shift();
        if (typeof next !== 'string') throw new Error(`no text answer scripted for "${message}"`);
        const value = next === '' ? (fallback ?? '') : next;
        const verdict = validate(value);
        if (verdict === true) return value;
        rejected.push(verdict);
      }
    },
    confirm: async ({ message }) => {
      asked.push(message);
      const next = script.shift();
      if (typeof next !== 'boolean') throw new Error(`no yes/no answer scripted for "${message}"`);
      return next;
    },
  };
  return { prompter, asked, rejected };
}

async function failure(options: InitProjectOptions): Promise<SdlfError> {
  const parent = join(options.directory, '..');
  const before = snapshotTree(parent);
  const error = await initProject(options, createRecordingIo()).catch((e: unknown) => e);
  if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
  expect(snapshotTree(parent)).toEqual(before);
  return error;
}

const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('initProject', () => {
  it('creates a complete, valid project with the documented defaults under --yes', async () => {
    // Given a new folder and no flags
    const directory = join(tempDir(), 'my-lake');
    const io = createRecordingIo();
    // When init runs with --yes
    const result = await initProject({ install: false, directory, yes: true }, io);
    // Then ddk.json has the seed's shape with the defaults: prefix ddk, env dev, placeholder account, us-east-1, no CI/CD
    expect(json(directory, 'ddk.json')).toEqual({
      project_id: result.projectId,
      environments: {
        cicd: { account: '111111111111', region: 'us-east-1', repository: 'my-lake', cicd_enabled: false },
        dev: {
          account: '111111111111',
          region: 'us-east-1',
          resource_prefix: 'ddk',
          manual_approvals: false,
          data_pipeline_parameters: { org: 'aws', app: 'datalake' },
        },
      },
    });
    expect(json(directory, 'parameters.json')).toEqual({
      dev: [
        {
          team: 'demoteam',
          pipeline: 'standard',
          dataset: 'legislators',
          stage_a_transform: 'sdlf_light_transform',
          stage_b_transform: 'sdlf_heavy_transform',
        },
      ],
    });
    // And the placeholders are reported
    expect(result.placeholders).toEqual(['environments.dev.account', 'environments.cicd.account']);
    expect(io.lines.find((l) => l.level === 'warn')?.message).toContain('placeholder account 111111111111');
    // And every file of a project is there
    expect(result.files.map((f) => f.path)).toEqual([
      '.gitignore',
      '.sdlf-generated.json',
      'README.md',
      'cdk.json',
      'data/demoteam/legislators/memberships.json',
      'data/demoteam/legislators/organizations.json',
      'data/demoteam/legislators/persons.json',
      'data/demoteam/legislators/regions.json',
      'ddk.json',
      'package.json',
      'parameters.json',
      'transforms/heavy/sdlf_heavy_transform/transform.sql',
      'transforms/light/sdlf_light_transform.ts',
      'tsconfig.json',
      'vendor/sdlf-0.1.0.tgz',
    ]);
    expect(readFileSync(join(directory, 'transforms/heavy/sdlf_heavy_transform/transform.sql'))).toEqual(
      readFileSync(new URL('../../src/templates/legislators/transform.sql', import.meta.url)),
    );
    expect(readFileSync(join(directory, '.gitignore'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['node_modules/', 'cdk.out/', '.sdlf/']),
    );
    // And the project loads and validates
    const validated = await validateProject({ root: directory }, createRecordingIo());
    expect(validated.datasets).toHaveLength(1);
  });

  it('writes package.json depending on the range of this sdlf when a registry installed it', async () => {
    // Given an sdlf that npm installed from a registry
    const directory = join(tempDir(), 'My Lake');
    const sdlfOrigin = { kind: 'registry', resolved: 'https://registry.example/sdlf/-/sdlf-0.1.0.tgz' } as const;
    // When init runs
    const result = await initProject({ install: false, directory, yes: true, sdlfOrigin }, createRecordingIo());
    // Then the project depends on its semver range, the CDK CLI of sdlf and nothing is vendored
    const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const pkg = json(directory, 'package.json');
    expect(pkg.name).toBe('my-lake');
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies).toEqual({ sdlf: `^${own.version}` });
    expect(pkg.devDependencies['aws-cdk']).toBe(own.devDependencies['aws-cdk']);
    expect(result.files.map((f) => f.path).filter((p) => p.startsWith('vendor/'))).toEqual([]);
    expect(result.installed).toBe(false);
    expect(result.nextSteps).toContain('npm install');
    expect(pkg.scripts).toMatchObject({
      synth: 'sdlf synth',
      validate: 'sdlf validate',
      'run-local': 'sdlf run --local --team demoteam --dataset legislators',
    });
    expect(json(directory, 'cdk.json').app).toBe('node node_modules/sdlf/bin/cdk-app.js');
  });

  it('uses every flag given, and no question is asked', async () => {
    const directory = join(tempDir(), 'lake');
    const { prompter, asked } = scriptedPrompter([]);
    const result = await initProject({ install: false, directory, ...full, envName: 'test', prompter }, createRecordingIo());
    expect(asked).toEqual([]);
    expect(result).toMatchObject({
      prefix: 'acme',
      environment: { id: 'test', account: '123456789012', region: 'eu-west-1' },
      cicd: { enabled: true, account: '210987654321', region: 'eu-central-1', repository: 'acme-lake' },
      placeholders: [],
    });
    const ddk = json(directory, 'ddk.json');
    expect(ddk.environments.cicd).toEqual({
      account: '210987654321',
      region: 'eu-central-1',
      repository: 'acme-lake',
      cicd_enabled: true,
    });
    expect(Object.keys(json(directory, 'parameters.json'))).toEqual(['test']);
  });

  it('asks prefix, account, region, CI/CD, then the CI/CD account, region and repository, re-asking bad answers', async () => {
    const directory = join(tempDir(), 'lake');
    const { prompter, asked, rejected } = scriptedPrompter([
      'acme',
      '1234567890',
      '123456789012',
      'eu-west-1',
      true,
      '210987654321',
      'eu-central-1',
      'acme-lake',
    ]);
    const projectId = '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d';
    await initProject({ install: false, directory, prompter, projectId }, createRecordingIo());
    expect(asked).toEqual([
      'Resource prefix (starts every AWS resource name)',
      'AWS account id of the environment',
      'AWS region of the environment',
      'Deploy through a CI/CD pipeline (CodePipeline in a cicd account)?',
      'AWS account id of the CI/CD pipeline',
      'AWS region of the CI/CD pipeline',
      'CodeCommit repository name',
    ]);
    expect(rejected).toEqual(['"1234567890" must be a 12-digit AWS account id']);
    // Then the project is the one the flags give
    const byFlags = join(tempDir(), 'lake');
    await initProject({ install: false, directory: byFlags, ...full, projectId }, createRecordingIo());
    expect(snapshotTree(directory)).toEqual(snapshotTree(byFlags));
  });

  it('skips the CI/CD questions when CI/CD is off; the cicd environment takes the deployment account and region', async () => {
    const directory = join(tempDir(), 'lake');
    const { prompter, asked } = scriptedPrompter(['', '123456789012', 'eu-west-1', false]);
    const result = await initProject({ install: false, directory, prompter }, createRecordingIo());
    expect(asked).toHaveLength(4);
    expect(result.prefix).toBe('ddk');
    expect(result.cicd).toEqual({ enabled: false, account: '123456789012', region: 'eu-west-1', repository: 'lake' });
  });

  it('uses inferred account and region before asking, and says where they came from', async () => {
    const directory = join(tempDir(), 'lake');
    const io = createRecordingIo();
    const result = await initProject(
      {
        install: false,
        directory,
        prefix: 'acme',
        cicd: false,
        inferred: {
          account: { value: '123456789012', source: 'AWS_ACCOUNT_ID' },
          region: { value: 'eu-north-1', source: 'AWS_REGION' },
        },
      },
      io,
    );
    expect(result.environment).toEqual({ id: 'dev', account: '123456789012', region: 'eu-north-1' });
    expect(io.lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['Using account 123456789012 from AWS_ACCOUNT_ID.', 'Using region eu-north-1 from AWS_REGION.']),
    );
  });

  it('defaults the deployment account and region to the CI/CD ones under --yes', async () => {
    const directory = join(tempDir(), 'lake');
    const result = await initProject(
      { install: false, directory, yes: true, cicd: true, cicdAccount: '210987654321', cicdRegion: 'eu-central-1' },
      createRecordingIo(),
    );
    expect(result.environment).toEqual({ id: 'dev', account: '210987654321', region: 'eu-central-1' });
    expect(result.placeholders).toEqual([]);
  });

  it('packs this sdlf into vendor/ and depends on it with file: when no registry serves it', async () => {
    // Given an sdlf run from a clone
    const directory = join(tempDir(), 'lake');
    const sdlfOrigin = { kind: 'local', reason: 'a clone' } as const;
    // When init runs
    const result = await initProject({ install: false, directory, yes: true, sdlfOrigin }, createRecordingIo());
    // Then the project holds this sdlf's tarball and names it
    const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const tarball = `vendor/sdlf-${own.version}.tgz`;
    expect(result.sdlf).toEqual({ spec: `file:${tarball}`, source: 'vendored', vendoredPath: tarball });
    expect(json(directory, 'package.json').dependencies).toEqual({ sdlf: `file:${tarball}` });
    const listing = execFileSync('tar', ['-tzf', join(directory, tarball)], { encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(expect.arrayContaining(['package/package.json', 'package/bin/run.js', 'package/LICENSE']));
    expect(listing.filter((path) => /\.map$|^package\/(test|bench|src)\//.test(path))).toEqual([]);
  });

  it('writes the --sdlf-spec dependency as given and vendors nothing', async () => {
    const directory = join(tempDir(), 'lake');
    const sdlfSpec = 'github:example/sdlf#v0.1.0';
    const result = await initProject(
      { install: false, directory, yes: true, sdlfSpec, sdlfOrigin: { kind: 'local', reason: 'a clone' } },
      createRecordingIo(),
    );
    expect(json(directory, 'package.json').dependencies).toEqual({ sdlf: sdlfSpec });
    expect(result.files.map((f) => f.path).filter((p) => p.startsWith('vendor/'))).toEqual([]);
  });

  it('gives the same bytes for the same answers and project id', async () => {
    const a = join(tempDir(), 'lake');
    const b = join(tempDir(), 'lake');
    const projectId = '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d';
    await initProject({ install: false, directory: a, ...full, projectId }, createRecordingIo());
    await initProject({ install: false, directory: b, ...full, projectId }, createRecordingIo());
    expect(snapshotTree(a)).toEqual(snapshotTree(b));
    expect(json(a, 'ddk.json').project_id).toBe(projectId);
  });

  it('gives each project a new UUID as its project id, which loads and validate shows', async () => {
    // Given two projects made with the same answers and no project id
    const a = join(tempDir(), 'lake');
    const b = join(tempDir(), 'lake');
    const first = await initProject({ install: false, directory: a, ...full }, createRecordingIo());
    const second = await initProject({ install: false, directory: b, ...full }, createRecordingIo());
    // Then each has its own UUID in ddk.json, and the loader reads it
    expect(first.projectId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.projectId).not.toBe(first.projectId);
    expect(json(a, 'ddk.json').project_id).toBe(first.projectId);
    expect((await loadProject(a)).projectId).toBe(first.projectId);
    expect((await validateProject({ root: a }, createRecordingIo())).projectId).toBe(first.projectId);
  });

  it('throws INVALID_PROJECT_ID for a project id sdlf would not accept in ddk.json, writing nothing', async () => {
    const directory = join(tempDir(), 'lake');
    const error = await initProject({ install: false, directory, ...full, projectId: 'no spaces' }, createRecordingIo()).catch(
      (e: unknown) => e,
    );
    expect(isSdlfError(error) && error.code).toBe('INVALID_PROJECT_ID');
    expect(existsSync(directory)).toBe(false);
  });

  it('writes nothing under --dry-run', async () => {
    const directory = join(tempDir(), 'lake');
    const result = await initProject({ install: false, directory, yes: true, dryRun: true }, createRecordingIo());
    expect(result.dryRun).toBe(true);
    expect(result.files.every((f) => f.action === 'create')).toBe(true);
    expect(existsSync(directory)).toBe(false);
  });

  it('writes into a non-empty folder with --force and keeps the files it does not own', async () => {
    const directory = tempDir();
    writeFileSync(join(directory, 'notes.md'), 'mine\n');
    await initProject({ install: false, directory, yes: true, force: true }, createRecordingIo());
    expect(readFileSync(join(directory, 'notes.md'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(directory, 'ddk.json'))).toBe(true);
  });

  it('throws on a non-empty folder without --force, naming it', async () => {
    const directory = join(tempDir(), 'lake');
    mkdirSync(directory);
    writeFileSync(join(directory, 'notes.md'), 'mine\n');
    const error = await failure({ directory, yes: true });
    expect(error.message).toContain(`The folder ${directory} is not empty (it holds notes.md)`);
    expect(error.code).toBe('DIRECTORY_NOT_EMPTY');
  });

  it('throws naming the flags to pass when there is no terminal and no --yes', async () => {
    const directory = join(tempDir(), 'lake');
    const error = await failure({ directory, account: '123456789012' });
    expect(error.message).toBe('sdlf init needs --prefix, --region, --cicd or --no-cicd: there is no terminal to ask on.');
    expect(error.code).toBe('MISSING_INPUT');
  });

  it.each([
    ['a 10-digit account', { account: '1234567890' }, '--account "1234567890" is invalid: must be a 12-digit AWS account id.'],
    [
      'an unknown region',
      { region: 'eu-wset-1' },
      '--region "eu-wset-1" is invalid: must be an AWS region name such as "us-east-1".',
    ],
    ['an unknown CI/CD region', { cicdRegion: 'mars-1' }, '--cicd-region "mars-1" is invalid'],
    ['an uppercase prefix', { prefix: 'Acme' }, '--prefix "Acme" is invalid'],
    ['a prefix with an underscore', { prefix: 'my_lake' }, '--prefix "my_lake" is invalid'],
    ['a space in the environment name', { envName: 'my env' }, '--env-name "my env" is invalid'],
    ['the environment name cicd', { envName: 'cicd' }, '--env-name "cicd" is invalid'],
    ['a bad repository name', { repository: 'my repo' }, '--repository "my repo" is invalid'],
    [
      'an invalid inferred region',
      { inferred: { region: { value: 'moon-1', source: 'AWS_REGION' } } },
      'AWS_REGION "moon-1" is invalid',
    ],
    [
      'a prefix and environment too long for bucket names',
      { prefix: 'abcdefghijklmno', envName: 'abcdefghij', region: 'ap-southeast-1' },
      'characters long; AWS allows 63 for this resource',
    ],
  ])('throws on %s, names the value and writes nothing', async (_, overrides, message) => {
    const directory = join(tempDir(), 'lake');
    const error = await failure({ directory, yes: true, ...overrides });
    expect(error.message).toContain(message);
    expect(error.exitCode).toBe(2);
    expect(existsSync(directory)).toBe(false);
  });

  it('suggests the nearest region for a typo', async () => {
    const error = await failure({ directory: join(tempDir(), 'lake'), yes: true, region: 'eu-wset-1' });
    expect(error.suggestions).toEqual(['Did you mean "eu-west-1"?']);
  });

  it('throws on a path that is a file', async () => {
    const parent = tempDir();
    mkdirSync(join(parent, 'sub'));
    writeFileSync(join(parent, 'sub', 'lake'), 'x');
    const error = await failure({ directory: join(parent, 'sub', 'lake'), yes: true });
    expect(error.code).toBe('NOT_A_DIRECTORY');
  });
});
