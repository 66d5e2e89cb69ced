import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { jobResultKeyOf, manifestKeyOf } from '../../src/runtime/core/ids.js';
import { type RunLocalResult, runLocal } from '../../src/services/run-local.js';
import { createLegislatorsProject, LEGISLATORS_SQL } from './fixture.js';

// The Glue job's own main.py on real PySpark (local[2]; Glue 5.0 = Spark 3.5.4), against the DuckDB engine on the
// same staged batch: the tables must be the same, column for column and row for row.

type Row = Record<string, unknown>;
const TABLES = ['persons', 'memberships', 'organizations', 'history'] as const;
const local = (root: string) => join(root, '.sdlf', 'local', 'dev');
const tableDir = (root: string, table: string) => join(local(root), 'analytics', 'demoteam', 'legislators', table);

const run = (root: string, engine: 'duckdb' | 'spark', extra: Partial<Parameters<typeof runLocal>[0]> = {}) =>
  runLocal({ root, team: 'demoteam', dataset: 'legislators', engine, ...extra }, createRecordingIo());

/** Reads a table's Parquet files with DuckDB: its schema, and its rows in a stable order. */
async function readTable(root: string, table: string): Promise<{ schema: string[]; rows: Row[] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const source = `read_parquet('${tableDir(root, table)}/**/*.parquet', hive_partitioning = true)`;
    const schema = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`))
      .getRows()
      .map(([name, type]) => `${name} ${type}`);
    const rows = (await connection.runAndReadAll(`SELECT * FROM ${source} ORDER BY ALL`)).getRowObjectsJS() as Row[];
    return { schema, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The values of a timestamp column as microseconds since the epoch (UTC). */
async function epochMicros(root: string, table: string, column: string): Promise<bigint[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const source = `read_parquet('${tableDir(root, table)}/**/*.parquet', hive_partitioning = true)`;
    const reader = await connection.runAndReadAll(`SELECT epoch_us(${column}) FROM ${source} ORDER BY 1`);
    return reader.getRows().map(([value]) => value as bigint);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function catalogOf(root: string, table: string) {
  const file = join(local(root), 'catalog', 'ddk_dev_demoteam_legislators', `${table}.json`);
  const entry = JSON.parse(readFileSync(file, 'utf8')) as {
    PartitionKeys: unknown[];
    StorageDescriptor: { Columns: unknown[]; Location: string };
    Partitions: Array<{ Values: string[] }>;
  };
  return {
    columns: entry.StorageDescriptor.Columns,
    partitionKeys: entry.PartitionKeys,
    location: entry.StorageDescriptor.Location,
    partitions: entry.Partitions.map((p) => p.Values).sort(),
  };
}

function jobResult(root: string, result: RunLocalResult) {
  const file = join(
    local(root),
    'artifacts',
    ...jobResultKeyOf(manifestKeyOf('demoteam', 'legislators', result.stageB.executionId ?? '?')).split('/'),
  );
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    executionId: string;
    tables: Array<Row>;
    skipped: unknown[];
  };
  // The number of files is each engine's own; everything else is the contract with stage B's post-update.
  return { ...doc, tables: doc.tables.map(({ files: _files, ...table }) => table) };
}

describe('sdlf run --local --engine spark (the Glue runner on PySpark)', () => {
  let duck: string;
  let spark: string;
  let duckRun: RunLocalResult;
  let sparkRun: RunLocalResult;

  beforeAll(async () => {
    duck = await createLegislatorsProject({ glueRunner: true });
    spark = await createLegislatorsProject({ glueRunner: true });
    duckRun = await run(duck, 'duckdb');
    sparkRun = await run(spark, 'spark');
  }, 240_000);

  it('runs the job on Spark and writes the four tables with the row counts of the DuckDB engine', () => {
    expect(sparkRun.stageB.status).toBe('SUCCEEDED');
    const rows = (r: RunLocalResult) => Object.fromEntries(r.tables.map((t) => [t.table, t.rows]));
    expect(rows(sparkRun)).toEqual(rows(duckRun));
    expect(rows(sparkRun)).toMatchObject({ persons: 1961, memberships: 10_439, organizations: 13 });
    expect(sparkRun.stageB.executionId).toBe(duckRun.stageB.executionId);
  });

  it.each(TABLES)('writes %s with the same Parquet columns, types and rows as DuckDB', async (table) => {
    const [fromSpark, fromDuck] = await Promise.all([readTable(spark, table), readTable(duck, table)]);
    expect(fromSpark.schema).toEqual(fromDuck.schema);
    expect(fromSpark.rows.length).toBe(fromDuck.rows.length);
    expect(fromSpark.rows).toEqual(fromDuck.rows);
  });

  it('partitions history into the same Hive-style folders', () => {
    const folders = (root: string) => readdirSync(tableDir(root, 'history')).sort();
    expect(folders(spark)).toEqual(['org_name=House', 'org_name=Senate']);
    expect(folders(spark)).toEqual(folders(duck));
  });

  it('writes the same job result document beside the manifest', () => {
    expect(jobResult(spark, sparkRun)).toEqual(jobResult(duck, duckRun));
  });

  it.each(TABLES)('registers %s in the local catalog with the same Glue types on both engines', (table) => {
    expect(catalogOf(spark, table)).toEqual(catalogOf(duck, table));
  });

  it('registers nested arrays of objects as arrays of structs with their fields in name order', () => {
    expect(catalogOf(spark, 'persons').columns).toContainEqual({
      Name: 'identifiers',
      Type: 'array<struct<identifier:string,scheme:string>>',
    });
    expect(catalogOf(spark, 'organizations').columns).toContainEqual({ Name: 'seats', Type: 'bigint' });
  });

  it('changes nothing when the same input runs again, like the DuckDB engine', async () => {
    const again = await run(spark, 'spark');
    expect(again.stageB.status).toBe('UNCHANGED');
    expect((await readTable(spark, 'memberships')).rows).toHaveLength(10_439);
  });
});

describe('--engine spark on batches that are not the whole sample', () => {
  it('skips the statements whose input the batch lacks, and lists them as DuckDB does', async () => {
    // Given a batch of persons only
    const roots = [await createLegislatorsProject({ glueRunner: true }), await createLegislatorsProject({ glueRunner: true })];
    const only = (root: string) => [join(root, 'data', 'demoteam', 'legislators', 'persons.json')];
    // When both engines run it
    const [fromSpark, fromDuck] = [
      await run(roots[0] as string, 'spark', { inputs: only(roots[0] as string) }),
      await run(roots[1] as string, 'duckdb', { inputs: only(roots[1] as string) }),
    ];
    // Then persons is written and the other three are skipped with the same reasons
    expect(fromSpark.stageB.status).toBe('SUCCEEDED');
    expect(fromSpark.tables.map((t) => [t.table, t.rows])).toEqual([['persons', 1961]]);
    expect(fromSpark.stageB.skipped).toEqual(fromDuck.stageB.skipped);
    expect(fromSpark.stageB.skipped.map((s) => s.name)).toEqual(['memberships', 'organizations', 'history']);
  }, 180_000);

  it("fails stage B with the statement's file and line when Spark rejects the SQL, and keeps the log", async () => {
    // Given a transform.sql whose second statement reads a column that does not exist
    const root = await createLegislatorsProject({
      glueRunner: true,
      sql: 'CREATE TABLE persons AS SELECT id FROM persons;\n\nCREATE TABLE broken AS SELECT no_such_column FROM persons;\n',
    });
    // When it runs on Spark
    const result = await run(root, 'spark');
    // Then stage B is FAILED with the line of the statement and Spark's reason; nothing of broken is written
    expect(result.stageB.status).toBe('FAILED');
    expect(result.stageB.error).toMatch(/transform\.sql:3: broken: .*no_such_column/);
    expect(result.stageB.error).toMatch(/Spark's log: .*spark-b-[0-9a-f]+\.log/);
    expect(existsSync(tableDir(root, 'broken'))).toBe(false);
    expect(result.failed).toBeGreaterThan(0);
  }, 120_000);
});

describe('--engine spark without Spark', () => {
  it('exits 2 naming the install command when python3 cannot import pyspark', async () => {
    const root = await createLegislatorsProject({ glueRunner: true, sql: LEGISLATORS_SQL });
    const bin = join(root, 'no-pyspark');
    writeFileSync(bin, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const previous = process.env.SDLF_PYTHON;
    process.env.SDLF_PYTHON = bin;
    try {
      await expect(run(root, 'spark')).rejects.toMatchObject({
        code: 'SPARK_PYSPARK_MISSING',
        exitCode: 2,
        message: expect.stringContaining('cannot import'),
      });
    } finally {
      if (previous === undefined) delete process.env.SDLF_PYTHON;
      else process.env.SDLF_PYTHON = previous;
      rmSync(bin, { force: true });
    }
  });
});

describe('one type mapping on both engines', () => {
  const TYPED_SQL = `CREATE TABLE typed AS
SELECT classification,
       SUM(seats) AS seats_total,
       COUNT(*) AS organizations,
       AVG(seats) AS seats_mean,
       CAST(SUM(seats) AS DECIMAL(12, 2)) AS seats_decimal,
       CAST('2024-05-01 12:34:56.789123' AS TIMESTAMP) AS measured_at,
       CAST('2024-05-01' AS DATE) AS measured_on,
       MIN(name) AS first_name,
       seats IS NOT NULL AS has_seats
FROM organizations
GROUP BY classification, seats IS NOT NULL;
`;
  let spark: string;
  let duck: string;

  beforeAll(async () => {
    spark = await createLegislatorsProject({ glueRunner: true, sql: TYPED_SQL });
    duck = await createLegislatorsProject({ glueRunner: true, sql: TYPED_SQL });
    const only = (root: string) => [join(root, 'data', 'demoteam', 'legislators', 'organizations.json')];
    expect((await run(spark, 'spark', { inputs: only(spark) })).stageB.status).toBe('SUCCEEDED');
    expect((await run(duck, 'duckdb', { inputs: only(duck) })).stageB.status).toBe('SUCCEEDED');
  }, 120_000);

  it('registers integers as bigint, decimals with their precision, timestamps, dates and booleans alike', () => {
    expect(catalogOf(spark, 'typed').columns).toEqual([
      { Name: 'classification', Type: 'string' },
      { Name: 'seats_total', Type: 'bigint' },
      { Name: 'organizations', Type: 'bigint' },
      { Name: 'seats_mean', Type: 'double' },
      { Name: 'seats_decimal', Type: 'decimal(12,2)' },
      { Name: 'measured_at', Type: 'timestamp' },
      { Name: 'measured_on', Type: 'date' },
      { Name: 'first_name', Type: 'string' },
      { Name: 'has_seats', Type: 'boolean' },
    ]);
    expect(catalogOf(duck, 'typed').columns).toEqual(catalogOf(spark, 'typed').columns);
  });

  it('writes the same Parquet types and values, timestamps to the microsecond', async () => {
    const [fromSpark, fromDuck] = await Promise.all([readTable(spark, 'typed'), readTable(duck, 'typed')]);
    expect(fromDuck.schema).toEqual(fromSpark.schema);
    expect(fromDuck.rows).toEqual(fromSpark.rows);
    // 2024-05-01 12:34:56.789123 UTC, to the microsecond, in both files
    const micros = BigInt(Date.UTC(2024, 4, 1, 12, 34, 56)) * 1000n + 789_123n;
    expect(await epochMicros(spark, 'typed', 'measured_at')).toEqual([micros, micros]);
    expect(await epochMicros(duck, 'typed', 'measured_at')).toEqual([micros, micros]);
  });
});
