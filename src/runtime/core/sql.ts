/**
 * The `transform.sql` convention, shared by the Glue runner (`main.py`, Spark SQL) and the local runner (DuckDB).
 * Both parse the file the same way; this is the TypeScript parser, `main.py` holds its Python twin.
 *
 * - Before the SQL runs, every input table of the batch is a view named after the table: the folder after
 *   `{team}/{dataset}/` in the stage bucket (`persons`, `memberships`, …), over exactly the batch's objects.
 * - The file is a list of statements separated by `;`. `--` line comments and `/* … *\/` block comments are
 *   ignored; a `;` inside quotes (`'…'`, `"…"`, `` `…` ``) does not separate.
 * - `CREATE TABLE <name> [PARTITIONED BY (<col>[, <col>…])] AS <select>` produces an output table: written as
 *   Parquet to `analytics/{team}/{dataset}/<name>/` (partitioned in Hive style `col=value/` when asked) and
 *   registered in the Glue catalog. The statement is also a view, so later statements may read it.
 * - `CREATE [TEMP|TEMPORARY] VIEW <name> AS <select>` defines an intermediate view that is not written.
 * - `<name>` is lowercase letters, digits and `_`, starting with a letter or `_`. A `<select>` must run
 *   unchanged on both Spark SQL and DuckDB (standard SQL: joins, `CAST`, `COALESCE`, window functions…).
 * - Anything else is an error naming the statement's line.
 *
 * A batch holds the files that arrived since the last one, so it may lack a table the SQL reads. A statement
 * whose query reads a table or view that does not exist in the run is skipped (and listed under `skipped` in the
 * job result); the others still run. Any other SQL error fails the run.
 *
 * Writes are append-only per run and idempotent: a run writes its Parquet files under the table's folder (and
 * its `col=value/` partition folders) with names starting with the run's execution id, `{executionId}-…parquet`.
 * Before writing, it deletes only the files of the same table whose names start with that execution id (a rerun
 * of the same batch). Files of other runs are never deleted or rewritten; there are no job bookmarks.
 */

/** One statement of a `transform.sql`. */
export type TransformStatement =
  | {
      readonly kind: 'table';
      readonly name: string;
      /** Partition columns, in order; empty when unpartitioned. */
      readonly partitionBy: readonly string[];
      /** The `SELECT …` (or `WITH … SELECT …`) text. */
      readonly select: string;
      /** 1-based line of the statement in the file. */
      readonly line: number;
    }
  | {
      readonly kind: 'view';
      readonly name: string;
      readonly select: string;
      readonly line: number;
    };

/** A `transform.sql` that does not follow the convention; names the file and line. */
export class TransformSqlError extends Error {
  /** Machine-readable reason. */
  readonly code = 'INVALID_TRANSFORM_SQL';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'TransformSqlError';
  }
}

const NAME = '([a-z_][a-z0-9_]*)';
const TABLE = new RegExp(`^create\\s+table\\s+${NAME}\\s*(?:partitioned\\s+by\\s*\\(([^)]*)\\)\\s*)?as\\s+([\\s\\S]+)$`, 'i');
const VIEW = new RegExp(`^create\\s+(?:(?:temp|temporary)\\s+)?view\\s+${NAME}\\s+as\\s+([\\s\\S]+)$`, 'i');
const SELECT = /^(?:(?:select|with)(?![a-z0-9_])|\()/i;

/**
 * Parses a `transform.sql` by the convention above. Throws a {@link TransformSqlError} for a statement that is
 * neither `CREATE TABLE … AS` nor `CREATE VIEW … AS`, for a bad name, a duplicate name, an unterminated quote or
 * comment, or a file with no `CREATE TABLE`.
 */
export function parseTransformSql(text: string, file = 'transform.sql'): TransformStatement[] {
  const statements: TransformStatement[] = [];
  const names = new Set<string>();
  for (const { sql, line } of splitStatements(text, file)) {
    const table = TABLE.exec(sql);
    const view = table ? undefined : VIEW.exec(sql);
    if (!table && !view) {
      throw new TransformSqlError(
        file,
        line,
        `expected "CREATE TABLE <name> [PARTITIONED BY (<col>)] AS SELECT ..." or "CREATE VIEW <name> AS SELECT ...", found "${sql.slice(0, 60)}". Names are lowercase letters, digits and _.`,
      );
    }
    const name = ((table ?? view)?.[1] ?? '').toLowerCase();
    const select = ((table ? table[3] : view?.[2]) ?? '').trim();
    if (!SELECT.test(select)) throw new TransformSqlError(file, line, `the body of "${name}" must be a SELECT or WITH query.`);
    if (names.has(name)) throw new TransformSqlError(file, line, `"${name}" is defined twice.`);
    names.add(name);
    if (table) {
      const columns = (table[2] ?? '')
        .split(',')
        .map((c) => c.trim().toLowerCase())
        .filter((c) => c.length > 0);
      if (table[2] !== undefined && columns.length === 0) {
        throw new TransformSqlError(file, line, `PARTITIONED BY of "${name}" names no column.`);
      }
      const bad = columns.find((c) => !/^[a-z_][a-z0-9_]*$/.test(c));
      if (bad) throw new TransformSqlError(file, line, `partition column "${bad}" of "${name}" is not a plain column name.`);
      statements.push({ kind: 'table', name, partitionBy: columns, select, line });
    } else {
      statements.push({ kind: 'view', name, select, line });
    }
  }
  if (!statements.some((s) => s.kind === 'table')) {
    throw new TransformSqlError(file, 1, 'no "CREATE TABLE <name> AS SELECT ..." statement: the transform would write nothing.');
  }
  return statements;
}

/** Splits SQL text on `;` outside quotes and comments; drops comments; returns each statement with its line. */
export function splitStatements(text: string, file = 'transform.sql'): Array<{ sql: string; line: number }> {
  const out: Array<{ sql: string; line: number }> = [];
  let current = '';
  let line = 1;
  let startLine: number | undefined;
  let i = 0;
  const push = () => {
    const sql = current.trim();
    if (sql.length > 0) out.push({ sql, line: startLine ?? line });
    current = '';
    startLine = undefined;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new TransformSqlError(file, line, 'a /* comment is never closed.');
      for (const c of text.slice(i, end + 2)) if (c === '\n') line++;
      current += ' ';
      i = end + 2;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const openLine = line;
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new TransformSqlError(file, openLine, `a ${ch} quote is never closed.`);
        if (text[j] === ch) {
          if (text[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        if (text[j] === '\\' && ch !== '`') j++;
        j++;
      }
      const quoted = text.slice(i, j + 1);
      for (const c of quoted) if (c === '\n') line++;
      if (startLine === undefined) startLine = openLine;
      current += quoted;
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      push();
      i++;
      continue;
    }
    if (ch === '\n') line++;
    else if (startLine === undefined && /\S/.test(ch)) startLine = line;
    current += ch;
    i++;
  }
  push();
  return out;
}
