import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { isSdlfError, type SdlfError } from '../../src/core/errors.js';
import { copyFixture, ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

async function loadError(files: Record<string, unknown>): Promise<SdlfError> {
  const dir = tempDir();
  writeJsonFiles(dir, files);
  const error = await loadProject(dir).catch((e: unknown) => e);
  if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
  return error;
}

describe('loadProject', () => {
  it("loads the seed's flat parameters.json from data_lake/pipelines/ without change", async () => {
    // Given the seed's ddk.json and flat parameters.json at the seed's location
    const project = await loadProject(copyFixture('seed-flat'));
    // Then both datasets load with the seed's names and defaults
    expect(project.parametersFile).toBe('data_lake/pipelines/parameters.json');
    expect(project.datasets.dev).toEqual([
      expect.objectContaining({
        team: 'demoteam',
        dataset: 'legislators',
        pipeline: 'standard',
        stageATransform: 'sdlf_light_transform',
      }),
      expect.objectContaining({ team: 'demoteam', dataset: 'newdata', stageBTransform: 'sdlf_heavy_transform_new' }),
    ]);
    expect(project.cicd).toMatchObject({
      enabled: true,
      source: { provider: 'codecommit', repository: 'sdlf-ddk-example', branch: 'main' },
    });
    expect(project.warnings.join('\n')).toContain('execute_security_lint');
  });

  it('loads the nested config form, several teams and pipelines, and applies the documented defaults', async () => {
    const project = await loadProject(copyFixture('seed-nested'));
    const [legislators, newdata, orders] = project.datasets.dev ?? [];
    expect(legislators?.stageBTransform).toBe('sdlf_heavy_transform');
    expect(newdata).toMatchObject({ pipeline: 'custom', stageATransform: 'main_light_transform' });
    // @default pipeline 'standard', transforms sdlf_light_transform / sdlf_heavy_transform, min 1, max 100
    expect(orders).toEqual({
      team: 'otherteam',
      dataset: 'orders',
      pipeline: 'standard',
      stageATransform: 'sdlf_light_transform',
      stageBTransform: 'sdlf_heavy_transform',
      minItemsProcess: 1,
      maxItemsProcess: 100,
    });
  });

  it('applies the documented environment defaults', async () => {
    const dir = tempDir();
    writeJsonFiles(dir, {
      'ddk.json': {
        environments: {
          cicd: { account: '111111111111', region: 'eu-west-1' },
          dev: { account: '222222222222', region: 'eu-west-1' },
        },
      },
      'parameters.json': { dev: [] },
    });
    const project = await loadProject(dir);
    expect(project.environments[0]).toEqual({
      id: 'dev',
      name: 'dev',
      account: '222222222222',
      region: 'eu-west-1',
      resourcePrefix: 'ddk',
      manualApprovals: false,
      org: 'aws',
      app: 'datalake',
      tags: {},
      notificationEmail: undefined,
      removeDataOnDestroy: false,
      kmsStrategy: 'shared',
      logRetentionDays: 365,
    });
    expect(project.cicd).toMatchObject({ enabled: false, resourcePrefix: 'ddk', source: { repository: 'sdlf-ddk-example' } });
  });

  it.each([
    [
      'a 10-digit account',
      { 'ddk.json': ddkJson({ dev: { account: '2222222222', region: 'us-east-1' } }) },
      'INVALID_CONFIG',
      '"2222222222"',
    ],
    [
      'an unknown region',
      { 'ddk.json': ddkJson({ dev: { account: '222222222222', region: 'us-east-9' } }) },
      'INVALID_CONFIG',
      'us-east-9',
    ],
    [
      'an unknown key',
      { 'ddk.json': ddkJson({ dev: { account: '222222222222', region: 'us-east-1', resource_prefx: 'x' } }) },
      'UNKNOWN_KEY',
      'did you mean "resource_prefix"',
    ],
    [
      'a missing environment',
      { 'parameters.json': { prod: [{ team: 'demoteam', dataset: 'legislators' }] } },
      'MISSING_ENVIRONMENT',
      '"prod"',
    ],
    [
      'an uppercase team',
      { 'parameters.json': { dev: [{ team: 'DemoTeam', dataset: 'legislators' }] } },
      'INVALID_NAME',
      '"DemoTeam"',
    ],
    [
      'a dataset with an underscore',
      { 'parameters.json': { dev: [{ team: 'demoteam', dataset: 'my_data' }] } },
      'INVALID_NAME',
      'Try "my-data"',
    ],
    [
      'an unknown pipeline type',
      { 'parameters.json': { dev: [{ team: 'demoteam', dataset: 'legislators', pipeline: 'standrd' }] } },
      'UNKNOWN_PIPELINE',
      'did you mean "standard"',
    ],
    [
      'a dataset in two pipelines of one team',
      {
        'parameters.json': {
          dev: [
            { team: 'demoteam', dataset: 'orders' },
            { team: 'demoteam', dataset: 'orders', pipeline: 'custom' },
          ],
        },
      },
      'DUPLICATE_DATASET',
      'registered twice',
    ],
    [
      'a name too long for the resources it produces',
      { 'parameters.json': { dev: [{ team: 'analytics-platform-team', dataset: 'customer-orders-history' }] } },
      'NAME_TOO_LONG',
      'AWS allows 64',
    ],
    [
      'a project_id with a space',
      { 'ddk.json': { project_id: 'not an id', ...ddkJson() } },
      'INVALID_CONFIG',
      'project_id "not an id" is invalid',
    ],
    [
      'a misspelt project_id',
      { 'ddk.json': { projectid: '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d', ...ddkJson() } },
      'UNKNOWN_KEY',
      'project_id',
    ],
    [
      'flat and nested transforms that disagree',
      {
        'parameters.json': {
          dev: [{ team: 'demoteam', dataset: 'orders', stage_a_transform: 'a_one', config: { stage_a_transform: 'a_two' } }],
        },
      },
      'CONFLICTING_SETTING',
      '"a_one"',
    ],
  ])('throws on %s, naming the offending value', async (_name, files, code, text) => {
    const error = await loadError({ 'ddk.json': ddkJson(), 'parameters.json': { dev: [] }, ...files });
    expect(error.problems.map((p) => p.code)).toContain(code);
    expect(error.message).toContain(text);
    expect(error.exitCode).toBe(2);
  });

  it('throws on malformed JSON with the line and column', async () => {
    const dir = tempDir();
    writeJsonFiles(dir, { 'ddk.json': ddkJson() });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/parameters.json`, '{\n  "dev": [\n    { "team": "demoteam", }\n  ]\n}\n');
    const error = await loadProject(dir).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('INVALID_JSON');
    expect((error as Error).message).toMatch(/parameters\.json:3:\d+/);
  });

  it('throws NOT_A_PROJECT for a folder without ddk.json', async () => {
    const error = await loadProject(tempDir()).catch((e: unknown) => e);
    expect(isSdlfError(error) && error.code).toBe('NOT_A_PROJECT');
  });
});
