import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { validateProject } from '../../src/services/validate-project.js';
import { createLegislatorsProject, LEGISLATORS_SQL } from '../local/fixture.js';

// `sdlf validate` checks transform.sql with DuckDB's parser and, where PySpark and Java are installed (here: the
// project's pinned PySpark in .venv), with Spark SQL over the tables stage A stages from the sample data.

const SQL_FILE = 'transforms/heavy/legislators_heavy/transform.sql';

/** Validates a project; returns the problems it reports (none when it is valid) and the Io's warnings. */
async function validate(
  root: string,
  options: { spark?: boolean } = {},
): Promise<{ problems: Array<{ code: string; file?: string; message: string }>; warnings: string[] }> {
  const io = createRecordingIo();
  const warnings = () => io.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  try {
    await validateProject({ root, ...options }, io);
    return { problems: [], warnings: warnings() };
  } catch (error) {
    if (!(error instanceof SdlfError)) throw error;
    const problems = (error as SdlfError & { problems?: Array<{ code: string; file?: string; message: string }> }).problems;
    if (!problems) throw error;
    return { problems, warnings: warnings() };
  }
}

describe('validateProject › transform.sql on Spark SQL', () => {
  it('accepts the legislators demo over its sample data, with no note', async () => {
    // Given the demo dataset with its sample data and SQL
    const root = await createLegislatorsProject({ sql: LEGISLATORS_SQL });
    // When it is validated from the project's folder, as `sdlf validate` is run
    const before = readdirSync(root).sort();
    const cwd = process.cwd();
    process.chdir(root);
    let result: Awaited<ReturnType<typeof validate>>;
    try {
      result = await validate(root);
    } finally {
      process.chdir(cwd);
    }
    // Then nothing is reported, and Spark left nothing in the project (no spark-warehouse/, no metastore_db/)
    expect(result).toEqual({ problems: [], warnings: [] });
    expect(readdirSync(root).sort()).toEqual(before);
    expect(existsSync(join(root, 'spark-warehouse'))).toBe(false);
  }, 120_000);

  it("rejects, with file:line and Spark's reason, what DuckDB accepts but Spark does not; DuckDB still rejects its own", async () => {
    // Given statements that DuckDB parses but Spark 3.5 rejects (a :: cast, a column the staged persons lack), one
    // that Spark runs but DuckDB cannot parse, and one that reads a table the sample does not have
    const sql = [
      'CREATE TABLE persons AS SELECT id, name FROM persons;',
      'CREATE TABLE cast_ids AS SELECT id::INTEGER AS id FROM persons;',
      'CREATE TABLE typo AS SELECT nmae FROM persons;',
      'CREATE TABLE exploded AS SELECT id FROM persons LATERAL VIEW explode(array(1)) t AS l;',
      'CREATE TABLE later AS SELECT * FROM regions_2026;',
      'CREATE TABLE fine AS SELECT p.id FROM persons p JOIN memberships m ON m.person_id = p.id;',
    ].join('\n\n');
    const root = await createLegislatorsProject({ sql });
    // When it is validated
    const { problems, warnings } = await validate(root);
    // Then Spark's two rejections name their line and Spark's reason; DuckDB's names its own line, once
    expect(problems.map((p) => [p.code, p.file])).toEqual([
      ['INVALID_TRANSFORM_SQL', `${SQL_FILE}:7`],
      ['INVALID_TRANSFORM_SQL_SPARK', `${SQL_FILE}:3`],
      ['INVALID_TRANSFORM_SQL_SPARK', `${SQL_FILE}:5`],
    ]);
    expect(problems[1]?.message).toMatch(
      /^Spark SQL 3\.5\.4 rejects the query of cast_ids over the sample data of demoteam\/legislators: \[PARSE_SYNTAX_ERROR\] Syntax error at or near ':'/,
    );
    expect(problems[2]?.message).toMatch(/rejects the query of typo .*\[UNRESOLVED_COLUMN\.WITH_SUGGESTION\].*`nmae`/);
    expect(problems[2]?.message).not.toContain('\n');
    // And the statement reading a table the sample lacks is only parsed, with a note, as the Glue job skips it
    expect(warnings).toEqual([
      expect.stringMatching(
        /^transforms\/heavy\/legislators_heavy\/transform\.sql:9: later reads regions_2026, which neither the sample data of demoteam\/legislators nor an earlier statement defines/,
      ),
    ]);
  }, 120_000);

  it('parses the queries with Spark when the dataset has no sample data', async () => {
    // Given a dataset without sample data and a query only DuckDB parses
    const root = await createLegislatorsProject({
      sample: false,
      sql: 'CREATE TABLE t AS SELECT * EXCLUDE (id) FROM persons;\n',
    });
    // When it is validated, then Spark's parser rejects it (columns and tables are not known, so not checked)
    const { problems } = await validate(root);
    expect(problems).toEqual([
      expect.objectContaining({
        code: 'INVALID_TRANSFORM_SQL_SPARK',
        file: `${SQL_FILE}:1`,
        message: expect.stringMatching(/^Spark SQL 3\.5\.4 rejects the query of t: \[PARSE_SYNTAX_ERROR\]/),
      }),
    ]);
  }, 120_000);

  it('checks with DuckDB only under --no-spark (spark: false), so no Spark session starts', async () => {
    // Given a query DuckDB parses and Spark's parser rejects, and one that DuckDB rejects
    const root = await createLegislatorsProject({
      sample: false,
      sql: 'CREATE TABLE t AS SELECT * EXCLUDE (id) FROM persons;\n\nCREATE TABLE u AS SELEC 1;\n',
    });
    // When it is validated without Spark, then only DuckDB's rejection is reported
    const { problems } = await validate(root, { spark: false });
    expect(problems.map((p) => [p.code, p.file])).toEqual([['INVALID_TRANSFORM_SQL', `${SQL_FILE}:3`]]);
  }, 60_000);

  it('notes in one line, and reports nothing, when PySpark is not installed', async () => {
    // Given a python that cannot import pyspark, and a query Spark would reject
    const root = await createLegislatorsProject({ sql: 'CREATE TABLE t AS SELECT id::INTEGER AS id FROM persons;\n' });
    const bin = join(root, 'no-pyspark');
    writeFileSync(bin, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const previous = process.env.SDLF_PYTHON;
    process.env.SDLF_PYTHON = bin;
    try {
      // When it is validated, then it is valid, with one note naming the install command
      const { problems, warnings } = await validate(root);
      expect(problems).toEqual([]);
      expect(warnings).toEqual([
        `transform.sql not checked with Spark SQL: it needs PySpark, which "${bin}" cannot import. Install Glue 5.0's Spark: "${bin} -m pip install pyspark==3.5.4" (in a virtual environment if you use one), or set SDLF_PYTHON to a python that has PySpark.`,
      ]);
    } finally {
      if (previous === undefined) delete process.env.SDLF_PYTHON;
      else process.env.SDLF_PYTHON = previous;
      rmSync(bin, { force: true });
    }
  });
});
