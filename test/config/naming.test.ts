import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import type { DatasetConfig, DeploymentEnvironment } from '../../src/config/model.js';
import { checkNameCollisions, checkProjectNames, defaultStageBTransform } from '../../src/config/naming.js';
import { DEFAULTS } from '../../src/config/schema.js';
import { isSdlfError } from '../../src/core/errors.js';
import { datasetRegistration } from '../helpers/dataset.js';
import { ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

const dev: DeploymentEnvironment = {
  id: 'dev',
  name: 'dev',
  account: '222222222222',
  region: 'us-east-1',
  resourcePrefix: 'ddk',
  manualApprovals: false,
  org: 'aws',
  app: 'datalake',
  tags: {},
  removeDataOnDestroy: false,
  kmsStrategy: 'shared',
  logRetentionDays: 365,
};

function dataset(team: string, name: string, pipeline = 'standard', stageBTransform?: string): DatasetConfig {
  return datasetRegistration({
    team,
    dataset: name,
    pipeline,
    stageATransform: DEFAULTS.stageATransform,
    stageBTransform: stageBTransform ?? defaultStageBTransform(team, name),
  });
}

describe('checkNameCollisions', () => {
  it('refuses team sales-eu dataset orders next to team sales dataset eu-orders, naming both owners and the fix', () => {
    // Given two datasets whose team-dataset names join to the same text
    const problems = checkNameCollisions({
      environments: [dev],
      datasets: { dev: [dataset('sales-eu', 'orders'), dataset('sales', 'eu-orders')] },
    });
    // Then one problem names both owners, their entries, the shared names and how to fix it
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem).toMatchObject({ code: 'NAME_COLLISION', file: 'parameters.json', path: 'dev[1]' });
    expect(problem?.message).toBe(
      'Team "sales" dataset "eu-orders" (parameters.json dev[1]) and team "sales-eu" dataset "orders" (parameters.json dev[0]) would create the same names: stack "ddk-dev-sales-eu-orders", default heavy transform "sales_eu_orders", Lambda function "ddk-dev-sales-eu-orders-light-transform", IAM role "ddk-dev-sales-eu-orders-light-transform" and 5 more.',
    );
    expect(problem?.suggestion).toContain('Pick another name for dataset "eu-orders" of team "sales"');
    expect(problem?.suggestion).toContain('sdlf add-dataset --team sales --dataset <another-name>');
    expect(problem?.suggestion).toContain('--stage-b-transform');
  });

  it('counts the nine shared names of the pair, and leaves out the transform when both are named explicitly', () => {
    // Given the pair with default transforms: stack, transform, function, 2 roles, 2 queues, Glue job and database
    const [problem] = checkNameCollisions({
      environments: [dev],
      datasets: { dev: [dataset('sales-eu', 'orders'), dataset('sales', 'eu-orders')] },
    });
    // Then four are shown and five counted (the SSM parameters /…/sales-eu/orders and /…/sales/eu-orders differ,
    // and so do the event rules …-sales-eu.orders-raw and …-sales.eu-orders-raw)
    expect(problem?.message).toContain('and 5 more');
    expect(problem?.message).not.toContain('-raw');
    // Given the same pair with explicit, distinct transforms
    const [explicit] = checkNameCollisions({
      environments: [dev],
      datasets: { dev: [dataset('sales-eu', 'orders', 'standard', 'own_a'), dataset('sales', 'eu-orders', 'standard', 'own_b')] },
    });
    // Then the transform is not among the shared names
    expect(explicit?.message).not.toContain('heavy transform');
    expect(explicit?.message).toContain('and 4 more');
  });

  it('refuses team sales dataset eu-standard next to team sales-eu pipeline standard, at the dataset', () => {
    const problems = checkNameCollisions({
      environments: [dev],
      datasets: { dev: [dataset('sales', 'eu-standard'), dataset('sales-eu', 'orders')] },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'NAME_COLLISION', path: 'dev[0]' });
    expect(problems[0]?.message).toBe(
      'Team "sales" dataset "eu-standard" (parameters.json dev[0]) and team "sales-eu" pipeline "standard" (parameters.json dev[1].pipeline) would create the same names: stack "ddk-dev-sales-eu-standard".',
    );
    expect(problems[0]?.suggestion).toContain('Pick another name for dataset "eu-standard" of team "sales"');
  });

  it('refuses two datasets whose default heavy transform is the same, even when nothing else collides', () => {
    // Given the same default transform name claimed by two datasets in different environments' accounts
    const prod: DeploymentEnvironment = { ...dev, id: 'prod', name: 'prod', account: '333333333333' };
    const problems = checkNameCollisions({
      environments: [dev, prod],
      datasets: { dev: [dataset('sales-eu', 'orders')], prod: [dataset('sales', 'eu-orders')] },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('default heavy transform "sales_eu_orders"');
    expect(problems[0]?.path).toBe('prod[0]');
  });

  it.each([
    ['the same dataset in two environments', { dev: [dataset('sales', 'orders')], prod: [dataset('sales', 'orders')] }],
    [
      'a transform shared on purpose',
      { dev: [dataset('sales', 'orders'), dataset('sales', 'refunds', 'standard', 'sales_orders')] },
    ],
    ['teams sales and sales-eu with distinct datasets', { dev: [dataset('sales', 'orders'), dataset('sales-eu', 'orders')] }],
    ['one team in two pipelines', { dev: [dataset('sales', 'orders'), dataset('sales', 'clicks', 'custom')] }],
  ])('accepts %s', (_name, datasets) => {
    const prod: DeploymentEnvironment = { ...dev, id: 'prod', name: 'prod' };
    expect(checkNameCollisions({ environments: [dev, prod], datasets })).toEqual([]);
  });

  it('compares names only where AWS keeps them together: another account has its own stacks', () => {
    // Given two environments with the same prefix and id trick: "dev" of prefix "a-b" and "b-dev" of prefix "a"
    const left: DeploymentEnvironment = { ...dev, id: 'dev', resourcePrefix: 'a-b' };
    const right: DeploymentEnvironment = { ...dev, id: 'b-dev', resourcePrefix: 'a' };
    const same = checkNameCollisions({ environments: [left, right], datasets: {} });
    expect(same[0]?.message).toContain('Environment "b-dev" (ddk.json environments.b-dev) and environment "dev"');
    expect(same[0]?.suggestion).toContain('resource_prefix');
    const elsewhere = checkNameCollisions({
      environments: [left, { ...right, account: '333333333333' }],
      datasets: {},
    });
    // Buckets carry the account; stacks, tables and topics live per account and region
    expect(elsewhere).toEqual([]);
  });

  it('runs as part of checkProjectNames', () => {
    const problems = checkProjectNames({
      environments: [dev],
      datasets: { dev: [dataset('sales-eu', 'orders'), dataset('sales', 'eu-orders')] },
      parametersFile: 'data_lake/pipelines/parameters.json',
    });
    expect(problems.map((p) => [p.code, p.file])).toEqual([['NAME_COLLISION', 'data_lake/pipelines/parameters.json']]);
  });
});

describe('loadProject with colliding names', () => {
  it('throws NAME_COLLISION (exit 2) for the pairs of the issue', async () => {
    const dir = tempDir();
    writeJsonFiles(dir, {
      'ddk.json': ddkJson(),
      'parameters.json': {
        dev: [
          { team: 'sales-eu', dataset: 'orders', stage_b_transform: 'sales_eu_orders' },
          { team: 'sales', dataset: 'eu-orders', stage_b_transform: 'sales_eu_orders' },
          { team: 'sales', dataset: 'eu-standard', stage_b_transform: 'sales_eu_standard' },
        ],
      },
    });
    const error = await loadProject(dir).catch((e: unknown) => e);
    if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
    expect(error.exitCode).toBe(2);
    // Each problem names the entry's line and column in parameters.json
    expect(error.problems.map((p) => [p.code, p.path, p.line, p.column])).toEqual([
      ['NAME_COLLISION', 'dev[1]', 8, 5],
      ['NAME_COLLISION', 'dev[2]', 13, 5],
    ]);
    expect(error.message).toContain(
      'parameters.json:13:5 (dev[2]): Team "sales" dataset "eu-standard" (parameters.json dev[2]) and team "sales-eu" pipeline "standard"',
    );
  });
});
