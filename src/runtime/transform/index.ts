/**
 * `sdlf/transform`: what a light transform imports. Types of the contract, plus streaming readers for the raw
 * formats a data lake receives (JSON arrays, JSON Lines, CSV, gzip of any of them) and small record helpers.
 *
 * This module runs in the stage A Lambda and in `sdlf run --local`: it must not import the AWS SDK. JSON is parsed by
 * `JSON.parse`, one record at a time (JSON Lines by line, JSON documents by a scan for where each record ends);
 * the CSV parser (papaparse) is imported when a CSV or TSV object is first read.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DelimitedError, readDelimitedText } from './delimited.js';
import { type JsonLayout, JsonRecordScanner, JsonScanError } from './json-scan.js';
import type { LightTransform, RawInput } from './types.js';

export type { LightTransform, OutputRecord, RawInput, TransformContext } from './types.js';

/** A record read from a raw object: one JSON object or one CSV row (column → string). */
export type RawRecord = Record<string, unknown>;

/** Formats {@link readRecords} understands. */
export type RecordFormat = 'json-array' | 'json-lines' | 'csv' | 'tsv';

/** Options of {@link readRecords}. */
export interface ReadRecordsOptions {
  /**
   * Format of the object. @default detected: `.jsonl`/`.ndjson` are JSON Lines, `.csv` CSV, `.tsv` TSV; `.json`
   * and anything else are sniffed from the first non-space byte (`[` a JSON array, `{` JSON Lines or a sequence
   * of JSON objects, anything else CSV).
   */
  readonly format?: RecordFormat;
  /** Field delimiter of CSV input. @default ',' (`'\t'` for TSV) */
  readonly delimiter?: string;
  /** Decompresses gzip input. @default true when the key ends with `.gz` or the object starts with the gzip magic bytes */
  readonly gzip?: boolean;
}

/** A raw object that cannot be read as records: names the object, and where in it reading stopped. */
export class RecordParseError extends Error {
  /** Machine-readable reason. */
  readonly code = 'INVALID_RECORDS';

  constructor(
    /** Key of the object that failed. */
    readonly key: string,
    /** What is wrong. */
    readonly reason: string,
    /** 1-based line of the problem, when known. */
    readonly line?: number,
    /** 1-based column of the problem, when known. */
    readonly column?: number,
  ) {
    const where = line === undefined ? '' : `:${line}${column === undefined ? '' : `:${column}`}`;
    super(`Cannot read records from ${key}${where}: ${reason}`);
    this.name = 'RecordParseError';
  }
}

/**
 * Declares a light transform. It returns the function unchanged and exists so that the transform file gets the
 * `LightTransform` types without spelling them.
 */
export function defineLightTransform(transform: LightTransform): LightTransform {
  return transform;
}

/**
 * Streams the records of a raw object, in order, without reading it whole into memory. An empty (or blank)
 * object yields no records, except a `.json` one, which is refused as not JSON, as is a `.json` object that does not
 * start with `[` or `{`. A syntax error, or a value that is not an object, throws a {@link RecordParseError}
 * naming the key and the line (and column, where the format gives one).
 */
export async function* readRecords(
  input: Pick<RawInput, 'key' | 'body'>,
  options: ReadRecordsOptions = {},
): AsyncGenerator<RawRecord> {
  const key = input.key;
  const peeked = await peek(input.body(), options.gzip ?? /\.gz$/i.test(key));
  const logicalKey = key.replace(/\.gz$/i, '');
  const json = options.format === undefined && /\.json$/i.test(logicalKey);
  if (!peeked) {
    // JSON Lines and CSV may hold no records; a .json object that holds nothing is not JSON.
    if (json)
      throw new RecordParseError(
        key,
        'the object is empty: a .json object holds a JSON array or JSON Lines of records. Upload it again with its records, or delete it.',
      );
    return;
  }
  if (json && peeked.first !== '[' && peeked.first !== '{')
    throw new RecordParseError(
      key,
      `a .json object must start with "[" (an array of records) or "{" (JSON Lines), not ${JSON.stringify(peeked.first)}: is it JSON? Upload it with the extension of its format (.csv, .tsv, .jsonl).`,
      1,
    );
  const format = options.format ?? detectFormat(logicalKey, peeked.first);
  switch (format) {
    case 'json-array':
      yield* readJsonArray(key, peeked.chunks);
      return;
    case 'json-lines':
      yield* readJsonLines(key, peeked.chunks);
      return;
    case 'csv':
    case 'tsv':
      yield* readDelimited(key, peeked.chunks, options.delimiter ?? (format === 'tsv' ? '\t' : ','));
      return;
  }
}

/** Picks the format from the extension, then from the first non-space character. */
function detectFormat(key: string, first: string): RecordFormat {
  const extension = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase();
  if (extension === 'jsonl' || extension === 'ndjson') return 'json-lines';
  if (extension === 'csv') return 'csv';
  if (extension === 'tsv') return 'tsv';
  if (first === '[') return 'json-array';
  if (first === '{') return 'json-lines';
  return 'csv';
}

interface Peeked {
  /** First non-space character. */
  readonly first: string;
  /** The whole object as text chunks (those already read, then the rest). */
  readonly chunks: AsyncIterable<string>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Reads until the first non-space character; returns undefined for an empty or blank object. */
async function peek(body: AsyncIterable<Uint8Array>, gzipHint: boolean): Promise<Peeked | undefined> {
  const bytes = body[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let firstChunk = await bytes.next();
  while (!firstChunk.done && firstChunk.value.length === 0) firstChunk = await bytes.next();
  if (firstChunk.done) return undefined;
  head.push(firstChunk.value);
  const gzip = gzipHint || (firstChunk.value[0] === GZIP_MAGIC[0] && firstChunk.value[1] === GZIP_MAGIC[1]);
  const raw: AsyncIterable<Uint8Array> = (async function* () {
    yield* head;
    for (let next = await bytes.next(); !next.done; next = await bytes.next()) yield next.value;
  })();
  const text = decode(gzip ? Readable.from(raw).pipe(createGunzip()) : raw)[Symbol.asyncIterator]();
  const seen: string[] = [];
  for (let next = await text.next(); !next.done; next = await text.next()) {
    const chunk = seen.length === 0 ? next.value.replace(/^\uFEFF/, '') : next.value;
    seen.push(chunk);
    const match = /\S/.exec(chunk);
    if (match) {
      const chunks = (async function* () {
        yield* seen;
        for (let rest = await text.next(); !rest.done; rest = await text.next()) yield rest.value;
      })();
      return { first: match[0], chunks };
    }
  }
  return undefined;
}

async function* decode(source: AsyncIterable<Uint8Array | Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.length > 0) yield text;
  }
  const tail = decoder.decode();
  if (tail.length > 0) yield tail;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isRecord(value: unknown): value is RawRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON Lines, one value per line. When the first value spans several lines (a pretty-printed object, or
 * concatenated objects), falls back to a streaming JSON parser for the whole object.
 */
async function* readJsonLines(key: string, chunks: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  let buffer = '';
  let line = 0;
  let decided = false;
  const iterator = chunks[Symbol.asyncIterator]();
  const consumed: string[] = [];
  for (let next = await iterator.next(); ; next = await iterator.next()) {
    if (!next.done) {
      if (!decided) consumed.push(next.value);
      buffer += next.value;
    }
    let start = 0;
    let newline = buffer.indexOf('\n');
    while (newline >= 0 || (next.done && start < buffer.length)) {
      const end = newline >= 0 ? newline : buffer.length;
      const text = buffer.slice(start, end);
      start = end + 1;
      line++;
      if (text.trim().length > 0) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          if (!decided) {
            // The first value is not on one line: read the object as a sequence of JSON values instead.
            const rest = (async function* () {
              yield* consumed;
              for (let more = await iterator.next(); !more.done; more = await iterator.next()) yield more.value;
            })();
            yield* readJsonValues(key, rest);
            return;
          }
          throw new RecordParseError(key, jsonReason(error), line, jsonColumn(error));
        }
        decided = true;
        consumed.length = 0;
        if (!isRecord(value)) throw new RecordParseError(key, `expected a JSON object per line, found ${describe(value)}`, line);
        yield value;
      }
      newline = buffer.indexOf('\n', start);
    }
    buffer = start >= buffer.length ? '' : buffer.slice(start);
    if (next.done) return;
  }
}

function jsonReason(error: unknown): string {
  return (error as Error).message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
}

function jsonColumn(error: unknown): number | undefined {
  const position = / at position (\d+)/.exec((error as Error).message);
  return position ? Number(position[1]) + 1 : undefined;
}

function readJsonValues(key: string, chunks: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  return readJsonStream(key, chunks, 'values');
}

function readJsonArray(key: string, chunks: AsyncIterable<string>): AsyncGenerator<RawRecord> {
  return readJsonStream(key, chunks, 'array');
}

/** Streams the records of a JSON document: each record's text is found by a scan and parsed by `JSON.parse`. */
async function* readJsonStream(key: string, chunks: AsyncIterable<string>, layout: JsonLayout): AsyncGenerator<RawRecord> {
  const scanner = new JsonRecordScanner(layout);
  try {
    for await (const chunk of chunks) {
      // Records are objects: the scan refuses any other value where a record starts.
      yield* scanner.push(chunk) as RawRecord[];
    }
    scanner.end();
  } catch (error) {
    if (error instanceof JsonScanError) throw new RecordParseError(key, error.reason, error.line, error.column);
    throw error;
  }
}

async function* readDelimited(key: string, chunks: AsyncIterable<string>, delimiter: string): AsyncGenerator<RawRecord> {
  try {
    yield* readDelimitedText(chunks, delimiter);
  } catch (error) {
    if (error instanceof DelimitedError) throw new RecordParseError(key, error.reason, error.line);
    throw error;
  }
}

/**
 * Flattens nested objects into one level, joining keys with `separator`: `{a: {b: 1}}` → `{a_b: 1}`. Arrays and
 * `null` are kept as values; an empty nested object adds no key. Two paths that flatten to the same key
 * (`{a_b: 1, a: {b: 2}}`) throw an error naming both rather than lose one value. A record with no nested object
 * is returned as it is, not copied.
 * @param separator @default '_'
 */
export function flattenRecord(record: Readonly<Record<string, unknown>>, separator = '_'): Record<string, unknown> {
  if (isFlat(record)) return record as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  const visit = (value: Readonly<Record<string, unknown>>, prefix: string, path: string) => {
    for (const [key, child] of Object.entries(value)) {
      const flatKey = prefix ? `${prefix}${separator}${key}` : key;
      const childPath = path ? `${path}.${key}` : key;
      if (isRecord(child) && !(child instanceof Date)) {
        visit(child, flatKey, childPath);
        continue;
      }
      const previous = origin.get(flatKey);
      if (previous !== undefined) {
        throw new Error(`flattenRecord: "${previous}" and "${childPath}" both flatten to "${flatKey}"; use another separator.`);
      }
      origin.set(flatKey, childPath);
      out[flatKey] = child;
    }
  };
  visit(record, '', '');
  return out;
}

/**
 * Names the table of a raw object after its file name: `demoteam/legislators/persons.json` → `persons`. The name
 * is lowercased, loses its extension(s) (`.json`, `.csv.gz`) and has every character other than `[a-z0-9_]`
 * replaced by `_`. Throws when nothing is left (a key ending in `/`).
 */
export function tableNameOf(key: string): string {
  const file = key.split('/').at(-1) ?? '';
  const stem = file.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  const name = stem.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (name.length === 0) throw new Error(`tableNameOf: the key "${key}" has no file name to name a table after.`);
  return name;
}

/** Whether no value of the record is a nested object (arrays, `null` and dates are values). */
function isFlat(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false;
    const value = record[key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)) return false;
  }
  return true;
}
