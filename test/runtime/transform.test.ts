import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  defineLightTransform,
  flattenRecord,
  type RawInput,
  type ReadRecordsOptions,
  RecordParseError,
  readRecords,
  tableNameOf,
} from '../../src/runtime/transform/index.js';

/** A raw input whose body arrives in chunks of `chunkSize` bytes, to exercise records split across chunks. */
function rawInput(key: string, content: string | Uint8Array, chunkSize = 7): RawInput {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return {
    bucket: 'raw',
    key,
    size: bytes.length,
    async *body() {
      for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
    },
  };
}

async function collect(input: RawInput, options?: ReadRecordsOptions): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const record of readRecords(input, options)) out.push(record);
  return out;
}

async function parseError(input: RawInput): Promise<RecordParseError> {
  const error = await collect(input).catch((e: unknown) => e);
  if (!(error instanceof RecordParseError)) throw new Error(`expected a RecordParseError, got ${String(error)}`);
  return error;
}

describe('readRecords', () => {
  it.each([
    ['a JSON array', 'd/t/persons.json', '[{"a":1},\n {"a":2}]'],
    ['a JSON array with a BOM and leading space', 'd/t/persons.json', '\uFEFF  \n [ {"a":1}, {"a":2} ]'],
    ['JSON Lines in a .json file (the seed regions.json)', 'd/t/regions.json', '{"a":1}\n\n{"a":2}\n'],
    ['JSON Lines with CRLF and no final newline', 'd/t/regions.jsonl', '{"a":1}\r\n{"a":2}'],
    ['pretty-printed concatenated objects', 'd/t/x.json', '{\n  "a": 1\n}\n{\n  "a": 2\n}\n'],
    ['NDJSON by extension', 'd/t/x.ndjson', '{"a":1}\n{"a":2}\n'],
    ['JSON Lines without extension, sniffed', 'd/t/x', '{"a":1}\n{"a":2}'],
    ['a JSON array without extension, sniffed', 'd/t/x.data', '[{"a":1},{"a":2}]'],
  ])('reads %s', async (_label, key, content) => {
    // Given an object in one of the JSON layouts
    // When its records are read in small chunks
    const records = await collect(rawInput(key, content));
    // Then both records come out in order
    expect(records).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it.each([
    [
      'CSV by extension',
      'd/t/x.csv',
      'a,b\n1,"x, y"\n2,z\n',
      [
        { a: '1', b: 'x, y' },
        { a: '2', b: 'z' },
      ],
    ],
    ['TSV by extension', 'd/t/x.tsv', 'a\tb\n1\tx\n', [{ a: '1', b: 'x' }]],
    ['CSV sniffed, with a BOM and blank lines', 'd/t/x.txt', '\uFEFFa,b\n\n1,2\n', [{ a: '1', b: '2' }]],
  ])('reads %s as strings per column', async (_label, key, content, expected) => {
    expect(await collect(rawInput(key, content))).toEqual(expected);
  });

  it.each([
    ['an empty JSON Lines file', 'd/t/x.jsonl', ''],
    ['a blank file', 'd/t/x.csv', ' \n\n  '],
    ['an empty array', 'd/t/x.json', '[]'],
    ['a header-only CSV', 'd/t/x.csv', 'a,b\n'],
  ])('yields no records for %s', async (_label, key, content) => {
    expect(await collect(rawInput(key, content))).toEqual([]);
  });

  it.each([
    ['a 0-byte .json', 'd/t/x.json', '', 'Cannot read records from d/t/x.json: the object is empty'],
    ['a blank .json.gz', 'd/t/x.json.gz', gzipSync(' \n'), 'Cannot read records from d/t/x.json.gz: the object is empty'],
    [
      'a binary .json',
      'd/t/x.json',
      new Uint8Array([0x00, 0x89, 0x50, 0x4e, 0x47]),
      'Cannot read records from d/t/x.json:1: a .json object must start with "[" (an array of records) or "{" (JSON Lines), not "\\u0000"',
    ],
  ])('refuses %s as not JSON, naming the key', async (_label, key, content, message) => {
    await expect(collect(rawInput(key, content))).rejects.toThrow(message);
  });

  it('reads gzip input by extension and by magic bytes', async () => {
    const zipped = gzipSync('{"a":1}\n{"a":2}\n');
    expect(await collect(rawInput('d/t/x.jsonl.gz', zipped, 5))).toEqual([{ a: 1 }, { a: 2 }]);
    expect(await collect(rawInput('d/t/x.jsonl', zipped, 5))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('honours an explicit format and delimiter', async () => {
    const records = await collect(rawInput('d/t/x.json', 'a;b\n1;2\n'), { format: 'csv', delimiter: ';' });
    expect(records).toEqual([{ a: '1', b: '2' }]);
  });

  it('streams: yields the first record before the rest of the body is read', async () => {
    // Given a body that never ends after its first line
    let reads = 0;
    const input: RawInput = {
      bucket: 'raw',
      key: 'd/t/x.jsonl',
      async *body() {
        reads++;
        yield new TextEncoder().encode('{"a":1}\n');
        await new Promise(() => undefined);
      },
    };
    // When the first record is taken
    const first = await readRecords(input)[Symbol.asyncIterator]().next();
    // Then it arrives without waiting for the end of the body
    expect(first.value).toEqual({ a: 1 });
    expect(reads).toBe(1);
  });

  it.each([
    ['a broken JSON Lines line', 'd/t/regions.json', '{"a":1}\n{"a":2}\n{"a":\n', 3],
    ['a JSON Lines value that is not an object', 'd/t/x.jsonl', '{"a":1}\n[1,2]\n', 2],
    ['a JSON array element that is not an object', 'd/t/x.json', '[{"a":1},\n2]', 2],
    ['a truncated JSON array', 'd/t/x.json', '[{"a":1},\n{"a":', 2],
    ['a CSV row with too many columns', 'd/t/x.csv', 'a,b\n1,2\n1,2,3\n', 3],
    ['a CSV row with an unclosed quote', 'd/t/x.csv', 'a,b\n1,"2\n', 2],
  ])('throws a RecordParseError naming the key and line for %s', async (_label, key, content, line) => {
    const error = await parseError(rawInput(key, content));
    expect(error.key).toBe(key);
    expect(error.message).toContain(key);
    expect(error.line).toBe(line);
  });

  it.each([
    ['a CSV row with too few columns after a quoted line break', 'd/t/x.csv', 'a,b\n1,"x\ny"\n3\n', 4, /too few fields/],
    ['a CSV row with too many columns after blank lines', 'd/t/x.csv', 'a,b\n1,2\n\n\n1,2,3\n', 5, /too many fields/],
    ['a CSV header that names a column twice', 'd/t/x.csv', 'id,id\n1,2\n', 1, /names the column "id" twice \(columns 1 and 2\)/],
    ['a header-only CSV that names a column twice', 'd/t/x.csv', 'id,name,id\n', 1, /columns 1 and 3/],
  ])('refuses %s with its line', async (_label, key, content, line, reason) => {
    const error = await parseError(rawInput(key, content));
    expect(error).toMatchObject({ key, line });
    expect(error.reason).toMatch(reason);
  });

  it('streams a large CSV in order, in pieces that split rows and quoted fields', async () => {
    // Given 10,000 rows, some with quoted commas, quotes and line breaks, arriving 13 bytes at a time
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: String(i), note: i % 7 === 0 ? `a, "b"\nc ${i}` : `n${i}` }));
    const quote = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
    const text = `id,note\n${rows.map((row) => `${row.id},${quote(row.note)}`).join('\n')}\n`;
    // When it is read
    // Then every row comes out as it was written, in order
    expect(await collect(rawInput('d/t/x.csv', text, 13))).toEqual(rows);
  });

  it('throws a RecordParseError with the column of a JSON Lines syntax error', async () => {
    const error = await parseError(rawInput('d/t/x.jsonl', '{"a":1}\n{"a" 2}\n'));
    expect(error).toMatchObject({ line: 2, column: 6 });
    expect(error.message).toMatch(/^Cannot read records from d\/t\/x\.jsonl:2:6: /);
  });
});

describe('flattenRecord', () => {
  it.each([
    [{ a: 1 }, '_', { a: 1 }],
    [{ a: { b: 1, c: { d: 'x' } } }, '_', { a_b: 1, a_c_d: 'x' }],
    [{ a: { b: 1 } }, '.', { 'a.b': 1 }],
    [{ ids: [{ x: 1 }, 2], n: null }, '_', { ids: [{ x: 1 }, 2], n: null }],
    [{ a: {}, b: 2 }, '_', { b: 2 }],
  ])('flattens %j with separator %j', (record, separator, expected) => {
    expect(flattenRecord(record, separator)).toEqual(expected);
  });

  it('uses "_" by default', () => {
    expect(flattenRecord({ name: { given: 'Ada' } })).toEqual({ name_given: 'Ada' });
  });

  it('throws when two paths flatten to one key', () => {
    expect(() => flattenRecord({ a_b: 1, a: { b: 2 } })).toThrow(/"a_b" and "a.b" both flatten to "a_b"/);
  });
});

describe('tableNameOf', () => {
  it.each([
    ['demoteam/legislators/persons.json', 'persons'],
    ['demoteam/legislators/2024/Memberships-Daily.csv.gz', 'memberships_daily'],
    ['t/d/regions.v2.jsonl', 'regions_v2'],
    ['t/d/README', 'readme'],
  ])('names the table of %s %s', (key, table) => {
    expect(tableNameOf(key)).toBe(table);
  });

  it('throws for a key without a file name', () => {
    expect(() => tableNameOf('t/d/')).toThrow(/"t\/d\/" has no file name/);
  });
});

describe('defineLightTransform', () => {
  it('returns the transform unchanged', () => {
    const transform = defineLightTransform(async function* () {});
    expect(defineLightTransform(transform)).toBe(transform);
  });
});
