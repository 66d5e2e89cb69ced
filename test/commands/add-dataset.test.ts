import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { snapshotTree, tempDir } from '../helpers/project.js';

let freshProject: () => string;

beforeAll(async () => {
  ensureBuilt();
  freshProject = await initializedProjectCopies();
});

/** The parts of ddk.json the tests edit. */
interface DdkShape {
  environments: Record<string, Record<string, unknown>>;
}

function editDdk(root: string, edit: (ddk: DdkShape) => void): void {
  const file = 'ddk.json';
  const value = JSON.parse(readFileSync(join(root, file), 'utf8'));
  edit(value);
  writeFileSync(join(root, file), `${JSON.stringify(value, null, 2)}\n`);
}

describe('sdlf add-dataset', () => {
  it('registers the dataset, scaffolds its heavy transform and keeps the project valid', async () => {
    // Given a new project
    const root = freshProject();
    // When a dataset is added
    const run = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders']);
    // Then it reports the registration on stdout and the files on stderr
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Registered dataset sales/orders (pipeline standard) in dev of parameters.json.');
    expect(run.stderr).toContain('create    transforms/heavy/sales_orders/transform.sql');
    expect(run.stderr).toContain('update    parameters.json');
    expect(run.stderr).toContain('Reusing the existing transform sdlf_light_transform');
    const parameters = JSON.parse(readFileSync(join(root, 'parameters.json'), 'utf8'));
    expect(parameters.dev[1]).toEqual({
      team: 'sales',
      pipeline: 'standard',
      dataset: 'orders',
      stage_a_transform: 'sdlf_light_transform',
      stage_b_transform: 'sales_orders',
    });
    // And the project still validates
    const validate = await sdlf(['validate', '--path', root, '--json']);
    expect(validate.exitCode).toBe(0);
    expect(JSON.parse(validate.stdout).datasets).toHaveLength(2);
  });

  it('prints the result as JSON under --json, and writes nothing under --dry-run', async () => {
    const root = freshProject();
    const before = snapshotTree(root);
    const run = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders', '--dry-run', '--json']);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, team: 'sales', dataset: 'orders', environments: ['dev'] });
    expect(run.stderr).toContain('(dry run) update    parameters.json');
    expect(snapshotTree(root)).toEqual(before);
  });

  it('takes its flags from SDLF_* environment variables', async () => {
    const root = freshProject();
    const run = await sdlf(['add-dataset'], {
      env: { SDLF_PATH: root, SDLF_TEAM: 'sales', SDLF_DATASET: 'orders', SDLF_STAGE_B_TRANSFORM: 'orders_sql' },
    });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'parameters.json'), 'utf8')).dev[1].stage_b_transform).toBe('orders_sql');
  });

  it.each<[string, string[], string, ((root: string) => void)?]>([
    ['an uppercase team', ['--team', 'Sales', '--dataset', 'orders'], 'Team name "Sales" is invalid'],
    ['a dataset with a space', ['--team', 'sales', '--dataset', 'my orders'], 'Dataset name "my orders" is invalid'],
    ['a dataset with an underscore', ['--team', 'sales', '--dataset', 'my_orders'], 'Dataset name "my_orders" is invalid'],
    [
      'names too long for AWS',
      ['--team', 'sales-and-marketing-emea-north', '--dataset', 'orders-and-refunds-by-channel'],
      'AWS allows 64 for this resource',
    ],
    [
      'a dataset that exists in another pipeline of the team',
      ['--team', 'demoteam', '--dataset', 'legislators', '--pipeline', 'custom'],
      'Dataset "legislators" of team "demoteam" is already registered in "dev" in pipeline "standard"',
    ],
    [
      'a pipeline type that does not exist',
      ['--team', 'sales', '--dataset', 'orders', '--pipeline', 'streaming'],
      'Pipeline type "streaming" does not exist',
    ],
    [
      'an environment that does not exist',
      ['--team', 'sales', '--dataset', 'orders', '--env', 'prod'],
      'Environment "prod" is not in ddk.json',
    ],
    [
      'malformed JSON',
      ['--team', 'sales', '--dataset', 'orders'],
      'parameters.json:3:4 is not valid JSON',
      (root) => writeFileSync(join(root, 'parameters.json'), '{\n  "dev": [\n   ,\n  ]\n}\n'),
    ],
    [
      'a 10-digit account in ddk.json',
      ['--team', 'sales', '--dataset', 'orders'],
      '"1234567890" is not valid here: must be a 12-digit AWS account id',
      (root) =>
        editDdk(root, (ddk) => {
          ddk.environments.dev = { ...ddk.environments.dev, account: '1234567890' };
        }),
    ],
    [
      'an unknown region in ddk.json',
      ['--team', 'sales', '--dataset', 'orders'],
      '"eu-wst-1" is not valid here',
      (root) =>
        editDdk(root, (ddk) => {
          ddk.environments.dev = { ...ddk.environments.dev, region: 'eu-wst-1' };
        }),
    ],
    ['a missing required flag', ['--team', 'sales'], 'Missing required flag dataset'],
  ])('exits 2 on %s, naming the value, and changes nothing', async (_, args, message, arrange) => {
    const root = freshProject();
    arrange?.(root);
    const before = snapshotTree(root);
    const run = await sdlf(['add-dataset', '--path', root, ...args]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(oneLine(run.stderr)).toContain(message);
    expect(snapshotTree(root)).toEqual(before);
  });

  it('exits 2 on a folder that is not an sdlf project, and changes nothing', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'package.json'), '{}\n');
    const run = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'orders']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain(`${root} is not an sdlf project: it has no ddk.json.`);
    expect(snapshotTree(root)).toEqual({ 'package.json': '{}\n' });
  });
});
