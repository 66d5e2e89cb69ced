import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TransformStatement } from '../runtime/core/sql.js';

/** Options of {@link runTransformSqlWithDuckDb}. */
export interface RunTransformSqlOptions {
  /** Parsed `transform.sql` (see `parseTransformSql`). */
  readonly statements: readonly TransformStatement[];
  /** Staged JSON Lines files of the batch, by input table (the view name). */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  /** Folder that holds one folder per output table (`analytics/{team}/{dataset}`). */
  readonly outputDir: string;
  /** Execution id of the stage B run: the Parquet files are named `{executionId}-{n}.parquet`. */
  readonly executionId: string;
  /** Folder DuckDB may spill to when a query does not fit in memory. */
  readonly spillDir: string;
  /** Most memory DuckDB may use before spilling. @default '512MB' */
  readonly memoryLimit?: string;
}

/** One table written by {@link runTransformSqlWithDuckDb}. */
export interface WrittenTable {
  readonly table: string;
  /** Folder of the table, absolute. */
  readonly dir: string;
  readonly rows: number;
  readonly partitionBy: readonly string[];
  /** Parquet files of the table, relative to its folder, with `/` separators (`org_name=House/{id}-0.parquet`). */
  readonly files: readonly string[];
}

/** A statement skipped because the batch lacks a table it reads. */
export interface SkippedStatement {
  readonly name: string;
  readonly reason: string;
}

/** What {@link runTransformSqlWithDuckDb} did. */
export interface TransformSqlRun {
  readonly tables: readonly WrittenTable[];
  readonly skipped: readonly SkippedStatement[];
}

/**
 * Runs a `transform.sql` with DuckDB the way the Glue runner does with Spark SQL: every input table becomes a
 * view over its staged files, each `CREATE VIEW` an intermediate view, each `CREATE TABLE … AS` a table written
 * as Parquet (Hive-style `col=value/` folders for `PARTITIONED BY`) and then readable by the statements after it.
 * A statement that reads a table or view this batch does not have is skipped and listed, as the Glue runner
 * does; any other SQL error fails the run.
 *
 * A local run holds the result of its last run: each output table is written to a temporary folder and swapped
 * into place only after every statement succeeded, so a failing SQL leaves the previous tables untouched and a
 * second run of the same inputs gives the same tables, never duplicated rows.
 */
export async function runTransformSqlWithDuckDb(options: RunTransformSqlOptions): Promise<TransformSqlRun> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  await mkdir(options.spillDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '512MB',
    temp_directory: options.spillDir,
    // Insertion order is what makes two runs byte-identical; DuckDB keeps it by default, say so explicitly.
    preserve_insertion_order: 'true',
  });
  const connection = await instance.connect();
  const staging = join(options.outputDir, `.sdlf-stage-b-${randomBytes(4).toString('hex')}`);
  try {
    for (const [table, files] of Object.entries(options.inputs)) {
      await connection.run(`CREATE VIEW ${ident(table)} AS ${await selectStaged(connection, files)}`);
    }
    const written: PendingTable[] = [];
    const skipped: SkippedStatement[] = [];
    for (const statement of options.statements) {
      const skip = await runStatement(connection, statement, staging, options.executionId, written);
      if (skip) skipped.push(skip);
    }
    const tables: WrittenTable[] = [];
    for (const { temp, ...table } of written) {
      const dir = join(options.outputDir, table.table);
      await swapInto(temp, dir);
      tables.push({ ...table, dir });
    }
    return { tables, skipped };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(staging, { recursive: true, force: true });
  }
}

type PendingTable = Omit<WrittenTable, 'dir'> & { temp: string };

/** A statement of `transform.sql` that DuckDB rejected; names the statement's line. */
export class TransformSqlRunError extends Error {
  /** Machine-readable reason. */
  readonly code = 'TRANSFORM_SQL_FAILED';

  constructor(
    readonly line: number,
    readonly statement: string,
    readonly reason: string,
  ) {
    super(`transform.sql line ${line} (${statement}): ${reason}`);
    this.name = 'TransformSqlRunError';
  }
}

async function runStatement(
  connection: DuckDBConnection,
  statement: TransformStatement,
  staging: string,
  executionId: string,
  written: PendingTable[],
): Promise<SkippedStatement | undefined> {
  const label = `${statement.kind === 'view' ? 'CREATE VIEW' : 'CREATE TABLE'} ${statement.name}`;
  try {
    if (statement.kind === 'view') {
      await connection.run(`CREATE OR REPLACE VIEW ${ident(statement.name)} AS ${statement.select}`);
      return undefined;
    }
    // Materialise under an internal name first: the select may read an input view of the same name.
    const internal = ident(`__sdlf_table_${statement.name}`);
    await connection.run(`CREATE TABLE ${internal} AS ${statement.select}`);
    await connection.run(`CREATE OR REPLACE VIEW ${ident(statement.name)} AS SELECT * FROM ${internal}`);
    const temp = join(staging, statement.name);
    await copyToParquet(connection, internal, statement.partitionBy, temp, executionId);
    written.push({
      table: statement.name,
      rows: await countRows(connection, internal),
      partitionBy: statement.partitionBy,
      files: await listFiles(temp),
      temp,
    });
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    const missing = MISSING_RELATION.exec(message)?.[1];
    if (missing) return { name: statement.name, reason: `reads ${missing.toLowerCase()}, which this batch does not have` };
    throw new TransformSqlRunError(statement.line, label, message);
  }
}

/** DuckDB's error for a table or view that does not exist. */
const MISSING_RELATION = /Catalog Error: Table with name "?([^\s"!]+)"? does not exist/i;

/**
 * Selects a batch's staged JSON Lines files, typed as Spark's JSON reader types them so that the same SQL behaves
 * the same in Glue: schemas of several files are united by column name, strings stay strings (no date,
 * timestamp or UUID detection), numbers, booleans, objects and arrays keep their JSON types.
 */
async function selectStaged(connection: DuckDBConnection, files: readonly string[]): Promise<string> {
  const list = `[${files.map((file) => literal(file)).join(', ')}]`;
  const detect = `read_json(${list}, format = 'newline_delimited', union_by_name = true, dateformat = 'disabled', timestampformat = 'disabled')`;
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${detect}`);
  // Fix the detected schema in the view, so that queries read the files without detecting it again.
  const columns = described
    .getRows()
    .map(([name, type]) => `${literal(String(name))}: ${literal(String(type).replaceAll(/\bUUID\b/g, 'VARCHAR'))}`)
    .join(', ');
  return `SELECT * FROM read_json(${list}, format = 'newline_delimited', columns = {${columns}})`;
}

async function copyToParquet(
  connection: DuckDBConnection,
  table: string,
  partitionBy: readonly string[],
  dir: string,
  executionId: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (partitionBy.length === 0) {
    await connection.run(`COPY ${table} TO ${literal(join(dir, `${executionId}-0.parquet`))} (FORMAT parquet)`);
    return;
  }
  const columns = partitionBy.map(ident).join(', ');
  await connection.run(
    `COPY ${table} TO ${literal(dir)} (FORMAT parquet, PARTITION_BY (${columns}), FILENAME_PATTERN ${literal(`${executionId}-{i}`)}, OVERWRITE_OR_IGNORE)`,
  );
}

async function countRows(connection: DuckDBConnection, table: string): Promise<number> {
  const reader = await connection.runAndReadAll(`SELECT count(*) FROM ${table}`);
  return Number(reader.getRows()[0]?.[0] ?? 0);
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  if (existsSync(dir)) await walk(dir);
  return out.sort();
}

/** Moves a freshly written table folder over the previous one, keeping the old one until the new one is in place. */
async function swapInto(temp: string, dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const old = `${dir}.sdlf-old-${randomBytes(4).toString('hex')}`;
  const hadOld = existsSync(dir);
  if (hadOld) await rename(dir, old);
  try {
    await rename(temp, dir);
  } catch (error) {
    if (hadOld) await rename(old, dir);
    throw error;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Quotes an identifier for DuckDB. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for DuckDB. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
