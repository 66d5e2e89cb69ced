import type {
  DuckDBArrayType,
  DuckDBDecimalType,
  DuckDBListType,
  DuckDBMapType,
  DuckDBStructType,
  DuckDBType,
} from '@duckdb/node-api';

// Type ids of @duckdb/node-api's DuckDBTypeId, named here so that this module loads without DuckDB.
const T = {
  BOOLEAN: 1,
  TINYINT: 2,
  SMALLINT: 3,
  INTEGER: 4,
  BIGINT: 5,
  UTINYINT: 6,
  USMALLINT: 7,
  UINTEGER: 8,
  UBIGINT: 9,
  FLOAT: 10,
  DOUBLE: 11,
  TIMESTAMP: 12,
  DATE: 13,
  HUGEINT: 16,
  VARCHAR: 17,
  BLOB: 18,
  DECIMAL: 19,
  TIMESTAMP_S: 20,
  TIMESTAMP_MS: 21,
  TIMESTAMP_NS: 22,
  LIST: 24,
  STRUCT: 25,
  MAP: 26,
  UUID: 27,
  TIMESTAMP_TZ: 31,
  UHUGEINT: 32,
  ARRAY: 33,
  SQLNULL: 36,
} as const;

/**
 * The DuckDB type under which a staged JSON column is read so that it has the type Spark's JSON reader infers
 * for it (Glue reads staged files with `spark.read.json`): object fields in name order (Spark sorts them), and
 * what Spark reads as a string stays a string — values of mixed types (DuckDB's `JSON`), all-null values, and
 * UUID-looking text. Numbers, booleans, arrays and objects keep their JSON types.
 */
export function sparkJsonReadType(type: DuckDBType): string {
  switch (type.typeId as number) {
    case T.STRUCT: {
      const struct = type as DuckDBStructType;
      const fields = struct.entryNames
        .map((name, index) => ({ name, type: struct.entryTypes[index] as DuckDBType }))
        .sort((a, b) => compareNames(a.name, b.name));
      return `STRUCT(${fields.map((f) => `${quoteIdent(f.name)} ${sparkJsonReadType(f.type)}`).join(', ')})`;
    }
    case T.LIST:
      return `${sparkJsonReadType((type as DuckDBListType).valueType)}[]`;
    case T.SQLNULL:
    case T.UUID:
      return 'VARCHAR';
    case T.VARCHAR:
      return 'VARCHAR';
    default:
      return type.alias === 'JSON' ? 'VARCHAR' : type.toString();
  }
}

/** Spark orders the fields of an inferred JSON schema by name (a plain string comparison). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The Glue catalog type (Spark's `simpleString`) of a column DuckDB writes to Parquet, as the Glue job registers
 * it: `bigint`, `double`, `decimal(p,s)`, `string`, `timestamp`, `array<…>`, `struct<name:type,…>`, `map<k,v>`.
 * Integers stay integers (a DuckDB HUGEINT, the type of SUM over integers, is written as BIGINT, as Spark's
 * `sum` is), decimals keep precision and scale, timestamps of every unit are `timestamp` (microseconds in
 * Parquet, as Spark writes them).
 */
export function catalogType(type: DuckDBType): string {
  switch (type.typeId as number) {
    case T.BOOLEAN:
      return 'boolean';
    case T.TINYINT:
      return 'tinyint';
    case T.SMALLINT:
    case T.UTINYINT:
      return 'smallint';
    case T.INTEGER:
    case T.USMALLINT:
      return 'int';
    case T.BIGINT:
    case T.UINTEGER:
    case T.HUGEINT:
      return 'bigint';
    case T.UBIGINT:
    case T.UHUGEINT:
      return 'decimal(38,0)';
    case T.FLOAT:
      return 'float';
    case T.DOUBLE:
      return 'double';
    case T.DECIMAL:
      return `decimal(${(type as DuckDBDecimalType).width},${(type as DuckDBDecimalType).scale})`;
    case T.DATE:
      return 'date';
    case T.TIMESTAMP:
    case T.TIMESTAMP_S:
    case T.TIMESTAMP_MS:
    case T.TIMESTAMP_NS:
    case T.TIMESTAMP_TZ:
      return 'timestamp';
    case T.BLOB:
      return 'binary';
    case T.LIST:
    case T.ARRAY:
      return `array<${catalogType((type as DuckDBListType | DuckDBArrayType).valueType)}>`;
    case T.STRUCT: {
      const struct = type as DuckDBStructType;
      return `struct<${struct.entryNames.map((name, i) => `${name}:${catalogType(struct.entryTypes[i] as DuckDBType)}`).join(',')}>`;
    }
    case T.MAP: {
      const map = type as DuckDBMapType;
      return `map<${catalogType(map.keyType)},${catalogType(map.valueType)}>`;
    }
    default:
      return 'string';
  }
}

/**
 * How a column is written to Parquet so that it has the type Spark gives it: HUGEINT (DuckDB's SUM of integers)
 * and unsigned integers become BIGINT (or a decimal when they do not fit), and a timestamp of any unit becomes a
 * microsecond timestamp adjusted to UTC, as Spark's `timestamp` (an instant; Glue's session time zone is UTC) —
 * the naive value read as UTC whatever the machine's time zone. Returns the SQL expression for `column`, or
 * `undefined` to keep the column as it is. Nested types are left alone.
 */
export function parquetCast(type: DuckDBType, column: string): string | undefined {
  switch (type.typeId as number) {
    case T.HUGEINT:
    case T.UINTEGER:
      return `CAST(${column} AS BIGINT)`;
    case T.UTINYINT:
      return `CAST(${column} AS SMALLINT)`;
    case T.USMALLINT:
      return `CAST(${column} AS INTEGER)`;
    case T.UBIGINT:
    case T.UHUGEINT:
      return `CAST(${column} AS DECIMAL(38,0))`;
    case T.TIMESTAMP:
    case T.TIMESTAMP_S:
    case T.TIMESTAMP_MS:
    case T.TIMESTAMP_NS:
      // An explicit "+00" offset: a cast of a naive timestamp to TIMESTAMPTZ would read it in the local time zone.
      return `CAST(CAST(CAST(${column} AS TIMESTAMP) AS VARCHAR) || '+00' AS TIMESTAMPTZ)`;
    default:
      return undefined;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
