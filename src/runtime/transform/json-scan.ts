/**
 * Finds the records of a streamed JSON document — the elements of one top-level array, or a sequence of top-level
 * values — and hands each one's text to `JSON.parse`, so the per-character work in JavaScript is only the scan
 * for where one record ends: string contents are skipped with `indexOf`, and the parse itself is native.
 *
 * Memory holds the record being read and one chunk of text, whatever the size of the document.
 */

/** How a JSON document holds its records. */
export type JsonLayout = 'array' | 'values';

/** A problem in the document: what is wrong, and its 1-based line and column. */
export class JsonScanError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(reason);
    this.name = 'JsonScanError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

function isSpace(code: number): boolean {
  return code === 0x20 || code === NEWLINE || code === 0x0d || code === 0x09;
}

/** What the scanner expects next, outside a record. */
type Phase = 'open' | 'element' | 'separator' | 'end';

/** What a value that is not an object is, from its first character. */
function kindOf(first: string): string | undefined {
  if (first === '[') return 'an array';
  if (first === '"') return 'a string';
  if (first === 't' || first === 'f') return 'a boolean';
  if (first === 'n') return 'null';
  if (first === '-' || (first >= '0' && first <= '9')) return 'a number';
  return undefined;
}

/**
 * Scans text pushed chunk by chunk. `push` returns the records completed by the chunk, as values; `end` checks that
 * the document is complete. Errors are {@link JsonScanError}s with the line and column of the problem.
 */
export class JsonRecordScanner {
  /** Text not yet consumed: the start of an unfinished record, or nothing. */
  private buffer = '';
  /** Line and column (1-based) of `buffer[0]`. */
  private line = 1;
  private column = 1;
  private phase: Phase;
  /** Inside a record: where it starts in `buffer`, its nesting depth, and whether the scan is inside a string. */
  private start = -1;
  private depth = 0;
  private inString = false;
  /** Records read so far. */
  count = 0;
  /** Whether records have been one per line so far (see {@link lineRecord}). */
  private byLine = true;

  constructor(
    private readonly layout: JsonLayout,
    /** Says what a record must be, for errors: `an array of objects`. */
    private readonly what = layout === 'array' ? 'an array of objects' : 'JSON objects',
  ) {
    this.phase = layout === 'array' ? 'open' : 'element';
  }

  push(text: string): unknown[] {
    const records: unknown[] = [];
    // Resume where the last chunk stopped: a record in progress was scanned up to the end of the buffer.
    let at = this.buffer.length;
    const buffer = this.buffer.length === 0 ? text : this.buffer + text;
    if (this.start < 0) at = 0;
    const length = buffer.length;
    while (at < length) {
      if (this.start >= 0) {
        // Inside a record: find its end.
        if (this.inString) {
          const quote = buffer.indexOf('"', at);
          if (quote < 0) {
            at = length;
            break;
          }
          let slashes = 0;
          for (let back = quote - 1; buffer.charCodeAt(back) === BACKSLASH; back--) slashes++;
          at = quote + 1;
          if (slashes % 2 === 0) this.inString = false;
          continue;
        }
        const code = buffer.charCodeAt(at);
        at++;
        if (code === QUOTE) this.inString = true;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth++;
        else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --this.depth === 0) {
          records.push(this.parse(buffer, this.start, at));
          this.start = -1;
          this.phase = this.layout === 'array' ? 'separator' : 'element';
        }
        continue;
      }
      const code = buffer.charCodeAt(at);
      if (isSpace(code)) {
        at++;
        continue;
      }
      const char = buffer[at] as string;
      switch (this.phase) {
        case 'open':
          if (code !== OPEN_BRACKET)
            throw this.error(buffer, at, `expected "[" to open the array, found ${JSON.stringify(char)}`);
          this.phase = 'element';
          at++;
          break;
        case 'element':
          if (code === CLOSE_BRACKET && this.layout === 'array' && this.count === 0) {
            this.phase = 'end';
            at++;
            break;
          }
          if (code !== OPEN_BRACE) {
            const kind = kindOf(char);
            const item = this.layout === 'array' ? 'element' : 'value';
            if (kind !== undefined) throw this.error(buffer, at, `expected ${this.what}, ${item} ${this.count + 1} is ${kind}`);
            throw this.error(buffer, at, `unexpected ${JSON.stringify(char)} where ${item} ${this.count + 1} should start`);
          }
          if (this.byLine) {
            const end = this.lineRecord(buffer, at, records);
            if (end > 0) {
              at = end;
              this.phase = this.layout === 'array' ? 'separator' : 'element';
              break;
            }
          }
          this.start = at;
          this.depth = 1;
          at++;
          break;
        case 'separator':
          if (code === COMMA) this.phase = 'element';
          else if (code === CLOSE_BRACKET) this.phase = 'end';
          else throw this.error(buffer, at, `expected "," or "]" after element ${this.count}, found ${JSON.stringify(char)}`);
          at++;
          break;
        case 'end':
          throw this.error(buffer, at, `unexpected ${JSON.stringify(char)} after the end of the array`);
      }
    }
    // Keep the unfinished record (from its start); everything before it is consumed.
    const keepFrom = this.start >= 0 ? this.start : length;
    this.advance(buffer, keepFrom);
    if (this.start >= 0) {
      this.buffer = buffer.slice(this.start);
      this.start = 0;
    } else this.buffer = '';
    return records;
  }

  /**
   * Reads the record starting at `buffer[from]` when it is the rest of its line (but for a `,` or `]` after it)
   * by parsing that text: a value that parses ends at its last character, so the scan of its characters is
   * skipped. Returns where the record ends, or -1, and stops trying for this document, when the layout is not
   * one record per line; then the scan finds each end.
   */
  private lineRecord(buffer: string, from: number, records: unknown[]): number {
    const newline = buffer.indexOf('\n', from);
    if (newline < 0) return -1;
    let last = newline - 1;
    for (let code = buffer.charCodeAt(last); isSpace(code) || code === COMMA || code === CLOSE_BRACKET; )
      code = buffer.charCodeAt(--last);
    if (last > from && buffer.charCodeAt(last) === CLOSE_BRACE) {
      try {
        records.push(JSON.parse(buffer.slice(from, last + 1)));
        this.count++;
        return last + 1;
      } catch {
        // Not one record on this line: scan instead.
      }
    }
    this.byLine = false;
    return -1;
  }

  /** Checks that the document ended where a document may end. */
  end(): void {
    if (this.start >= 0) {
      const tail = this.locate(this.buffer, this.buffer.length);
      throw new JsonScanError(
        `the document ends inside ${this.layout === 'array' ? 'element' : 'value'} ${this.count + 1}`,
        tail.line,
        tail.column,
      );
    }
    if (this.layout === 'array' && this.phase !== 'end')
      throw this.error('', 0, this.phase === 'open' ? 'the document holds no array' : 'the array is not closed with "]"');
  }

  private parse(buffer: string, from: number, to: number): unknown {
    const text = buffer.slice(from, to);
    try {
      this.count++;
      return JSON.parse(text);
    } catch (error) {
      const position = / at position (\d+)/.exec((error as Error).message);
      const base = this.locate(buffer, from);
      const where = position ? locateIn(text, base, Number(position[1])) : base;
      const reason = (error as Error).message
        .replace(/ in JSON at position \d+.*$/s, '')
        .replace(/\s*\(line \d+ column \d+\)$/, '');
      // Without a position from the parser, the error is placed at the start of the record.
      const item = this.layout === 'array' ? 'element' : 'value';
      const said = position ? reason : `${reason} (in ${item} ${this.count}, which starts here)`;
      throw new JsonScanError(said, where.line, where.column);
    }
  }

  /** Moves the line and column of the buffer's start to `buffer[to]`. */
  private advance(buffer: string, to: number): void {
    const next = this.locate(buffer, to);
    this.line = next.line;
    this.column = next.column;
  }

  /** Line and column of `buffer[to]`: counted from the buffer's start, so once per chunk or on an error. */
  private locate(buffer: string, to: number): Position {
    return locateIn(buffer, { line: this.line, column: this.column }, to);
  }

  private error(buffer: string, at: number, reason: string): JsonScanError {
    const where = this.locate(buffer, at);
    return new JsonScanError(reason, where.line, where.column);
  }
}

interface Position {
  readonly line: number;
  readonly column: number;
}

/** Line and column of `text[to]`, where `text[0]` is at `origin`. */
function locateIn(text: string, origin: Position, to: number): Position {
  let line = origin.line;
  let lineStart = -1;
  for (let at = text.indexOf('\n'); at >= 0 && at < to; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at;
  }
  return { line, column: lineStart < 0 ? origin.column + to : to - lineStart };
}
