import { readFile } from 'node:fs/promises';
import { SdlfError } from './errors.js';

const BOM = '\uFEFF';

/**
 * Parses JSON text; a syntax error becomes an {@link SdlfError} naming the file, line and column. A leading UTF-8
 * byte order mark (which some Windows editors write) is accepted, as `cdk` and `npm` accept it.
 */
export function parseJson(text: string, file: string): unknown {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    const message = (error as Error).message;
    const { line, column } = locate(body, message);
    const where = line ? `${file}:${line}:${column}` : file;
    throw new SdlfError(
      `${where} is not valid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '').replace(/,\s*(\.\.\.)?".*" is not valid JSON$/s, '')}.`,
      {
        code: 'INVALID_JSON',
        suggestions: [`Fix the JSON syntax in ${file}${line ? ` at line ${line}, column ${column}` : ''}.`],
      },
    );
  }
}

/** Reads and parses a JSON file (see {@link parseJson}). */
export async function readJsonFile(file: string, displayName = file): Promise<{ value: unknown; text: string }> {
  const text = await readFile(file, 'utf8');
  return { value: parseJson(text, displayName), text };
}

function locate(text: string, message: string): { line?: number; column?: number } {
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  if (lineCol) return { line: Number(lineCol[1]), column: Number(lineCol[2]) };
  const position = /position (\d+)/.exec(message);
  const offset = position ? Number(position[1]) : message.includes('Unexpected end') ? text.length : firstBadOffset(text);
  if (offset === undefined) return {};
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** How a JSON file is laid out, so that a rewrite keeps the user's style. */
export interface JsonStyle {
  readonly indent: string | number;
  readonly finalNewline: boolean;
  /** Whether the text starts with a UTF-8 byte order mark, kept on rewrite. */
  readonly bom?: boolean;
}

/** Detects the indentation and final newline of JSON text. @default two spaces and a final newline for empty text */
export function detectJsonStyle(text: string): JsonStyle {
  const match = /^[ \t]+(?=")/m.exec(text);
  const indent = match ? (match[0].includes('\t') ? '\t' : match[0].length) : 2;
  return { indent, finalNewline: text.length === 0 || text.endsWith('\n'), bom: text.startsWith(BOM) };
}

/** Serialises a value as JSON in the given style. */
export function stringifyJson(value: unknown, style: JsonStyle = { indent: 2, finalNewline: true }): string {
  return (style.bom ? BOM : '') + JSON.stringify(value, null, style.indent) + (style.finalNewline ? '\n' : '');
}

/**
 * Finds the offset of the first character that makes `text` invalid JSON, for the V8 messages that give no
 * position (`Unexpected token ',', "…" is not valid JSON`). A prefix is fine while parsing it fails only for
 * running out of input, so a binary search over prefix lengths finds the first bad character.
 */
function firstBadOffset(text: string): number | undefined {
  const fine = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return true;
    } catch (error) {
      const message = (error as Error).message;
      if (message.includes('Unexpected end')) return true;
      const position = /position (\d+)/.exec(message);
      return position ? Number(position[1]) >= length : false;
    }
  };
  if (fine(text.length)) return undefined;
  let good = 0;
  let bad = text.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (fine(middle)) good = middle;
    else bad = middle;
  }
  return bad - 1;
}
