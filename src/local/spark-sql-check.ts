import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransformStatement } from '../runtime/core/sql.js';
import type { LightTransform } from '../runtime/transform/types.js';
import { lastErrorLine, sparkPython } from './spark-job.js';
import type { SqlSyntaxError } from './sql-syntax.js';

/** The Python that checks queries with Spark SQL; it ships beside the Glue runner, whose helpers it uses. */
export const SPARK_SQL_CHECK = fileURLToPath(new URL('../runtime/glue/check_sql.py', import.meta.url));

/** The statements of one transform.sql, checked against one set of input views. */
export interface SparkSqlJob {
  readonly id: string;
  /**
   * Input views: each table's JSON Lines files, read with the Glue runner's JSON inference. Without them, the
   * queries are only parsed.
   */
  readonly views?: Readonly<Record<string, readonly string[]>>;
  readonly statements: readonly TransformStatement[];
}

/** A statement whose query reads a table that neither the input views nor an earlier statement define. */
export interface UnresolvedStatement {
  readonly line: number;
  readonly name: string;
  /** The table it reads. */
  readonly relation: string;
}

/** What Spark said about one {@link SparkSqlJob}. */
export interface SparkSqlJobResult {
  readonly id: string;
  /** Statements Spark rejects; `reason` is the first line of Spark's message. */
  readonly errors: readonly SqlSyntaxError[];
  /** Statements only parsed, as they read a table the views lack (the Glue runner skips them in such a batch). */
  readonly unresolved: readonly UnresolvedStatement[];
}

/** The Spark check could not run (a crash of Spark or Python, not a verdict on the SQL). */
export class SparkSqlCheckError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SparkSqlCheckError';
  }
}

/** Options of {@link checkSqlWithSpark}. */
export interface CheckSqlWithSparkOptions {
  /** Scratch space: the request, the result, Spark's local dir. */
  readonly tmpDir: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Checks every job's queries with Spark SQL in one Python process and one local Spark session (`local[1]`, UI
 * off, one shuffle partition, UTC): analyzed and planned over the job's input views, or only parsed when it has
 * none (see `check_sql.py`). Throws a {@link SparkSqlCheckError} when the process fails.
 */
export async function checkSqlWithSpark(
  jobs: readonly SparkSqlJob[],
  options: CheckSqlWithSparkOptions,
): Promise<SparkSqlJobResult[]> {
  const env = options.env ?? process.env;
  await mkdir(options.tmpDir, { recursive: true });
  const request = join(options.tmpDir, 'spark-sql-check.json');
  const result = join(options.tmpDir, 'spark-sql-check.result.json');
  await writeFile(
    request,
    JSON.stringify({
      jobs: jobs.map((job) => ({
        id: job.id,
        views: job.views ?? null,
        statements: job.statements.map(({ name, select, line }) => ({ name, select, line })),
      })),
    }),
  );
  const submit = [
    '--master local[1]',
    '--conf spark.ui.enabled=false',
    '--conf spark.ui.showConsoleProgress=false',
    '--conf spark.sql.shuffle.partitions=1',
    '--conf spark.sql.session.timeZone=UTC',
    `--conf spark.local.dir=${join(options.tmpDir, 'spark')}`,
    `--conf spark.driver.extraJavaOptions=-Djava.io.tmpdir=${options.tmpDir}`,
    'pyspark-shell',
  ].join(' ');
  const child = spawn(sparkPython(env), ['-B', SPARK_SQL_CHECK, request, result], {
    env: { ...env, PYSPARK_SUBMIT_ARGS: submit, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-16 * 1024);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  if (code !== 0) throw new SparkSqlCheckError(lastErrorLine(tail) ?? `Python exited with code ${code}`);
  return (JSON.parse(await readFile(result, 'utf8')) as { jobs: SparkSqlJobResult[] }).jobs;
}

/** Options of {@link stageSample}. */
export interface StageSampleOptions {
  readonly team: string;
  readonly dataset: string;
  readonly env: string;
  /** Sample files and their raw keys (`{team}/{dataset}/{name}`). */
  readonly inputs: ReadonlyArray<{ readonly file: string; readonly key: string }>;
  readonly transform: LightTransform;
  /** Folder for the staged JSON Lines files. */
  readonly outDir: string;
}

/** What {@link stageSample} staged. */
export interface StagedSample {
  /** JSON Lines files per table, only tables with records. */
  readonly tables: Record<string, string[]>;
  /** Sample files the light transform failed on, with its reason. */
  readonly failed: ReadonlyArray<{ readonly file: string; readonly reason: string }>;
}

const TABLE_NAME = /^[a-z0-9_]+$/;

/**
 * Runs a dataset's light transform over its sample files as stage A does, and writes each table's records as
 * JSON Lines (what the stage bucket holds and the Glue runner reads). A file the transform fails on is listed,
 * not thrown.
 */
export async function stageSample(options: StageSampleOptions): Promise<StagedSample> {
  const tables: Record<string, string[]> = {};
  const failed: Array<{ file: string; reason: string }> = [];
  await mkdir(options.outDir, { recursive: true });
  let n = 0;
  for (const input of options.inputs) {
    const lines = new Map<string, string[]>();
    try {
      const size = (await stat(input.file)).size;
      const raw = { bucket: 'sample', key: input.key, size, body: () => createReadStream(input.file) };
      const context = { team: options.team, dataset: options.dataset, env: options.env, executionId: 'validate' };
      for await (const output of options.transform(raw, context)) {
        if (typeof output?.table !== 'string' || !TABLE_NAME.test(output.table)) {
          throw new Error(`it yielded the table name ${JSON.stringify(output?.table)}`);
        }
        if (typeof output.record !== 'object' || output.record === null || Array.isArray(output.record)) {
          throw new Error(`it yielded a record for "${output.table}" that is not an object`);
        }
        const table = lines.get(output.table) ?? [];
        table.push(JSON.stringify(output.record));
        lines.set(output.table, table);
      }
    } catch (error) {
      failed.push({ file: input.file, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const [table, records] of lines) {
      const path = join(options.outDir, `${table}-${n++}.jsonl`);
      await writeFile(path, `${records.join('\n')}\n`);
      tables[table] = [...(tables[table] ?? []), path];
    }
  }
  return { tables, failed };
}
