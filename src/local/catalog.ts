import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../core/atomic.js';

/** A column of a catalog table: Spark's type name, as Glue stores it. */
export interface CatalogColumn {
  readonly Name: string;
  readonly Type: string;
}

/** A table of the local catalog: the Glue `TableInput` the job registers, plus its partitions. */
export interface LocalCatalogTable {
  readonly Name: string;
  readonly TableType: 'EXTERNAL_TABLE';
  readonly Parameters: Readonly<Record<string, string>>;
  readonly PartitionKeys: readonly CatalogColumn[];
  readonly StorageDescriptor: { readonly Columns: readonly CatalogColumn[]; readonly Location: string } & Readonly<
    Record<string, unknown>
  >;
  readonly Partitions: ReadonlyArray<{ readonly Values: readonly string[] } & Readonly<Record<string, unknown>>>;
}

/** Options of {@link registerLocalTable}. */
export interface RegisterLocalTableOptions {
  /** `.sdlf/local/<env>/catalog`. */
  readonly catalogDir: string;
  readonly database: string;
  readonly table: string;
  /** `s3://<analytics>/<team>/<dataset>/<table>/`. */
  readonly location: string;
  /** Every column of the table, partition columns included, in order. */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly partitionBy: readonly string[];
  /** Partition folders this run wrote (`org_name=House`). */
  readonly partitions: readonly string[];
  readonly executionId: string;
}

/** The file of a table in the local catalog: `<catalog>/<database>/<table>.json`, as the Glue job writes it locally. */
export function localCatalogFile(catalogDir: string, database: string, table: string): string {
  return join(catalogDir, database, `${table}.json`);
}

/**
 * Registers a table the DuckDB engine wrote in the local catalog exactly as the Glue job (`main.py`) registers a
 * table in Glue and, locally, in the same files: the columns with Spark's type names (new types win, columns only
 * the old schema had are kept), the partition keys, and each partition folder once.
 */
export async function registerLocalTable(options: RegisterLocalTableOptions): Promise<void> {
  const file = localCatalogFile(options.catalogDir, options.database, options.table);
  const previous = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as LocalCatalogTable) : undefined;
  const types = new Map(options.columns.map((c) => [c.name, c.type]));
  const columns = options.columns
    .filter((c) => !options.partitionBy.includes(c.name))
    .map((c) => ({ Name: c.name, Type: c.type }));
  const partitionKeys = options.partitionBy.map((name) => ({ Name: name, Type: types.get(name) ?? 'string' }));
  const merged = previous ? mergeColumns(previous.StorageDescriptor.Columns, columns) : columns;
  const descriptor = (location: string, cols: readonly CatalogColumn[]) => ({
    Columns: cols,
    Location: location,
    InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    SerdeInfo: {
      SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      Parameters: { 'serialization.format': '1' },
    },
  });
  const known = new Set((previous?.Partitions ?? []).map((p) => JSON.stringify(p.Values)));
  const added = options.partitions
    .map((folder) => ({
      Values: partitionValues(folder),
      StorageDescriptor: descriptor(`${options.location}${folder}/`, columns),
    }))
    .filter((p) => !known.has(JSON.stringify(p.Values)));
  const table: LocalCatalogTable = {
    Name: options.table,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'sdlf:lastExecution': options.executionId },
    PartitionKeys: partitionKeys,
    StorageDescriptor: descriptor(options.location, merged),
    Partitions: [...(previous?.Partitions ?? []), ...added],
  };
  await replaceFile(file, `${JSON.stringify(table, null, 1)}\n`);
}

/** A table of the local catalog with the stage B execution that last wrote it (`sdlf:lastExecution`). */
export interface LocalCatalogEntry {
  readonly table: string;
  readonly lastExecution: string;
}

/** The tables of one database of the local catalog, by name; none when the database has no folder yet. */
export async function listLocalCatalogTables(catalogDir: string, database: string): Promise<LocalCatalogEntry[]> {
  const dir = join(catalogDir, database);
  if (!existsSync(dir)) return [];
  const entries: LocalCatalogEntry[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    const table = JSON.parse(await readFile(join(dir, name), 'utf8')) as LocalCatalogTable;
    entries.push({ table: table.Name, lastExecution: table.Parameters['sdlf:lastExecution'] ?? '' });
  }
  return entries;
}

function mergeColumns(existing: readonly CatalogColumn[], next: readonly CatalogColumn[]): CatalogColumn[] {
  const byName = new Map(next.map((c) => [c.Name, c]));
  const names = new Set(existing.map((c) => c.Name));
  return [...existing.map((c) => byName.get(c.Name) ?? c), ...next.filter((c) => !names.has(c.Name))];
}

/** `a=1/b=x%2Fy` → `['1', 'x/y']` (Hive escaping undone). */
function partitionValues(folder: string): string[] {
  return folder
    .split('/')
    .filter((part) => part.length > 0)
    .map((part) => decodeURIComponent(part.slice(part.indexOf('=') + 1)));
}
