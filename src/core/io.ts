import type { SdlfError } from './errors.js';

/**
 * Where a service reports what it is doing. Results are returned, never printed: everything that goes through
 * an `Io` is progress, warnings or questions, and goes to stderr. The terminal's `Io` is `createConsoleIo` of
 * src/cli/terminal.ts.
 */
export interface Io {
  /** Reports progress or a step taken. */
  info(message: string): void;
  /** Reports something the user should know but that does not stop the work. */
  warn(message: string): void;
  /** Reports detail shown only with `--verbose`. */
  debug(message: string): void;
  /**
   * Asks a yes/no question. Answers `true` without asking when the user passed `--yes`; throws an
   * {@link SdlfError} naming `yesFlag` when there is no terminal to ask on.
   */
  confirm(question: string, options?: ConfirmOptions): Promise<boolean>;
}

/** Options of {@link Io.confirm}. */
export interface ConfirmOptions {
  /** Answer when the user just presses enter. @default false */
  readonly default?: boolean;
  /** The flag that answers the question in scripts. @default '--yes' */
  readonly yesFlag?: string;
}

/** A recorded line of a {@link RecordingIo}. */
export interface RecordedLine {
  readonly level: 'info' | 'warn' | 'debug' | 'confirm';
  readonly message: string;
}

/** An {@link Io} that keeps every line and answers questions from a list; for tests and `--json` runs. */
export interface RecordingIo extends Io {
  readonly lines: RecordedLine[];
}

/** Creates a {@link RecordingIo} that answers questions with `answers` in order (then `false`). */
export function createRecordingIo(answers: readonly boolean[] = []): RecordingIo {
  const lines: RecordedLine[] = [];
  const queue = [...answers];
  return {
    lines,
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    debug: (message) => lines.push({ level: 'debug', message }),
    confirm: async (question) => {
      lines.push({ level: 'confirm', message: question });
      return queue.shift() ?? false;
    },
  };
}
