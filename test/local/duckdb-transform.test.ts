import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTransformSqlWithDuckDb, TransformSqlRunError } from '../../src/local/duckdb-transform.js';
import { parseTransformSql } from '../../src/runtime/core/sql.js';
import { renderLegislatorsSample } from '../../src/samples/legislators.js';
import { repoRoot, tempDir } from '../helpers/project.js';

type Row = Record<string, unknown>;

const legislatorsSql = readFileSync(join(repoRoot, 'src', 'templates', 'legislators', 'transform.sql'), 'utf8');

/** Stages the sample as the default light transform would: one JSON Lines file per table. */
function stageSample(dir: string): { inputs: Record<string, string[]>; expectedHistory: number } {
  const files = Object.fromEntries(renderLegislatorsSample().map((f) => [f.path, f.contents]));
  const inputs: Record<string, string[]> = {};
  const tables: Record<string, Row[]> = {};
  for (const table of ['persons', 'memberships', 'organizations']) {
    tables[table] = JSON.parse(files[`${table}.json`] ?? '[]') as Row[];
    const file = join(dir, `${table}.jsonl`);
    writeFileSync(file, `${(tables[table] ?? []).map((r) => JSON.stringify(r)).join('\n')}\n`);
    inputs[table] = [file];
  }
  const persons = new Set((tables.persons ?? []).map((p) => p.id));
  const organizations = new Set((tables.organizations ?? []).map((o) => o.id));
  const expectedHistory = (tables.memberships ?? []).filter(
    (m) => persons.has(m.person_id) && organizations.has(m.organization_id),
  ).length;
  return { inputs, expectedHistory };
}

async function readParquet(glob: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${glob}', hive_partitioning = true)`);
  const rows = reader.getRowObjectsJS() as Row[];
  connection.closeSync();
  instance.closeSync();
  return rows;
}

describe('runTransformSqlWithDuckDb', () => {
  let dir: string;
  let staged: ReturnType<typeof stageSample>;

  beforeAll(() => {
    dir = tempDir();
    mkdirSync(join(dir, 'stage'));
    staged = stageSample(join(dir, 'stage'));
  });

  const run = async (outputDir: string, sql = legislatorsSql, executionId = 'exec-1', inputs = staged.inputs) =>
    (
      await runTransformSqlWithDuckDb({
        statements: parseTransformSql(sql),
        inputs,
        outputDir,
        executionId,
        spillDir: join(dir, 'spill'),
      })
    ).tables;

  it('writes the four legislators tables with the expected row counts', async () => {
    // Given the staged sample and the demo SQL
    const out = join(dir, 'analytics-a');
    // When the SQL runs
    const tables = await run(out);
    // Then persons, memberships and organizations keep every row, and history has the matching memberships
    expect(tables.map((t) => [t.table, t.rows])).toEqual([
      ['persons', 1961],
      ['memberships', 10_439],
      ['organizations', 13],
      ['history', staged.expectedHistory],
    ]);
    expect(staged.expectedHistory).toBeLessThan(10_439);
    expect(await readParquet(join(out, 'history', '**', '*.parquet'))).toHaveLength(staged.expectedHistory);
  });

  it('partitions history by org_name in Hive style and names files after the execution id', async () => {
    const out = join(dir, 'analytics-b');
    const tables = await run(out, legislatorsSql, 'exec-42');
    const history = tables.find((t) => t.table === 'history');
    expect(history?.partitionBy).toEqual(['org_name']);
    expect(history?.files).toEqual(['org_name=House/exec-42-0.parquet', 'org_name=Senate/exec-42-0.parquet']);
    expect(readdirSync(join(out, 'persons'))).toEqual(['exec-42-0.parquet']);
  });

  it('keeps ids and dates as strings, as Spark reads JSON', async () => {
    const out = join(dir, 'analytics-c');
    await run(out);
    const [row] = await readParquet(join(out, 'memberships', '*.parquet'));
    expect(typeof row?.person_id).toBe('string');
    expect(typeof row?.start_date).toBe('string');
  });

  it("adds each execution's files beside the earlier ones, as the Glue job appends per batch", async () => {
    const out = join(dir, 'analytics-d');
    await run(out, legislatorsSql, 'first');
    const second = await run(out, legislatorsSql, 'second');
    expect(readdirSync(join(out, 'memberships')).sort()).toEqual(['first-0.parquet', 'second-0.parquet']);
    expect(await readParquet(join(out, 'memberships', '*.parquet'))).toHaveLength(2 * 10_439);
    expect(second.find((t) => t.table === 'memberships')?.rows).toBe(10_439);
  });

  it('replaces only its own files when the same execution runs again', async () => {
    const out = join(dir, 'analytics-r');
    await run(out, legislatorsSql, 'first');
    await run(out, legislatorsSql, 'second');
    await run(out, legislatorsSql, 'second');
    expect(readdirSync(join(out, 'memberships')).sort()).toEqual(['first-0.parquet', 'second-0.parquet']);
    expect(await readParquet(join(out, 'history', '*', '*.parquet'))).toHaveLength(
      2 * (await readParquet(join(out, 'history', '*', 'first-*.parquet'))).length,
    );
  });

  it('orders staged columns and object fields by name and keeps mixed-type values as strings, as Spark infers JSON', async () => {
    const file = join(dir, 'stage', 'mixed.jsonl');
    mkdirSync(join(dir, 'stage'), { recursive: true });
    writeFileSync(file, '{"z": 1, "a": {"y": 1, "b": "x"}, "m": 1}\n{"z": 2, "a": {"y": 2, "b": "y"}, "m": "two"}\n');
    const out = join(dir, 'analytics-o');
    const { tables } = await runTransformSqlWithDuckDb({
      statements: parseTransformSql('CREATE TABLE mixed AS SELECT * FROM mixed;'),
      inputs: { mixed: [file] },
      outputDir: out,
      executionId: 'o',
      spillDir: join(dir, 'spill'),
    });
    expect(tables[0]?.columns).toEqual([
      { name: 'a', type: 'struct<b:string,y:bigint>' },
      { name: 'm', type: 'string' },
      { name: 'z', type: 'bigint' },
    ]);
    expect(await readParquet(join(out, 'mixed', '*.parquet'))).toEqual([
      { a: { b: 'x', y: 1n }, m: '1', z: 1n },
      { a: { b: 'y', y: 2n }, m: 'two', z: 2n },
    ]);
  });

  it('writes SUM of integers as a bigint, as Spark does, not as a 128-bit integer', async () => {
    const file = join(dir, 'stage', 'sums.jsonl');
    mkdirSync(join(dir, 'stage'), { recursive: true });
    writeFileSync(file, '{"k": "a", "n": 1}\n{"k": "a", "n": 2}\n');
    const out = join(dir, 'analytics-s');
    const { tables } = await runTransformSqlWithDuckDb({
      statements: parseTransformSql('CREATE TABLE sums AS SELECT k, SUM(n) AS total, AVG(n) AS mean FROM sums GROUP BY k;'),
      inputs: { sums: [file] },
      outputDir: out,
      executionId: 's',
      spillDir: join(dir, 'spill'),
    });
    expect(tables[0]?.columns).toEqual([
      { name: 'k', type: 'string' },
      { name: 'total', type: 'bigint' },
      { name: 'mean', type: 'double' },
    ]);
    expect(await readParquet(join(out, 'sums', '*.parquet'))).toEqual([{ k: 'a', total: 3n, mean: 1.5 }]);
  });

  it('unites the columns of several staged files of one table by name', async () => {
    const a = join(dir, 'stage', 'part-a.jsonl');
    const b = join(dir, 'stage', 'part-b.jsonl');
    writeFileSync(a, '{"id": "1", "score": 3}\n');
    writeFileSync(b, '{"id": "2", "label": "two"}\n');
    const out = join(dir, 'analytics-u');
    const { tables } = await runTransformSqlWithDuckDb({
      statements: parseTransformSql('CREATE TABLE parts AS SELECT * FROM parts ORDER BY id;'),
      inputs: { parts: [a, b] },
      outputDir: out,
      executionId: 'u',
      spillDir: join(dir, 'spill'),
    });
    expect(tables[0]?.rows).toBe(2);
    expect(await readParquet(join(out, 'parts', '*.parquet'))).toEqual([
      { id: '1', score: 3n, label: null },
      { id: '2', score: null, label: 'two' },
    ]);
  });

  it('skips the statements that read a table the batch lacks, and runs the others', async () => {
    // Given a batch with persons only
    const out = join(dir, 'analytics-s');
    const result = await runTransformSqlWithDuckDb({
      statements: parseTransformSql(legislatorsSql),
      inputs: { persons: staged.inputs.persons ?? [] },
      outputDir: out,
      executionId: 's',
      spillDir: join(dir, 'spill'),
    });
    // Then persons is written and the three statements needing memberships or organizations are listed as skipped
    expect(result.tables.map((t) => [t.table, t.rows])).toEqual([['persons', 1961]]);
    expect(result.skipped).toEqual([
      { name: 'memberships', reason: 'reads memberships, which this batch does not have' },
      { name: 'organizations', reason: 'reads organizations, which this batch does not have' },
      { name: 'history', reason: expect.stringMatching(/^reads (memberships|organizations), which this batch does not have$/) },
    ]);
  });

  it('runs views and lets later statements read earlier tables', async () => {
    const out = join(dir, 'analytics-e');
    const sql = `
      CREATE VIEW senators AS SELECT * FROM memberships WHERE role = 'senator';
      CREATE TABLE senate_terms AS SELECT legislative_period_id, count(*) AS members FROM senators GROUP BY 1;
      CREATE TABLE busiest AS SELECT max(members) AS members FROM senate_terms;`;
    const tables = await run(out, sql);
    expect(tables.map((t) => t.table)).toEqual(['senate_terms', 'busiest']);
    expect(tables[1]?.rows).toBe(1);
    expect(existsSync(join(out, 'senators'))).toBe(false);
  });

  it('fails with the statement line and leaves the previous tables untouched', async () => {
    const out = join(dir, 'analytics-f');
    await run(out, legislatorsSql, 'good');
    const bad = `CREATE TABLE persons AS SELECT * FROM persons;\n\nCREATE TABLE broken AS SELECT no_such_column FROM memberships;`;
    const failure = await run(out, bad, 'bad').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransformSqlRunError);
    expect(failure).toMatchObject({ line: 3, statement: 'CREATE TABLE broken' });
    expect(readdirSync(join(out, 'persons'))).toEqual(['good-0.parquet']);
    expect(readdirSync(out).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it.each([
    ['a file of the machine', "read_csv('/etc/passwd')", '/etc/passwd'],
    ['a URL', "read_json('https://example.com/x.json')", 'https://example.com/x.json'],
  ])('refuses to read %s, which the Glue job could not either, naming the line and the fix', async (_what, source, shown) => {
    const out = join(dir, `analytics-x-${shown.length}`);
    const sql = `CREATE TABLE persons AS SELECT * FROM persons;\nCREATE TABLE leak AS SELECT * FROM ${source};`;
    const failure = await run(out, sql, 'leak').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransformSqlRunError);
    expect(failure).toMatchObject({ line: 2, statement: 'CREATE TABLE leak' });
    expect((failure as Error).message).toContain(`reads "${shown}", a file outside the batch`);
    expect((failure as Error).message).toContain('sdlf upload');
    expect(existsSync(join(out, 'leak'))).toBe(false);
    expect(existsSync(join(out, 'persons'))).toBe(false);
  });
});
