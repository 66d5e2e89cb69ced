import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { listTree } from '../core/atomic.js';
import type { TransformStatement } from '../runtime/core/sql.js';
import { loadDuckDb } from './duckdb.js';
import { catalogType, compareNames, parquetCast, sparkJsonReadType } from './spark-types.js';

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
  /** Parquet files this run wrote, relative to the table's folder, with `/` separators (`org_name=House/{id}-0.parquet`). */
  readonly files: readonly string[];
  /** Columns as the Glue job registers them in the catalog (Spark's type names), partition columns included. */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>;
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
 * does; any other SQL error fails the run. The SQL reaches no file or URL but the batch's staged files and the
 * dataset's own tables (see {@link confineFileAccess}).
 *
 * Tables grow by batch, as the Glue job's do: each run adds its own files (`{executionId}-{n}.parquet`) beside
 * those of earlier runs, and a rerun of the same execution replaces only its own files. Every table of the run is
 * written to a temporary folder first and its files moved into place only after every statement succeeded, so a
 * failing SQL leaves the tables as they were.
 */
/** Name prefix of the folder a stage B run writes its tables to before moving them into place. */
export const STAGE_B_STAGING_PREFIX = '.sdlf-stage-b-';

export async function runTransformSqlWithDuckDb(options: RunTransformSqlOptions): Promise<TransformSqlRun> {
  const { DuckDBInstance } = await loadDuckDb('The DuckDB engine of run --local');
  await mkdir(options.spillDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '512MB',
    temp_directory: options.spillDir,
    // Insertion order is what makes two runs byte-identical; DuckDB keeps it by default, say so explicitly.
    preserve_insertion_order: 'true',
  });
  const connection = await instance.connect();
  const staging = join(options.outputDir, `${STAGE_B_STAGING_PREFIX}${randomBytes(4).toString('hex')}`);
  try {
    await confineFileAccess(connection, [
      ...Object.values(options.inputs).flat().map(dirname),
      options.outputDir,
      options.spillDir,
    ]);
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
      await appendInto(temp, dir, options.executionId);
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
    const { columnNames, columnTypes } = await describe(connection, `SELECT * FROM ${internal}`);
    const select = columnNames.map((name, i) => {
      const cast = parquetCast(columnTypes[i] as DuckDBType, ident(name));
      return cast ? `${cast} AS ${ident(name)}` : ident(name);
    });
    await copyToParquet(connection, `(SELECT ${select.join(', ')} FROM ${internal})`, statement.partitionBy, temp, executionId);
    written.push({
      table: statement.name,
      rows: await countRows(connection, internal),
      partitionBy: statement.partitionBy,
      files: await listFiles(temp),
      columns: columnNames.map((name, i) => ({ name, type: catalogType(columnTypes[i] as DuckDBType) })),
      temp,
    });
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    const missing = MISSING_RELATION.exec(message)?.[1];
    if (missing) return { name: statement.name, reason: `reads ${missing.toLowerCase()}, which this batch does not have` };
    const outside = OUTSIDE_FILE.exec(message)?.[1];
    if (outside) {
      throw new TransformSqlRunError(
        statement.line,
        label,
        `reads "${outside}", a file outside the batch: transform.sql reads only the batch's input tables and the tables and views it creates, as the Glue job reads the dataset's staged objects only; add the file to the dataset's uploads instead (sdlf upload / sdlf run --local <file>)`,
      );
    }
    throw new TransformSqlRunError(statement.line, label, message);
  }
}

/**
 * Stops DuckDB from reading or writing any file or URL outside `dirs` (and from installing or loading
 * extensions), for good: DuckDB refuses to turn external access back on while the database is open. The Glue job
 * reads the batch's objects through its role; locally, this keeps a `read_csv('/etc/passwd')` or an `https://`
 * read from working here and failing there.
 */
async function confineFileAccess(connection: DuckDBConnection, dirs: readonly string[]): Promise<void> {
  const allowed = [...new Set(dirs.map((dir) => (dir.endsWith(sep) ? dir : `${dir}${sep}`)))];
  await connection.run(`SET allowed_directories = [${allowed.map(literal).join(', ')}]`);
  await connection.run('SET enable_external_access = false');
}

/** DuckDB's error for a file or URL outside the allowed directories. */
const OUTSIDE_FILE = /Permission Error: Cannot access (?:file|directory) "([^"]+)"/;

/** DuckDB's error for a table or view that does not exist. */
const MISSING_RELATION = /Catalog Error: Table with name "?([^\s"!]+)"? does not exist/i;

/**
 * Selects a batch's staged JSON Lines files, typed and ordered as Spark's JSON reader (what the Glue job reads
 * them with) infers them, so that the same SQL gives the same columns on both engines: schemas of several files
 * are united by column name; columns and object fields are in name order; strings stay strings (no date,
 * timestamp or UUID detection), and so do values of mixed types; numbers, booleans, objects and arrays keep their
 * JSON types (see `sparkJsonReadType`).
 */
async function selectStaged(connection: DuckDBConnection, files: readonly string[]): Promise<string> {
  const list = `[${files.map((file) => literal(file)).join(', ')}]`;
  const detect = `read_json(${list}, format = 'newline_delimited', union_by_name = true, dateformat = 'disabled', timestampformat = 'disabled')`;
  const { columnNames, columnTypes } = await describe(connection, `SELECT * FROM ${detect}`);
  // Fix the detected schema in the view, so that queries read the files without detecting it again.
  const columns = columnNames
    .map((name, i) => ({ name, type: sparkJsonReadType(columnTypes[i] as DuckDBType) }))
    .sort((a, b) => compareNames(a.name, b.name))
    .map(({ name, type }) => `${literal(name)}: ${literal(type)}`)
    .join(', ');
  return `SELECT * FROM read_json(${list}, format = 'newline_delimited', columns = {${columns}})`;
}

/** The column names and types of a query, without running it. */
async function describe(connection: DuckDBConnection, query: string) {
  const reader = await connection.runAndReadAll(`SELECT * FROM (${query}) LIMIT 0`);
  return { columnNames: reader.columnNames(), columnTypes: reader.columnTypes() };
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

/** Paths relative to `dir` (with `/`) of everything but folders under it, sorted; none when it does not exist. */
async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await listTree(dir)).map((entry) => entry.relativePath).sort();
}

/**
 * Adds a run's freshly written files to a table's folder, as the Glue job does: files an earlier run of the same
 * execution wrote are removed first (a rerun replaces its own files); files of other runs stay.
 */
async function appendInto(temp: string, dir: string, executionId: string): Promise<void> {
  for (const file of await listFiles(dir)) {
    if (basename(file).startsWith(`${executionId}-`)) await rm(join(dir, ...file.split('/')));
  }
  for (const file of await listFiles(temp)) {
    const target = join(dir, ...file.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await rename(join(temp, ...file.split('/')), target);
  }
}

/** Quotes an identifier for DuckDB. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal for DuckDB. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
