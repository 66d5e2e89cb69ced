import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { LOCAL_TABLE_FILES } from '../../src/local/metadata-store.js';
import { formatRunLocalSummary, type RunLocalResult, runLocal } from '../../src/services/run-local.js';
import { repoRoot, snapshotTree } from '../helpers/project.js';
import { createLegislatorsProject } from './fixture.js';

type Row = Record<string, unknown>;

const run = (root: string, extra: Partial<Parameters<typeof runLocal>[0]> = {}) =>
  runLocal({ root, team: 'demoteam', dataset: 'legislators', ...extra }, createRecordingIo());

/** Memberships that match a person and an organization, computed from the generated JSON without SQL. */
function expectedHistory(root: string): number {
  const read = (name: string) => JSON.parse(readFileSync(join(root, 'data', 'demoteam', 'legislators', name), 'utf8')) as Row[];
  const persons = new Set(read('persons.json').map((p) => p.id));
  const organizations = new Set(read('organizations.json').map((o) => o.id));
  return read('memberships.json').filter((m) => persons.has(m.person_id) && organizations.has(m.organization_id)).length;
}

async function parquetRows(root: string, table: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const glob = join(root, '.sdlf', 'local', 'dev', 'analytics', 'demoteam', 'legislators', table, '**', '*.parquet');
  const reader = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${glob}')`);
  const rows = Number(reader.getRows()[0]?.[0]);
  connection.closeSync();
  instance.closeSync();
  return rows;
}

const tableRows = (result: RunLocalResult) => Object.fromEntries(result.tables.map((t) => [t.table, t.rows]));

describe('runLocal', () => {
  describe('with the legislators sample', () => {
    let root: string;
    let first: RunLocalResult;

    beforeAll(async () => {
      root = await createLegislatorsProject();
      first = await run(root);
    });

    it('yields persons 1,961, memberships 10,439, organizations 13 and history = matching memberships', async () => {
      const history = expectedHistory(root);
      expect(history).toBeGreaterThan(9_000);
      expect(history).toBeLessThan(10_439);
      expect(tableRows(first)).toEqual({ persons: 1961, memberships: 10_439, organizations: 13, history });
      expect(await parquetRows(root, 'history')).toBe(history);
      expect(first.failed).toBe(0);
      expect(first.stageB.status).toBe('SUCCEEDED');
    });

    it('partitions history by org_name in Hive-style folders', () => {
      const dir = join(root, first.tables.find((t) => t.table === 'history')?.path ?? '');
      expect(readdirSync(dir).sort()).toEqual(['org_name=House', 'org_name=Senate']);
      expect(first.tables.find((t) => t.table === 'history')).toMatchObject({ partitionBy: ['org_name'], files: 2 });
    });

    it('passes the JSON Lines regions file through stage A', () => {
      const regions = first.objects.find((o) => o.key === 'demoteam/legislators/regions.json');
      expect(regions).toMatchObject({ status: 'SUCCEEDED', outputs: [{ table: 'regions', records: 554 }] });
      const staged = readFileSync(join(root, regions?.outputs[0]?.path ?? ''), 'utf8')
        .trimEnd()
        .split('\n');
      expect(staged).toHaveLength(554);
    });

    it('writes raw, stage, analytics and the four metadata tables under .sdlf/local/dev', () => {
      const local = join(root, '.sdlf', 'local', 'dev');
      expect(first.localDir).toBe('.sdlf/local/dev');
      expect(readdirSync(join(local, 'raw', 'demoteam', 'legislators')).sort()).toEqual([
        'memberships.json',
        'organizations.json',
        'persons.json',
        'regions.json',
      ]);
      expect(readdirSync(join(local, 'stage', 'demoteam', 'legislators')).sort()).toEqual([
        'memberships',
        'organizations',
        'persons',
        'regions',
      ]);
      for (const file of Object.values(LOCAL_TABLE_FILES)) expect(existsSync(join(local, 'metadata', file))).toBe(true);
      const history = JSON.parse(readFileSync(join(local, 'metadata', LOCAL_TABLE_FILES.executionHistory), 'utf8')) as Row[];
      expect(history.map((e) => e.status)).toEqual(Array(5).fill('SUCCEEDED'));
      expect(history.find((e) => e.stage === 'b')).toMatchObject({ datasetKey: 'demoteam/legislators', keys: expect.any(Array) });
    });

    it('changes nothing when the same inputs run again: no new batch, never duplicated rows', async () => {
      // Given the first run's tables and staged files
      const stageDir = join(root, '.sdlf', 'local', 'dev', 'stage');
      const stagedBefore = snapshotTree(stageDir);
      // When the same inputs run again
      const second = await run(root);
      // Then stage B says so, shows the tables of the last batch, and the staged objects are the same bytes
      expect(second.stageB.status).toBe('UNCHANGED');
      expect(second.stageB.executionId).toBe(first.stageB.executionId);
      expect(tableRows(second)).toEqual(tableRows(first));
      expect(await parquetRows(root, 'memberships')).toBe(10_439);
      expect(await parquetRows(root, 'history')).toBe(tableRows(first).history);
      expect(snapshotTree(stageDir)).toEqual(stagedBefore);
      expect(second.failed).toBe(0);
    });

    it('adds a new input to the tables as one more batch: the union, as on AWS', async () => {
      // Given the sample's tables, and two more persons in a new file
      mkdirSync(join(root, 'batch-2'));
      const extra = join(root, 'batch-2', 'persons.jsonl');
      const sample = JSON.parse(readFileSync(join(root, 'data', 'demoteam', 'legislators', 'persons.json'), 'utf8')) as Row[];
      const added = sample.slice(0, 2).map((person, n) => ({ ...person, id: `new-${n}` }));
      writeFileSync(extra, `${added.map((person) => JSON.stringify(person)).join('\n')}\n`);
      // When only that file runs
      const third = await run(root, { inputs: [extra] });
      // Then stage B ran a new batch that wrote 2 persons, and the table holds both batches
      expect(third.stageB.status).toBe('SUCCEEDED');
      expect(third.stageB.executionId).not.toBe(first.stageB.executionId);
      expect(tableRows(third)).toEqual({ persons: 2 });
      expect(await parquetRows(root, 'persons')).toBe(1961 + 2);
      expect(await parquetRows(root, 'memberships')).toBe(10_439);
    });

    it('summarises objects, tables with row counts and timings for people', () => {
      const text = formatRunLocalSummary(first).join('\n');
      expect(text).toContain('Local run of demoteam/legislators (environment dev, pipeline standard)');
      expect(text).toMatch(/persons\s+1,961 rows/);
      expect(text).toMatch(/history\s+[\d,]+ rows .*\(partitioned by org_name\)/);
      expect(text).toMatch(/SUCCEEDED\s+demoteam\/legislators\/regions\.json\s+→ regions \(554 records\)/);
      expect(text).toMatch(/Timings: routing \d+ ms, stage A [\d,]+ ms, stage B [\d,]+ ms, total [\d,]+ ms/);
    });
  });

  it('fails a malformed file only, and the others complete', async () => {
    // Given the sample plus a file that is not valid JSON
    const root = await createLegislatorsProject();
    writeFileSync(join(root, 'data', 'demoteam', 'legislators', 'broken.json'), '[{"id": 1}, {"id": ');
    // When the dataset runs
    const result = await run(root);
    // Then only the broken file failed, with the reason, and stage B still wrote the four tables
    const broken = result.objects.find((o) => o.key.endsWith('broken.json'));
    expect(broken).toMatchObject({ status: 'FAILED', outputs: [] });
    expect(broken?.error).toMatch(/RecordParseError: Cannot read records from demoteam\/legislators\/broken\.json/);
    expect(result.objects.filter((o) => o.status === 'SUCCEEDED')).toHaveLength(4);
    expect(result.failed).toBe(1);
    expect(result.stageB.status).toBe('SUCCEEDED');
    expect(tableRows(result).persons).toBe(1961);
    expect(formatRunLocalSummary(result).join('\n')).toContain('1 failed');
  });

  it('records a transform that throws as FAILED with its message', async () => {
    const root = await createLegislatorsProject({
      lightTransform: `import { defineLightTransform, readRecords } from 'sdlf/transform';
export default defineLightTransform(async function* (input) {
  if (input.key.endsWith('persons.json')) throw new Error('persons are not welcome here');
  for await (const record of readRecords(input)) yield { table: 'rows', record };
});
`,
      sql: 'CREATE TABLE counted AS SELECT count(*) AS n FROM rows;',
    });
    const result = await run(root);
    const persons = result.objects.find((o) => o.key.endsWith('persons.json'));
    // The message names the transform's own line (line 3, column of the throw), the object and the record
    expect(persons?.status).toBe('FAILED');
    expect(persons?.error).toMatch(
      /^Error: persons are not welcome here \(in the light transform at transforms\/light\/legislators_light\.ts:3:49, on s3:\/\/[^/]+\/demoteam\/legislators\/persons\.json, after 0 records, producing record 1\)$/,
    );
    expect(result.objects.filter((o) => o.status === 'SUCCEEDED')).toHaveLength(3);
    expect(result.tables).toEqual([expect.objectContaining({ table: 'counted', rows: 1 })]);
    // --verbose adds the stack, whose first frame is the transform's own line; without it, the summary says so
    const verbose = formatRunLocalSummary(result, { verbose: true }).join('\n');
    expect(verbose).toMatch(
      /persons\.json +Error: persons are not welcome here .*\n {6}at .*transforms\/light\/legislators_light\.ts:3:49/,
    );
    expect(formatRunLocalSummary(result).join('\n')).not.toMatch(/^ {6}at /m);
    expect(formatRunLocalSummary(result).at(-1)).toMatch(/--verbose adds the stack of each error\.$/);
  });

  it('names the record a transform failed on after staging some, and the line in a helper it imports', async () => {
    const root = await createLegislatorsProject({
      lightTransform: `import { defineLightTransform, readRecords } from 'sdlf/transform';
import { check } from '../lib/check';
export default defineLightTransform(async function* (input) {
  let n = 0;
  for await (const record of readRecords(input)) {
    if (input.key.endsWith('persons.json')) check(++n);
    yield { table: 'rows', record };
  }
});
`,
      sql: 'CREATE TABLE counted AS SELECT count(*) AS n FROM rows;',
    });
    mkdirSync(join(root, 'transforms', 'lib'));
    writeFileSync(
      join(root, 'transforms', 'lib', 'check.ts'),
      "export function check(n: number): void {\n  if (n > 5) throw new RangeError('six is too many');\n}\n",
    );
    const result = await run(root);
    const persons = result.objects.find((o) => o.key.endsWith('persons.json'));
    expect(persons?.error).toMatch(
      /^RangeError: six is too many \(in the light transform at transforms\/lib\/check\.ts:2:\d+, on s3:\/\/[^,]+persons\.json, after 5 records, producing record 6\)$/,
    );
    expect(persons?.stack).toMatch(/at .*transforms\/light\/legislators_light\.ts:6:\d+/);
  });

  it('refuses a heavy transform folder with neither transform.sql nor a main.py of its own, before running', async () => {
    const root = await createLegislatorsProject({ sql: null });
    rmSync(join(root, 'transforms', 'heavy', 'legislators_heavy', 'main.py'));
    await expect(run(root)).rejects.toMatchObject({
      code: 'MISSING_TRANSFORM_SQL',
      message: expect.stringContaining('needs transforms/heavy/legislators_heavy/transform.sql'),
    });
    expect(existsSync(join(root, '.sdlf', 'local', 'dev', 'raw'))).toBe(false);
  });

  it("runs stage A and reports stage B as Glue-only for PySpark of the user's own without transform.sql", async () => {
    const root = await createLegislatorsProject({ sql: null });
    const result = await run(root);
    expect(result.objects.every((o) => o.status === 'SUCCEEDED')).toBe(true);
    expect(result.stageB).toMatchObject({ status: 'GLUE_ONLY', reason: expect.stringContaining('run it with --engine spark') });
    expect(result.tables).toEqual([]);
    expect(result.failed).toBe(0);
    expect(formatRunLocalSummary(result).join('\n')).toContain('Stage B: GLUE_ONLY');
  });

  it('stops after stage A for a dataset of a stage-A-only pipeline type from sdlf add-pipeline', async () => {
    // Given the legislators dataset moved to the pipeline type that add-pipeline scaffolds (stage A only)
    const root = await createLegislatorsProject();
    const template = readFileSync(join(repoRoot, 'src', 'templates', 'pipeline', 'pipelines', '{{name}}.ts.hbs'), 'utf8');
    mkdirSync(join(root, 'pipelines'));
    writeFileSync(
      join(root, 'pipelines', 'fast.ts'),
      template.replaceAll('{{name}}', 'fast').replace('{{json description}}', JSON.stringify('fast lane')),
    );
    const parameters = JSON.parse(readFileSync(join(root, 'parameters.json'), 'utf8'));
    parameters.dev[0].pipeline = 'fast';
    writeFileSync(join(root, 'parameters.json'), JSON.stringify(parameters));
    // When it runs locally
    const result = await run(root);
    // Then stage A stages every object and stage B does not run, as on AWS
    expect(result.objects.every((o) => o.status === 'SUCCEEDED')).toBe(true);
    expect(result.stageB).toMatchObject({ status: 'NOT_IN_PIPELINE', reason: expect.stringContaining('stage A only') });
    expect(result.tables).toEqual([]);
  });

  it('reports stage B FAILED with the SQL error and keeps the staged objects', async () => {
    const root = await createLegislatorsProject({ sql: 'CREATE TABLE broken AS SELECT no_such_column FROM persons;' });
    const result = await run(root);
    expect(result.objects.every((o) => o.status === 'SUCCEEDED')).toBe(true);
    expect(result.stageB.status).toBe('FAILED');
    expect(result.stageB.error).toMatch(/TransformSqlRunError: transform\.sql line 1 \(CREATE TABLE broken\).*no_such_column/s);
    expect(result.failed).toBe(1);
  });

  it('runs only the files given with --input, JSON Lines included', async () => {
    const root = await createLegislatorsProject({ sql: 'CREATE TABLE regions AS SELECT * FROM regions;' });
    const extra = join(root, 'more-regions.jsonl');
    writeFileSync(extra, '{"id": "x", "name": "X"}\n{"id": "y", "name": "Y"}\n');
    const result = await run(root, { inputs: [join(root, 'data', 'demoteam', 'legislators', 'regions.json'), extra] });
    expect(result.objects.map((o) => [o.key, o.status])).toEqual([
      ['demoteam/legislators/regions.json', 'SUCCEEDED'],
      ['demoteam/legislators/more-regions.jsonl', 'SUCCEEDED'],
    ]);
    expect(tableRows(result)).toEqual({ regions: 554 });
  });

  it('stages persons.json and persons.csv of one batch apart: both records reach the table', async () => {
    // Given two raw objects whose names differ only in their extension, in one batch
    const root = await createLegislatorsProject({ sql: 'CREATE TABLE persons AS SELECT id, name FROM persons;' });
    mkdirSync(join(root, 'batch'));
    const json = join(root, 'batch', 'persons.json');
    const csv = join(root, 'batch', 'persons.csv');
    writeFileSync(json, '[{"id": "from-json", "name": "Ada"}]\n');
    writeFileSync(csv, 'id,name\nfrom-csv,Bo\n');
    // When they run locally
    const result = await run(root, { inputs: [json, csv] });
    // Then each has its own staged object, and the persons table holds both records
    expect(result.objects.map((o) => [o.key, o.status])).toEqual([
      ['demoteam/legislators/persons.json', 'SUCCEEDED'],
      ['demoteam/legislators/persons.csv', 'SUCCEEDED'],
    ]);
    const staged = result.objects.flatMap((o) => o.outputs.map((output) => output.path));
    expect(new Set(staged).size).toBe(2);
    expect(result.stageB.status).toBe('SUCCEEDED');
    expect(tableRows(result)).toEqual({ persons: 2 });
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const glob = join(root, '.sdlf', 'local', 'dev', 'analytics', 'demoteam', 'legislators', 'persons', '**', '*.parquet');
    const reader = await connection.runAndReadAll(`SELECT id FROM read_parquet('${glob}') ORDER BY id`);
    expect(reader.getRows().map((row) => row[0])).toEqual(['from-csv', 'from-json']);
    connection.closeSync();
    instance.closeSync();
  });

  it('writes the tables a partial batch can make and lists the statements it skipped', async () => {
    const root = await createLegislatorsProject();
    const result = await run(root, { inputs: [join(root, 'data', 'demoteam', 'legislators', 'persons.json')] });
    expect(result.stageB.status).toBe('SUCCEEDED');
    expect(tableRows(result)).toEqual({ persons: 1961 });
    expect(result.stageB.skipped.map((s) => s.name)).toEqual(['memberships', 'organizations', 'history']);
    expect(formatRunLocalSummary(result).join('\n')).toContain('skipped history: it reads');
  });

  it('says which tables a batch left from an earlier batch, and warns of each skipped statement once, as a sentence', async () => {
    // Given a full run, then a run of persons.json alone (as after the other inputs' light transform failed)
    const root = await createLegislatorsProject();
    const full = await run(root);
    const persons = join(root, 'data', 'demoteam', 'legislators', 'persons.json');
    writeFileSync(persons, JSON.stringify((JSON.parse(readFileSync(persons, 'utf8')) as Row[]).slice(0, 100)));
    const io = createRecordingIo();
    const partial = await runLocal({ root, team: 'demoteam', dataset: 'legislators', inputs: [persons] }, io);
    expect(tableRows(partial)).toEqual({ persons: 100 });
    // Then the tables persons does not make are named as the full run's, with its execution id
    expect(partial.stageB.older).toEqual(
      ['history', 'memberships', 'organizations'].map((table) => ({ table, lastExecution: full.stageB.executionId })),
    );
    const summary = formatRunLocalSummary(partial).join('\n');
    expect(summary).toContain(
      `memberships is from an earlier batch (${full.stageB.executionId}): this batch did not write it, so it does not reflect this run's input`,
    );
    expect(summary).not.toContain('persons is from an earlier batch');
    // And nothing printed outside --verbose is a JSON blob or repeats the summary's skipped lines
    const shown = io.lines.filter((l) => l.level !== 'debug').map((l) => l.message);
    expect(shown.filter((m) => m.includes('{"'))).toEqual([]);
    expect(shown.filter((m) => m.includes('skipped'))).toEqual([]);
    expect(summary.match(/skipped history: it reads/g)).toHaveLength(1);
  });

  it('starts from an empty local lake with fresh', async () => {
    const root = await createLegislatorsProject({ sql: 'CREATE TABLE regions AS SELECT * FROM regions;' });
    const input = join(root, 'data', 'demoteam', 'legislators', 'regions.json');
    await run(root, { inputs: [input] });
    const again = await run(root, { inputs: [input], fresh: true });
    expect(again.stageB.status).toBe('SUCCEEDED');
    const history = JSON.parse(
      readFileSync(join(root, '.sdlf', 'local', 'dev', 'metadata', LOCAL_TABLE_FILES.executionHistory), 'utf8'),
    ) as Row[];
    expect(history).toHaveLength(2);
    expect(readdirSync(join(root, '.sdlf', 'local', 'dev', 'build')).some((f) => f.endsWith('.inputs.json'))).toBe(true);
  });

  it.each([
    [{ dataset: 'legislator' }, 'UNKNOWN_DATASET', /did you mean "demoteam\/legislators"/],
    [{ env: 'prod' }, 'UNKNOWN_ENVIRONMENT', /Environment "prod" is not in ddk.json/],
    [{ inputs: ['/nope/missing.json'] }, 'INPUT_NOT_FOUND', /missing\.json does not exist/],
    [{ team: 'Demo Team' }, 'INVALID_NAME', /Team name "Demo Team" is invalid/],
  ])('rejects %j with %s before writing anything', async (extra, code, message) => {
    const root = await createLegislatorsProject();
    const before = snapshotTree(root);
    await expect(run(root, extra)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(snapshotTree(root)).toEqual(before);
  });

  it('rejects a project without sample data with NO_INPUT', async () => {
    const root = await createLegislatorsProject({ sample: false });
    await expect(run(root)).rejects.toMatchObject({ code: 'NO_INPUT' });
  });

  it('rejects a transform.sql that breaks the convention with its line', async () => {
    const root = await createLegislatorsProject({ sql: 'CREATE TABLE ok AS SELECT 1 AS one;\nDROP TABLE ok;' });
    await expect(run(root)).rejects.toMatchObject({ code: 'INVALID_TRANSFORM_SQL', message: expect.stringContaining(':2:') });
  });

  it('rejects a light transform that does not bundle with TRANSFORM_BUILD_FAILED', async () => {
    const root = await createLegislatorsProject({ lightTransform: 'export default async function* ( {\n' });
    await expect(run(root)).rejects.toMatchObject({ code: 'TRANSFORM_BUILD_FAILED' });
    expect(existsSync(join(root, '.sdlf', 'local', 'dev', '.lock'))).toBe(false);
  });
});
