import { describe, expect, it } from 'vitest';
import { type JsonLayout, JsonRecordScanner, JsonScanError } from '../../src/runtime/transform/json-scan.js';

/** Scans `text` pushed in pieces of `size` characters; returns the records, or the error the scan threw. */
function scan(text: string, layout: JsonLayout, size: number): unknown[] | JsonScanError {
  const scanner = new JsonRecordScanner(layout);
  const records: unknown[] = [];
  try {
    for (let at = 0; at < text.length; at += size) records.push(...scanner.push(text.slice(at, at + size)));
    scanner.end();
  } catch (error) {
    if (error instanceof JsonScanError) return error;
    throw error;
  }
  return records;
}

/** A small deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const AWKWARD_STRINGS = ['plain', 'with "quotes"', 'back\\slash\\', '\\"', '{[}]', 'line\nbreak', 'é ☃ 𝄞', ',', ''];

function record(next: () => number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = 1 + Math.floor(next() * 4);
  for (let i = 0; i < fields; i++) {
    const pick = next();
    const key = AWKWARD_STRINGS[Math.floor(next() * AWKWARD_STRINGS.length)] + String(i);
    if (pick < 0.3) out[key] = AWKWARD_STRINGS[Math.floor(next() * AWKWARD_STRINGS.length)];
    else if (pick < 0.5) out[key] = Math.floor(next() * 1e6) / 100;
    else if (pick < 0.6) out[key] = null;
    else if (pick < 0.8 && depth < 3) out[key] = record(next, depth + 1);
    else out[key] = [1, 'x', { y: [true] }];
  }
  return out;
}

describe('JsonRecordScanner', () => {
  it('reads the same records as JSON.parse of the whole document, for every layout and chunk size', () => {
    // Given documents of random records with quotes, backslashes, brackets and line breaks in their strings,
    // laid out one per line, pretty-printed, minified and as a sequence of values
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const records = Array.from({ length: 1 + Math.floor(next() * 6) }, () => record(next));
      const documents: [JsonLayout, string][] = [
        ['array', `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`],
        ['array', JSON.stringify(records, null, 2)],
        ['array', JSON.stringify(records)],
        ['array', ` [ ${records.map((r) => JSON.stringify(r)).join(' ,\n')} ] `],
        ['values', records.map((r) => JSON.stringify(r, null, 1)).join('\n')],
      ];
      for (const [layout, text] of documents) {
        for (const size of [1, 2, 3, 7, 64, text.length]) {
          // When the document is scanned in pieces of that size
          // Then every record comes out, equal to what JSON.parse makes of it
          expect(scan(text, layout, size), `seed ${seed}, ${layout}, pieces of ${size}`).toEqual(records);
        }
      }
    }
  });

  it('switches from one record per line to the scan when a line holds more than one record', () => {
    const text = '[\n{"a":1},\n{"a":2}, {"a":3},\n{"a":4}\n]';
    expect(scan(text, 'array', 5)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]);
  });

  it.each([
    ['a syntax error inside a record', '[\n{"a":1},\n{"a" 2}\n]', 3, 6, /Expected ':'/],
    ['a syntax error in a record that spans lines', '[\n{\n  "a": 1,\n  "b": tru\n}]', 2, 1, /in element 1, which starts here/],
    ['an element that is not an object', '[{"a":1},\n  2]', 2, 3, /element 2 is a number/],
    ['a missing comma', '[{"a":1}\n {"a":2}]', 2, 2, /expected "," or "]" after element 1/],
    ['text after the array', '[{"a":1}]\nx', 2, 1, /after the end of the array/],
    ['an array that is not closed', '[{"a":1},\n', 2, 1, /not closed/],
    ['a document that ends inside a record', '[{"a":1},\n{"a":', 2, 6, /ends inside element 2/],
    ['a document that is not an array', '\n  {"a":1}', 2, 3, /expected "\[" to open the array/],
  ])('names the line and column of %s', (_label, text, line, column, reason) => {
    for (const size of [1, 4, text.length]) {
      const error = scan(text, 'array', size);
      expect(error).toBeInstanceOf(JsonScanError);
      expect(error).toMatchObject({ line, column });
      expect((error as JsonScanError).reason).toMatch(reason);
    }
  });

  it('keeps only the unfinished record between pushes, whatever the size of the document', () => {
    // Given a scanner fed 1,000 one-line records in pieces that end inside a record
    const scanner = new JsonRecordScanner('array');
    const line = `${JSON.stringify({ text: 'x'.repeat(100) })},\n`;
    scanner.push('[\n');
    let read = 0;
    for (let i = 0; i < 1000; i++) read += scanner.push(i === 0 ? line.slice(0, 50) : line.slice(50) + line.slice(0, 50)).length;
    // Then each push hands out the records it completed, and nothing else is held
    expect(read).toBe(999);
    expect((scanner as unknown as { buffer: string }).buffer.length).toBe(50);
  });
});
