import type { TransformStatement } from '../runtime/core/sql.js';
import { tryLoadDuckDb } from './duckdb.js';

/** A statement of a `transform.sql` whose query DuckDB cannot parse. */
export interface SqlSyntaxError {
  /** Line of the statement in its file. */
  readonly line: number;
  /** The statement's name (`CREATE TABLE <name>`). */
  readonly name: string;
  /** DuckDB's reason. */
  readonly reason: string;
}

/**
 * Parses the query of every statement with DuckDB's parser, without running it or needing its tables
 * (`json_serialize_sql`), and returns the statements it rejects. Returns `undefined` when DuckDB is not installed
 * (it is an optional dependency of sdlf).
 */
export async function checkSqlSyntax(statements: readonly TransformStatement[]): Promise<SqlSyntaxError[] | undefined> {
  const duckdb = await tryLoadDuckDb();
  if (duckdb === undefined) return undefined;
  const instance = await duckdb.DuckDBInstance.create(':memory:', { enable_external_access: 'false' });
  const connection = await instance.connect();
  try {
    const errors: SqlSyntaxError[] = [];
    for (const statement of statements) {
      const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [statement.select]);
      const parsed = JSON.parse(String(reader.getRows()[0]?.[0])) as { error: boolean; error_message?: string };
      if (parsed.error)
        errors.push({ line: statement.line, name: statement.name, reason: parsed.error_message ?? 'syntax error' });
    }
    return errors;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
