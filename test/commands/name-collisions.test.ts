import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { snapshotTree } from '../helpers/project.js';

let freshProject: () => string;

beforeAll(async () => {
  ensureBuilt();
  freshProject = await initializedProjectCopies();
});

/** Appends entries to the dev list of parameters.json, as a user editing it by hand would. */
function appendDatasets(root: string, entries: ReadonlyArray<Record<string, string>>): void {
  const file = join(root, 'parameters.json');
  const value = JSON.parse(readFileSync(file, 'utf8'));
  value.dev.push(...entries);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

describe('names that would collide', { timeout: 120_000 }, () => {
  it('add-dataset refuses team sales dataset eu-orders next to team sales-eu dataset orders, and writes nothing', async () => {
    // Given a project with team sales-eu's dataset orders
    const root = freshProject();
    expect((await sdlf(['add-dataset', '--path', root, '--team', 'sales-eu', '--dataset', 'orders'])).exitCode).toBe(0);
    const before = snapshotTree(root);
    // When team sales adds dataset eu-orders (same stack, functions and default heavy transform)
    const run = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'eu-orders']);
    // Then it exits 2 naming both owners, the entry, the shared names and the fix, and changes nothing
    expect(run.exitCode).toBe(2);
    const stderr = oneLine(run.stderr);
    expect(stderr).toContain(
      'Team "sales" dataset "eu-orders" (parameters.json dev[2]) and team "sales-eu" dataset "orders" (parameters.json dev[1]) would create the same names: stack "ddk-dev-sales-eu-orders"',
    );
    expect(stderr).toContain('sdlf add-dataset --team sales --dataset <another-name>');
    expect(snapshotTree(root)).toEqual(before);
  });

  it('add-dataset refuses team sales dataset eu-standard next to team sales-eu pipeline standard', async () => {
    const root = freshProject();
    expect((await sdlf(['add-dataset', '--path', root, '--team', 'sales-eu', '--dataset', 'orders'])).exitCode).toBe(0);
    const before = snapshotTree(root);
    const run = await sdlf(['add-dataset', '--path', root, '--team', 'sales', '--dataset', 'eu-standard']);
    expect(run.exitCode).toBe(2);
    expect(oneLine(run.stderr)).toContain(
      'Team "sales" dataset "eu-standard" (parameters.json dev[2]) and team "sales-eu" pipeline "standard" (parameters.json dev[1].pipeline) would create the same names: stack "ddk-dev-sales-eu-standard"',
    );
    expect(snapshotTree(root)).toEqual(before);
  });

  it('validate and synth both exit 2 (never 1) on a parameters.json edited into a collision', async () => {
    // Given both pairs of the issue, written by hand with the transforms add-dataset would have defaulted to
    const root = freshProject();
    expect((await sdlf(['add-dataset', '--path', root, '--team', 'sales-eu', '--dataset', 'orders'])).exitCode).toBe(0);
    appendDatasets(root, [
      {
        team: 'sales',
        pipeline: 'standard',
        dataset: 'eu-orders',
        stage_a_transform: 'sdlf_light_transform',
        stage_b_transform: 'sales_eu_orders',
      },
      {
        team: 'sales',
        pipeline: 'standard',
        dataset: 'eu-standard',
        stage_a_transform: 'sdlf_light_transform',
        stage_b_transform: 'sales_eu_standard',
      },
    ]);
    // When validate and synth run
    for (const command of ['validate', 'synth']) {
      const run = await sdlf([command, '--path', root]);
      // Then each exits 2 with both problems, before CDK runs
      expect(run.exitCode, `${command}: ${run.stderr}`).toBe(2);
      const stderr = oneLine(run.stderr);
      expect(stderr).toContain('has 2 problem(s)');
      expect(stderr).toContain(
        'parameters.json:17:5 (dev[2]): Team "sales" dataset "eu-orders" (parameters.json dev[2]) and team "sales-eu" dataset "orders"',
      );
      expect(stderr).toContain('default heavy transform "sales_eu_orders"');
      expect(stderr).toContain(
        'parameters.json:24:5 (dev[3]): Team "sales" dataset "eu-standard" (parameters.json dev[3]) and team "sales-eu" pipeline "standard"',
      );
      expect(stderr).not.toContain('There is already a Construct');
    }
  });
});
