import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTransformSql, TransformSqlError } from '../../src/runtime/core/sql.js';
import { repoRoot } from '../helpers/project.js';

const script = join(repoRoot, 'src', 'runtime', 'glue', 'main.py');

/**
 * Runs `body` in python3 with the Glue runner imported as `m` (its Spark and AWS imports sit inside `run()`, so
 * the pure helpers load without them) and `data` bound to `input`; returns what the body assigns to `out`.
 */
function python(body: string, input: unknown = null): unknown {
  const program = [
    'import importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("sdlf_glue_runner", sys.argv[1])',
    'm = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(m)',
    'data = json.loads(sys.stdin.read())',
    'out = None',
    body,
    'print(json.dumps(out))',
  ].join('\n');
  const stdout = execFileSync('python3', ['-B', '-c', program, script], { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(stdout);
}

/** Parses SQL with the TypeScript parser, as a value comparable with the Python one. */
function parseTs(sql: string): unknown {
  try {
    return { ok: parseTransformSql(sql) };
  } catch (error) {
    if (!(error instanceof TransformSqlError)) throw error;
    return { error: { line: error.line, reason: error.reason } };
  }
}

const parsePy = (sqls: string[]) =>
  python(
    `out = []
for sql in data:
    try:
        out.append({"ok": m.parse_transform_sql(sql)})
    except m.TransformSqlError as e:
        out.append({"error": {"line": e.line, "reason": e.reason}})`,
    sqls,
  ) as unknown[];

describe('Glue runner main.py', () => {
  it('compiles with python3 (py_compile)', () => {
    const out = mkdtempSync(join(tmpdir(), 'sdlf-pyc-'));
    execFileSync('python3', [
      '-c',
      'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)',
      script,
      join(out, 'main.pyc'),
    ]);
    expect(readdirSync(out)).toEqual(['main.pyc']);
  });

  it('parses transform.sql exactly as the TypeScript parser the local run uses', () => {
    // Given SQL covering the convention, and every error case
    const sqls = [
      readFileSync(join(repoRoot, 'src', 'templates', 'legislators', 'transform.sql'), 'utf8'),
      "-- c; x\nCREATE TEMP VIEW v AS SELECT 'a;b' AS s;\n/* b\n c */ create table T partitioned by (A, b) as ( SELECT * FROM v );",
      'CREATE TABLE t AS WITH x AS (SELECT 1) SELECT * FROM x',
      'DROP TABLE persons;',
      'CREATE TABLE Bad-Name AS SELECT 1',
      '\n\nCREATE TABLE t AS DELETE FROM x',
      'CREATE TABLE t AS selectx',
      'CREATE TABLE t AS SELECT 1; CREATE VIEW t AS SELECT 2',
      'CREATE TABLE t PARTITIONED BY () AS SELECT 1',
      'CREATE TABLE t PARTITIONED BY (a + 1) AS SELECT 1',
      'CREATE VIEW v AS SELECT 1',
      "CREATE TABLE t AS SELECT 'x",
      'CREATE TABLE t AS SELECT 1 /* x',
      "CREATE TABLE t AS SELECT 'it''s' AS a, \"q;\" AS b, `c;` AS c",
      '',
    ];
    // When both parsers read them, Then they agree on every statement and every error
    expect(parsePy(sqls)).toEqual(sqls.map(parseTs));
  });

  it.each([
    [
      ['main.py', '--manifest', 's3://a/m.json', '--execution-id', 'b-1', '--JOB_NAME', 'j'],
      { manifest: 's3://a/m.json', execution_id: 'b-1', JOB_NAME: 'j' },
    ],
    [
      ['main.py', '--team=demoteam', '--flag', '--dataset', 'legislators'],
      { team: 'demoteam', flag: '', dataset: 'legislators' },
    ],
  ])('reads job arguments %j', (argv, expected) => {
    expect(python('out = m.parse_job_args(data)', argv)).toEqual(expected);
  });

  it('fails naming every missing job argument', () => {
    expect(
      python(
        `try:
    m.require_args({"team": "t", "dataset": ""}, ["team", "dataset", "execution_id"])
except ValueError as e:
    out = str(e)`,
      ),
    ).toBe('missing job argument(s): --dataset, --execution-id');
  });

  it('groups the manifest by input table, in order, without duplicates', () => {
    const manifest = [
      's3://stage/demoteam/legislators/persons/persons.jsonl',
      's3://stage/demoteam/legislators/memberships/memberships.jsonl',
      's3://stage/demoteam/legislators/persons/2024__persons.jsonl',
      's3://stage/demoteam/legislators/persons/persons.jsonl',
    ];
    expect(python('out = m.parse_manifest(json.dumps(data), "demoteam", "legislators")', manifest)).toEqual({
      persons: [manifest[0], manifest[2]],
      memberships: [manifest[1]],
    });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an empty list', '[]', /non-empty JSON list/],
    ['a non-string entry', '[1]', /entry 1 of the manifest is not a string/],
    ['a non-s3 entry', '["https://x/y"]', /entry 1 .*not an s3:\/\/bucket\/key URI/],
    [
      'another dataset',
      '["s3://stage/demoteam/other/persons/a.jsonl"]',
      /not a staged object under demoteam\/legislators\/<table>\//,
    ],
    ['a file without a table folder', '["s3://stage/demoteam/legislators/a.jsonl"]', /not a staged object/],
  ])('fails on a manifest with %s', (_label, text, message) => {
    const error = python(
      `try:
    m.parse_manifest(data, "demoteam", "legislators")
except m.ManifestError as e:
    out = str(e)`,
      text,
    );
    expect(error).toMatch(message);
  });

  it("names this run's files and replaces only them on a rerun", () => {
    const out = python(
      `out = {
  "copies": m.plan_copies(data, "t/d/_sdlf_staging/b-1/h/", "t/d/h/", "b-1"),
  "own": [m.is_own_file(k, "b-1") for k in ["t/d/h/b-1-00000.parquet", "t/d/h/org=x/b-1-00003.parquet", "t/d/h/b-2-00000.parquet", "t/d/h/xb-1-0.parquet"]],
  "result": m.result_key_of("manifests/t/d/b-1.json"),
}`,
      [
        't/d/_sdlf_staging/b-1/h/_SUCCESS',
        't/d/_sdlf_staging/b-1/h/org_name=House/part-00001-abc.c000.snappy.parquet',
        't/d/_sdlf_staging/b-1/h/org_name=House/part-00000-abc.c000.snappy.parquet',
        't/d/_sdlf_staging/b-1/h/org_name=Senate%2FUpper/part-00000-abc.c000.snappy.parquet',
      ],
    );
    expect(out).toEqual({
      copies: [
        ['t/d/_sdlf_staging/b-1/h/org_name=House/part-00000-abc.c000.snappy.parquet', 't/d/h/org_name=House/b-1-00000.parquet'],
        ['t/d/_sdlf_staging/b-1/h/org_name=House/part-00001-abc.c000.snappy.parquet', 't/d/h/org_name=House/b-1-00001.parquet'],
        [
          't/d/_sdlf_staging/b-1/h/org_name=Senate%2FUpper/part-00000-abc.c000.snappy.parquet',
          't/d/h/org_name=Senate%2FUpper/b-1-00000.parquet',
        ],
      ],
      own: [true, true, false, false],
      result: 'manifests/t/d/b-1.result.json',
    });
  });

  it('reads partition values from Hive-style folders and fails on a mismatch', () => {
    expect(python('out = m.partition_values("org_name=Senate%2FUpper/year=2024", ["org_name", "year"])')).toEqual([
      'Senate/Upper',
      '2024',
    ]);
    expect(
      python(
        `try:
    m.partition_values("other=1", ["org_name"])
except ValueError as e:
    out = str(e)`,
      ),
    ).toMatch(/does not match the partition columns org_name/);
  });

  it.each([
    ['[TABLE_OR_VIEW_NOT_FOUND] The table or view `memberships` cannot be found. Verify the spelling', 'memberships'],
    ['[TABLE_OR_VIEW_NOT_FOUND] The table or view `spark_catalog`.`db`.`Orgs` cannot be found.', 'orgs'],
    ['Table or view not found: persons; line 1 pos 14', 'persons'],
    ['[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column with name `x` cannot be resolved', null],
  ])('reads the missing relation of the Spark error %j', (message, name) => {
    expect(python('out = m.missing_relation(data)', message)).toBe(name);
  });

  it('merges catalog columns: new types win, old columns are kept, new ones appended', () => {
    const merged = python('out = m.merge_columns(data[0], data[1])', [
      [
        { Name: 'id', Type: 'int' },
        { Name: 'gone', Type: 'string' },
      ],
      [
        { Name: 'id', Type: 'bigint' },
        { Name: 'added', Type: 'string' },
      ],
    ]);
    expect(merged).toEqual([
      { Name: 'id', Type: 'bigint' },
      { Name: 'gone', Type: 'string' },
      { Name: 'added', Type: 'string' },
    ]);
  });

  it('describes a Parquet table for the Glue catalog', () => {
    const input = python(
      'out = m.table_input("history", "s3://a/t/d/history/", [{"Name": "id", "Type": "bigint"}], [{"Name": "org_name", "Type": "string"}], "b-1")',
    );
    expect(input).toMatchObject({
      Name: 'history',
      TableType: 'EXTERNAL_TABLE',
      Parameters: { classification: 'parquet', 'sdlf:lastExecution': 'b-1' },
      PartitionKeys: [{ Name: 'org_name', Type: 'string' }],
      StorageDescriptor: {
        Location: 's3://a/t/d/history/',
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      },
    });
  });
});
