import { describe, expect, it } from 'vitest';
import { parseTransformSql, splitStatements, TransformSqlError } from '../../../src/runtime/core/sql.js';

describe('parseTransformSql', () => {
  it('parses tables, partitions, views, comments and quoted semicolons', () => {
    // Given a transform.sql using every part of the convention
    const sql = [
      '-- people; with their party',
      "CREATE TEMP VIEW people AS SELECT id, name FROM persons WHERE name <> 'a;b';",
      '/* the output',
      '   table */',
      'create table person_party partitioned by (party, year) as',
      '  SELECT p.id, m.party, m.year FROM people p JOIN memberships m ON p.id = m.person_id;',
      'CREATE TABLE counts AS WITH c AS (SELECT 1 AS n) SELECT * FROM c',
    ].join('\n');
    // When it is parsed
    const statements = parseTransformSql(sql);
    // Then each statement has its kind, name, partitions, body and line
    expect(statements).toEqual([
      { kind: 'view', name: 'people', select: "SELECT id, name FROM persons WHERE name <> 'a;b'", line: 2 },
      {
        kind: 'table',
        name: 'person_party',
        partitionBy: ['party', 'year'],
        select: 'SELECT p.id, m.party, m.year FROM people p JOIN memberships m ON p.id = m.person_id',
        line: 5,
      },
      { kind: 'table', name: 'counts', partitionBy: [], select: 'WITH c AS (SELECT 1 AS n) SELECT * FROM c', line: 7 },
    ]);
  });

  it.each([
    ['DROP TABLE persons;', 1, /expected "CREATE TABLE/],
    ['CREATE TABLE Bad-Name AS SELECT 1', 1, /expected "CREATE TABLE/],
    ['\n\nCREATE TABLE t AS DELETE FROM x', 3, /must be a SELECT or WITH/],
    ['CREATE TABLE t AS SELECT 1; CREATE VIEW t AS SELECT 2', 1, /"t" is defined twice/],
    ['CREATE TABLE t PARTITIONED BY () AS SELECT 1', 1, /names no column/],
    ['CREATE TABLE t PARTITIONED BY (a + 1) AS SELECT 1', 1, /not a plain column name/],
    ['CREATE VIEW v AS SELECT 1', 1, /no "CREATE TABLE/],
    ["CREATE TABLE t AS SELECT 'x", 1, /' quote is never closed/],
    ['CREATE TABLE t AS SELECT 1 /* x', 1, /comment is never closed/],
    ['', 1, /no "CREATE TABLE/],
  ])('throws a TransformSqlError for %j', (sql, line, message) => {
    const error = (() => {
      try {
        parseTransformSql(sql, 'transforms/heavy/h/transform.sql');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TransformSqlError);
    expect((error as TransformSqlError).line).toBe(line);
    expect((error as TransformSqlError).message).toMatch(message);
    expect((error as TransformSqlError).message).toContain('transforms/heavy/h/transform.sql:');
  });
});

describe('splitStatements', () => {
  it.each([
    ['a; b;; c', ['a', 'b', 'c']],
    ['select \';\' ; select "x;"', ["select ';'", 'select "x;"']],
    ["select 'it''s;'", ["select 'it''s;'"]],
    ['select `a;b` -- c; d\n; e', ['select `a;b`', 'e']],
  ])('splits %j', (sql, expected) => {
    expect(splitStatements(sql).map((s) => s.sql)).toEqual(expected);
  });
});
