// The floor of `sdlf run --local`: DuckDB alone running the same transform.sql over the same raw files, in a
// fresh node process. Each raw file becomes a view (read_json_auto, named after the file as stage A names its
// table); each CREATE VIEW runs as written; each CREATE TABLE is materialised, replaces the view of its name, and
// is written as Parquet (Hive folders for PARTITIONED BY), as stage B does. Nothing else: no staging, no
// metadata, no catalog; only columns DuckDB would read as UUID are read as strings, as Spark reads them. Prints the rows of each table as JSON.
// Usage: node bench/floor/duckdb-alone.mjs <folder of raw .json files> <transform.sql> <output folder>
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from '../lib.mjs';

const [data, sqlFile, out] = process.argv.slice(2);
const { DuckDBInstance } = await import('@duckdb/node-api');
const { parseTransformSql } = await import(pathToFileURL(join(root, 'dist', 'runtime', 'core', 'sql.js')).href);
const quote = (name) => `"${name.replaceAll('"', '""')}"`;
const literal = (text) => `'${text.replaceAll("'", "''")}'`;

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
for (const file of readdirSync(data).filter((name) => name.endsWith('.json'))) {
  const table = file.slice(0, -'.json'.length);
  const source = `read_json_auto(${literal(join(data, file))})`;
  // DuckDB reads strings that look like UUIDs as UUID, which Spark (and stage B) keep as strings: a join of such a
  // column with a string column would fail, so they are strings here too.
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const uuids = described
    .getRows()
    .filter((row) => row[1] === 'UUID')
    .map((row) => quote(String(row[0])));
  const replace = uuids.length ? ` REPLACE (${uuids.map((c) => `${c}::VARCHAR AS ${c}`).join(', ')})` : '';
  await connection.run(`CREATE VIEW ${quote(table)} AS SELECT *${replace} FROM ${source}`);
}
const rows = {};
for (const statement of parseTransformSql(readFileSync(sqlFile, 'utf8'))) {
  if (statement.kind === 'view') {
    await connection.run(`CREATE OR REPLACE VIEW ${quote(statement.name)} AS ${statement.select}`);
    continue;
  }
  const internal = quote(`__table_${statement.name}`);
  await connection.run(`CREATE TABLE ${internal} AS ${statement.select}`);
  await connection.run(`CREATE OR REPLACE VIEW ${quote(statement.name)} AS SELECT * FROM ${internal}`);
  const partition = statement.partitionBy.length ? `, PARTITION_BY (${statement.partitionBy.map(quote).join(', ')})` : '';
  const dir = join(out, statement.name);
  mkdirSync(dir, { recursive: true });
  const target = partition ? dir : join(dir, '0.parquet');
  await connection.run(`COPY ${internal} TO ${literal(target)} (FORMAT parquet${partition})`);
  const count = await connection.runAndReadAll(`SELECT count(*) FROM ${internal}`);
  rows[statement.name] = Number(count.getRows()[0][0]);
}
connection.closeSync();
instance.closeSync();
process.stdout.write(JSON.stringify(rows));
