import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { isSdlfError, type SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { parseTransformSql } from '../../src/runtime/core/sql.js';
import { GLUE_RUNNER, glueScriptOf } from '../../src/runtime/glue/runner.js';
import {
  type AddDatasetOptions,
  addDataset,
  datasetTemplateView,
  defaultStageBTransform,
} from '../../src/services/add-dataset.js';
import { addPipeline } from '../../src/services/add-pipeline.js';
import { checkTransformFiles } from '../../src/services/validate-project.js';
import { copyFixture, ddkJson, repoRoot, snapshotTree, tempDir, writeJsonFiles } from '../helpers/project.js';

/** A project with ddk.json (cicd + dev) and the given parameters.json, plus the transforms it names. */
function project(parameters: unknown = { dev: [] }, ddk: Record<string, unknown> = ddkJson()): string {
  const dir = tempDir();
  writeJsonFiles(dir, { 'ddk.json': ddk, 'parameters.json': parameters });
  return dir;
}

async function failure(options: AddDatasetOptions): Promise<SdlfError> {
  const before = snapshotTree(options.root);
  const error = await addDataset(options, createRecordingIo()).catch((e: unknown) => e);
  if (!isSdlfError(error)) throw new Error(`expected an SdlfError, got ${String(error)}`);
  // Nothing was written
  expect(snapshotTree(options.root)).toEqual(before);
  return error;
}

describe('addDataset', () => {
  it('registers the dataset with the documented defaults and scaffolds its transforms and data folder', async () => {
    // Given an empty project
    const root = project();
    // When a dataset is added with only team and dataset
    const result = await addDataset({ root, team: 'sales', dataset: 'orders' }, createRecordingIo());
    // Then it is registered in dev with pipeline standard, the shared light transform and its own heavy transform
    expect(result).toMatchObject({
      pipeline: 'standard',
      stageATransform: 'sdlf_light_transform',
      stageBTransform: 'sales_orders',
      environments: ['dev'],
      parametersFile: 'parameters.json',
      alreadyRegistered: [],
      reusedTransforms: [],
      dryRun: false,
    });
    expect(JSON.parse(readFileSync(join(root, 'parameters.json'), 'utf8'))).toEqual({
      dev: [
        {
          team: 'sales',
          pipeline: 'standard',
          dataset: 'orders',
          stage_a_transform: 'sdlf_light_transform',
          stage_b_transform: 'sales_orders',
        },
      ],
    });
    expect(result.files.map((f) => `${f.action} ${f.path}`)).toEqual([
      'create data/sales/orders/.gitkeep',
      'create transforms/heavy/sales_orders/transform.sql',
      'create transforms/light/sdlf_light_transform.ts',
      'update parameters.json',
    ]);
    // And the project is valid, transforms included
    const loaded = await loadProject(root);
    expect(checkTransformFiles(loaded)).toEqual([]);
    expect(readFileSync(join(root, 'transforms/heavy/sales_orders/transform.sql'), 'utf8')).toContain(
      'CREATE TABLE orders_curated AS\nSELECT *\nFROM orders;',
    );
  });

  it('scaffolds no heavy transform for a pipeline without a stage B, and says so', async () => {
    // Given an empty project
    const root = project();
    const io = createRecordingIo();
    // When a dataset is added to the stage-A-only custom pipeline
    const result = await addDataset({ root, team: 'sales', dataset: 'orders', pipeline: 'custom' }, io);
    // Then only its light transform and data folder are written, and the project is valid
    expect(result.files.map((f) => `${f.action} ${f.path}`)).toEqual([
      'create data/sales/orders/.gitkeep',
      'create transforms/light/sdlf_light_transform.ts',
      'update parameters.json',
    ]);
    expect(existsSync(join(root, 'transforms', 'heavy'))).toBe(false);
    expect(io.lines).toContainEqual({
      level: 'info',
      message: 'The pipeline "custom" has no stage B: no heavy transform is scaffolded.',
    });
    expect(checkTransformFiles(await loadProject(root))).toEqual([]);
  });

  it('refuses --glue-script for a pipeline without a stage B, writing nothing', async () => {
    const error = await failure({ root: project(), team: 'sales', dataset: 'orders', pipeline: 'custom', glueScript: true });
    expect(error.code).toBe('NO_STAGE_B');
    expect(error.message).toContain('The pipeline "custom" has no stage B');
  });

  it('scaffolds SQL that follows the transform.sql convention, reading the table named after the dataset', async () => {
    const root = project();
    await addDataset({ root, team: 'sales', dataset: 'click-stream' }, createRecordingIo());
    const sql = readFileSync(join(root, 'transforms/heavy/sales_click_stream/transform.sql'), 'utf8');
    expect(parseTransformSql(sql)).toEqual([
      { kind: 'table', name: 'click_stream_curated', partitionBy: [], select: 'SELECT *\nFROM click_stream', line: 16 },
    ]);
  });

  it('scaffolds no Glue script by default: the job runs the runner that ships with sdlf', async () => {
    const root = project();
    await addDataset({ root, team: 'sales', dataset: 'orders' }, createRecordingIo());
    expect(existsSync(join(root, 'transforms/heavy/sales_orders/main.py'))).toBe(false);
    expect(glueScriptOf(join(root, 'transforms/heavy/sales_orders'))).toEqual({ path: GLUE_RUNNER, source: 'runner' });
  });

  it("copies the runner into the folder with --glue-script, which the job then runs as the user's own", async () => {
    const root = project();
    await addDataset({ root, team: 'sales', dataset: 'orders', glueScript: true }, createRecordingIo());
    const own = join(root, 'transforms/heavy/sales_orders/main.py');
    expect(readFileSync(own, 'utf8')).toBe(readFileSync(GLUE_RUNNER, 'utf8'));
    expect(glueScriptOf(join(root, 'transforms/heavy/sales_orders'))).toEqual({ path: own, source: 'own' });
  });

  it('recognises an unmodified main.py that an earlier sdlf scaffolded, and runs the shipped runner instead', async () => {
    // Given a heavy transform folder holding the runner as sdlf 0.1.0 (the last release that copied it) wrote it
    const root = project();
    const dir = join(root, 'transforms/heavy/old');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'main.py'), readFileSync(join(repoRoot, 'test', 'fixtures', 'scaffolded-main-0.1.0.py')));
    // Then the job runs the runner of the installed sdlf; an edited copy stays the user's own
    expect(glueScriptOf(dir)).toEqual({ path: GLUE_RUNNER, source: 'scaffolded-copy' });
    writeFileSync(join(dir, 'main.py'), `${readFileSync(join(dir, 'main.py'), 'utf8')}# edited\n`);
    expect(glueScriptOf(dir).source).toBe('own');
  });

  it('keeps transforms that exist and shares them', async () => {
    // Given a project whose light transform and heavy transform exist, edited by the user
    const root = project();
    mkdirSync(join(root, 'transforms/light'), { recursive: true });
    mkdirSync(join(root, 'transforms/heavy/shared'), { recursive: true });
    writeFileSync(join(root, 'transforms/light/sdlf_light_transform.ts'), '// mine\n');
    writeFileSync(join(root, 'transforms/heavy/shared/main.py'), '# mine\n');
    const io = createRecordingIo();
    // When a dataset names them
    const result = await addDataset({ root, team: 'sales', dataset: 'orders', stageBTransform: 'shared' }, io);
    // Then they are untouched and reported as reused
    expect(readFileSync(join(root, 'transforms/light/sdlf_light_transform.ts'), 'utf8')).toBe('// mine\n');
    expect(existsSync(join(root, 'transforms/heavy/shared/transform.sql'))).toBe(false);
    expect(result.reusedTransforms).toEqual([
      'sdlf_light_transform (transforms/light/sdlf_light_transform.ts)',
      'shared (transforms/heavy/shared/)',
    ]);
    expect(io.lines.map((l) => l.message).join('\n')).toContain('Reusing the existing transform shared');
  });

  it('adds the nested config form to a file that uses it, keeping indentation and other entries', async () => {
    // Given the seed's nested parameters.json (4-space indent) and its transforms
    const root = copyFixture('seed-nested');
    const before = readFileSync(join(root, 'parameters.json'), 'utf8');
    // When a dataset is added
    await addDataset({ root, team: 'otherteam', dataset: 'invoices', stageBTransform: 'invoices_heavy' }, createRecordingIo());
    // Then the entry is nested, the file keeps 4 spaces and the existing entries are unchanged
    const text = readFileSync(join(root, 'parameters.json'), 'utf8');
    expect(text).toMatch(/^\{\n {4}"dev": \[\n {8}\{/);
    const parsed = JSON.parse(text);
    expect(parsed.dev.slice(0, 3)).toEqual(JSON.parse(before).dev);
    expect(parsed.dev[3]).toEqual({
      team: 'otherteam',
      pipeline: 'standard',
      dataset: 'invoices',
      config: { stage_a_transform: 'sdlf_light_transform', stage_b_transform: 'invoices_heavy' },
    });
  });

  it("writes the seed's data_lake/pipelines/parameters.json in place, in its flat form", async () => {
    const root = copyFixture('seed-flat');
    const result = await addDataset({ root, team: 'demoteam', dataset: 'orders' }, createRecordingIo());
    expect(result.parametersFile).toBe('data_lake/pipelines/parameters.json');
    expect(existsSync(join(root, 'parameters.json'))).toBe(false);
    const parsed = JSON.parse(readFileSync(join(root, 'data_lake/pipelines/parameters.json'), 'utf8'));
    expect(parsed.dev[2]).toEqual({
      team: 'demoteam',
      pipeline: 'standard',
      dataset: 'orders',
      stage_a_transform: 'sdlf_light_transform',
      stage_b_transform: 'demoteam_orders',
    });
  });

  it('registers in every environment of parameters.json by default, or only in those given', async () => {
    const ddk = ddkJson({
      prod: { account: '333333333333', region: 'us-east-1' },
      test: { account: '444444444444', region: 'us-east-1' },
    });
    const root = project({ dev: [], prod: [] }, ddk);
    const all = await addDataset({ root, team: 'sales', dataset: 'orders' }, createRecordingIo());
    expect(all.environments).toEqual(['dev', 'prod']);
    const some = await addDataset({ root, team: 'sales', dataset: 'refunds', envs: ['test'] }, createRecordingIo());
    expect(some.environments).toEqual(['test']);
    const parsed = JSON.parse(readFileSync(join(root, 'parameters.json'), 'utf8'));
    expect(Object.keys(parsed)).toEqual(['dev', 'prod', 'test']);
    expect(parsed.test.map((d: { dataset: string }) => d.dataset)).toEqual(['refunds']);
  });

  it('accepts a custom pipeline type of the project', async () => {
    const root = project();
    await addPipeline({ root, name: 'batch' }, createRecordingIo());
    const result = await addDataset({ root, team: 'sales', dataset: 'orders', pipeline: 'batch' }, createRecordingIo());
    expect(result.pipeline).toBe('batch');
    // The type add-pipeline writes is stage A only: no heavy transform is scaffolded for it
    expect(result.files.map((f) => f.path)).not.toContain('transforms/heavy/sales_orders/transform.sql');
  });

  it('writes nothing under --dry-run but reports the plan', async () => {
    const root = project();
    const before = snapshotTree(root);
    const io = createRecordingIo();
    const result = await addDataset({ root, team: 'sales', dataset: 'orders', dryRun: true }, io);
    expect(result.dryRun).toBe(true);
    expect(result.files).toHaveLength(4);
    expect(snapshotTree(root)).toEqual(before);
    expect(io.lines.some((l) => l.message.startsWith('(dry run) create'))).toBe(true);
  });

  it.each([
    ['an uppercase team', { team: 'Sales' }, /Team name "Sales" is invalid/],
    ['a dataset with a space', { dataset: 'my orders' }, /Dataset name "my orders" is invalid/],
    ['a dataset with an underscore', { dataset: 'my_orders' }, /Dataset name "my_orders" is invalid.*Try "my-orders"/s],
    ['a dataset too long for its names', { dataset: 'a'.repeat(30), team: 'b'.repeat(30) }, /characters long; AWS allows 64/],
    ['a transform with a dash', { stageATransform: 'my-light' }, /Transform name "my-light" is invalid/],
    ['an unknown pipeline type', { pipeline: 'standart' }, /Pipeline type "standart" does not exist; did you mean "standard"\?/],
    [
      'an unknown environment',
      { envs: ['prd'] },
      /Environment "prd" is not in ddk.json; did you mean "dev"\?|Environment "prd" is not in ddk.json/,
    ],
  ])('throws on %s and writes nothing', async (_, overrides, message) => {
    const root = project();
    const error = await failure({ root, team: 'sales', dataset: 'orders', ...overrides });
    expect(error.message).toMatch(message);
    expect(error.exitCode).toBe(2);
  });

  it('scaffolds the missing transforms of a dataset registered already, leaving parameters.json unchanged', async () => {
    // Given the seed's project, whose datasets have no sdlf transform files yet
    const root = copyFixture('seed-flat');
    const parameters = readFileSync(join(root, 'data_lake/pipelines/parameters.json'), 'utf8');
    const io = createRecordingIo();
    // When add-dataset runs for a registered dataset without transform flags
    const result = await addDataset({ root, team: 'demoteam', dataset: 'newdata' }, io);
    // Then its registered transforms are scaffolded and nothing is registered again
    expect(result).toMatchObject({
      environments: [],
      alreadyRegistered: ['dev'],
      stageATransform: 'sdlf_light_transform_new',
      stageBTransform: 'sdlf_heavy_transform_new',
    });
    expect(result.files.map((f) => f.path)).toContain('transforms/light/sdlf_light_transform_new.ts');
    expect(readFileSync(join(root, 'data_lake/pipelines/parameters.json'), 'utf8')).toBe(parameters);
    expect(io.lines.map((l) => l.message)).toContain(
      'Dataset demoteam/newdata is registered in dev already; scaffolding what it lacks.',
    );
  });

  it('throws when the transforms given differ from those of the registered dataset', async () => {
    const root = copyFixture('seed-flat');
    const error = await failure({ root, team: 'demoteam', dataset: 'newdata', stageATransform: 'other' });
    expect(error.message).toContain(
      'Dataset "newdata" of team "demoteam" is already registered in "dev" with transforms "sdlf_light_transform_new" and "sdlf_heavy_transform_new".',
    );
  });

  it('throws on a dataset registered in another pipeline of the same team and writes nothing', async () => {
    const root = project({ dev: [{ team: 'sales', pipeline: 'custom', dataset: 'orders' }] });
    mkdirSync(join(root, 'transforms/light'), { recursive: true });
    const error = await failure({ root, team: 'sales', dataset: 'orders' });
    expect(error.message).toContain('Dataset "orders" of team "sales" is already registered in "dev" in pipeline "custom"');
    expect(error.code).toBe('DATASET_EXISTS');
  });

  it('throws on a dataset named like a pipeline of its team', async () => {
    const root = project({ dev: [{ team: 'sales', pipeline: 'custom', dataset: 'orders' }] });
    const error = await failure({ root, team: 'sales', dataset: 'custom' });
    expect(error.message).toContain('Dataset "custom" has the name of a pipeline of team "sales"');
  });

  it('throws on malformed parameters.json with its line and column', async () => {
    const root = project();
    writeFileSync(join(root, 'parameters.json'), '{\n  "dev": [\n    { "team": "a", }\n  ]\n}\n');
    const error = await failure({ root, team: 'sales', dataset: 'orders' });
    expect(error.message).toMatch(/parameters\.json:3:\d+ is not valid JSON/);
  });

  it('throws on a folder that is not an sdlf project', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'notes.txt'), 'hello\n');
    const error = await failure({ root, team: 'sales', dataset: 'orders' });
    expect(error.code).toBe('NOT_A_PROJECT');
  });

  it('throws when a file is in the way of the dataset folder', async () => {
    const root = project();
    mkdirSync(join(root, 'data/sales'), { recursive: true });
    writeFileSync(join(root, 'data/sales/orders'), 'a file where the folder goes\n');
    const error = await failure({ root, team: 'sales', dataset: 'orders' });
    expect(error.message).toMatch(/orders/);
  });
});

describe('defaultStageBTransform', () => {
  it.each([
    ['sales', 'orders', 'sales_orders'],
    ['data-eng', 'click-stream', 'data_eng_click_stream'],
  ])('names the heavy transform of %s/%s %s', (team, dataset, expected) => {
    expect(defaultStageBTransform(team, dataset)).toBe(expected);
  });
});

describe('datasetTemplateView', () => {
  it('names the input table as the default light transform does and the output table after it', () => {
    const view = datasetTemplateView({
      team: 't',
      dataset: 'click-stream',
      pipeline: 'standard',
      stageATransform: 'a',
      stageBTransform: 'b',
    });
    expect(view).toMatchObject({ inputTable: 'click_stream', outputTable: 'click_stream_curated' });
  });
});
