/**
 * Reads CSV and TSV text as records (header row → column names, every value a string) with papaparse, the fastest
 * of the streaming CSV parsers measured for stage A (see BENCHMARKS.md), imported when a delimited object is first
 * read. A row with more or fewer fields than the header, an unclosed quote and a header that names a column twice
 * are refused with the line of the row: no value is dropped or renamed.
 */
import { Readable } from 'node:stream';

/** A record of a delimited object: column → string. */
export type DelimitedRecord = Record<string, string>;

/** A problem in a delimited object: what is wrong, and the 1-based line of its row. */
export class DelimitedError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(reason);
    this.name = 'DelimitedError';
  }
}

/** Rows parsed ahead of the reader before the parser is paused. */
const HIGH_WATER = 2048;

/** Streams the records of delimited text, in order, with backpressure on the parser. */
export async function* readDelimitedText(chunks: AsyncIterable<string>, delimiter: string): AsyncGenerator<DelimitedRecord> {
  const { default: Papa } = await import('papaparse');
  const text = new TextPositions();
  const source = Readable.from(text.track(chunks));
  const rows: DelimitedRecord[] = [];
  const seen = new Map<string, number>();
  let duplicate: DelimitedError | undefined;
  let failure: unknown;
  let finished = false;
  let paused: Papa.Parser | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  /** Where the next row starts: after the header, then after each row. */
  let rowStart = -1;

  Papa.parse<DelimitedRecord>(source as unknown as Papa.LocalFile, {
    header: true,
    skipEmptyLines: true,
    delimiter,
    transformHeader(header, index) {
      const first = seen.get(header);
      if (first === undefined) {
        seen.set(header, index);
        return header;
      }
      duplicate ??= new DelimitedError(
        `the header names the column ${JSON.stringify(header)} twice (columns ${first + 1} and ${index + 1}): rename one, so that no value is lost`,
        1,
      );
      // A name of its own, so the parser neither renames the column nor says so; the read fails on `duplicate`.
      return `\u0000${index}`;
    },
    step(result, parser) {
      if (failure !== undefined) return;
      if (duplicate) {
        failure = duplicate;
        parser.abort();
        return;
      }
      if (rowStart < 0) rowStart = text.headerEnd();
      const error = result.errors[0];
      if (error) {
        failure = new DelimitedError(reasonOf(error), text.lineAt(text.skipLineBreaks(rowStart)));
        parser.abort();
        return;
      }
      rowStart = result.meta.cursor;
      text.forget(rowStart);
      rows.push(result.data);
      if (rows.length >= HIGH_WATER) {
        paused = parser;
        parser.pause();
      }
      signal();
    },
    complete() {
      if (failure === undefined && duplicate) failure = duplicate;
      finished = true;
      signal();
    },
    error(error: Error) {
      failure ??= error;
      finished = true;
      signal();
    },
  });

  try {
    for (;;) {
      if (rows.length > 0) {
        const batch = rows.splice(0, rows.length);
        if (paused) {
          const parser = paused;
          paused = undefined;
          parser.resume();
        }
        yield* batch;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    source.destroy();
  }
}

function reasonOf(error: Papa.ParseError): string {
  switch (error.code) {
    case 'TooManyFields':
    case 'TooFewFields':
      return `${error.message.replace(/^Too (many|few) fields: expected/, 'the row has too $1 fields: the header has')}; make the row match the header`;
    case 'MissingQuotes':
      return 'a quoted field is not closed: close it with a " (write a " inside a quoted field as "")';
    default:
      return error.message;
  }
}

/**
 * The text handed to the parser, kept from the row being parsed on, so an error's character offset becomes a line:
 * lines are counted as chunks pass, and chunks are dropped once every row in them is read.
 */
class TextPositions {
  private chunks: { start: number; text: string; linesBefore: number }[] = [];
  private total = 0;
  private lines = 0;

  async *track(chunks: AsyncIterable<string>): AsyncGenerator<string> {
    for await (const text of chunks) {
      this.chunks.push({ start: this.total, text, linesBefore: this.lines });
      this.total += text.length;
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) this.lines++;
      yield text;
    }
  }

  /** Drops the chunks that end before `offset`. */
  forget(offset: number): void {
    let drop = 0;
    while (drop < this.chunks.length - 1 && (this.chunks[drop + 1] as { start: number }).start <= offset) drop++;
    if (drop > 0) this.chunks.splice(0, drop);
  }

  /** 1-based line of the character at `offset`. */
  lineAt(offset: number): number {
    const chunk = this.chunks.findLast((c) => c.start <= offset) ?? this.chunks[0];
    if (!chunk) return 1;
    let line = chunk.linesBefore + 1;
    const end = offset - chunk.start;
    for (let at = chunk.text.indexOf('\n'); at >= 0 && at < end; at = chunk.text.indexOf('\n', at + 1)) line++;
    return line;
  }

  /** Offset of the first character after line breaks from `offset` on (a row's start, past skipped blank lines). */
  skipLineBreaks(offset: number): number {
    let at = offset;
    for (let char = this.charAt(at); char === '\n' || char === '\r'; char = this.charAt(at)) at++;
    return at;
  }

  /** Offset just after the header row: its first line break outside quotes. */
  headerEnd(): number {
    let quoted = false;
    for (let at = 0; ; at++) {
      const char = this.charAt(at);
      if (char === undefined) return at;
      if (char === '"') quoted = !quoted;
      else if (char === '\n' && !quoted) return at + 1;
    }
  }

  private charAt(offset: number): string | undefined {
    const chunk = this.chunks.findLast((c) => c.start <= offset);
    return chunk?.text[offset - chunk.start];
  }
}
