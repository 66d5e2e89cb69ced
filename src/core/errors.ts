/** Options of an {@link SdlfError}. */
export interface SdlfErrorOptions {
  /** What the user can do to fix it; printed under the message. */
  readonly suggestions?: readonly string[];
  /** Machine-readable, UPPER_SNAKE error code, e.g. `DATASET_EXISTS`. */
  readonly code: string;
  /** Further problems found in the same pass (e.g. by `sdlf validate`). */
  readonly problems?: readonly Problem[];
}

/** One problem found in a project, with where it is and how to fix it. */
export interface Problem {
  /** UPPER_SNAKE code. */
  readonly code: string;
  /** What is wrong, naming the offending value. */
  readonly message: string;
  /** File (relative to the project) the problem is in, when known. */
  readonly file?: string;
  /** JSON path inside the file, e.g. `environments.dev.account`. */
  readonly path?: string;
  /** Line (from 1) of the file where the path is written, when known. */
  readonly line?: number;
  /** Column (from 1) of that line, when known. */
  readonly column?: number;
  /** What to do about it. */
  readonly suggestion?: string;
}

/** The exit code of a run that ended in an {@link SdlfError}: the user can fix it. */
export const USER_ERROR_EXIT_CODE = 2;

/**
 * Signals a mistake the user can fix (bad input, missing file, wrong name). The CLI exits with code 2 and prints
 * the suggestions; any other exception is a bug and exits with code 1. A plain `Error`, so that every layer can
 * throw it without loading the CLI: the base command translates it to oclif's error.
 */
export class SdlfError extends Error {
  /** Machine-readable, UPPER_SNAKE error code, e.g. `DATASET_EXISTS`. */
  readonly code: string;
  /** What the user can do to fix it; printed under the message. */
  readonly suggestions?: string[];
  /** Problems found in the same pass, when there were several. */
  readonly problems: readonly Problem[];

  constructor(message: string, options: SdlfErrorOptions) {
    super(message);
    this.code = options.code;
    this.suggestions = options.suggestions ? [...options.suggestions] : undefined;
    this.name = 'SdlfError';
    this.problems = options.problems ?? [];
  }

  /** The process's exit code when this error ends a command: always 2. */
  get exitCode(): number {
    return USER_ERROR_EXIT_CODE;
  }

  /** Builds one error that lists every problem, each with its fix. */
  static fromProblems(summary: string, problems: readonly Problem[]): SdlfError {
    const lines = problems.map((p) => `  - ${formatProblem(p)}`);
    const first = problems[0];
    return new SdlfError(`${summary}\n${lines.join('\n')}`, {
      code: problems.length === 1 && first ? first.code : 'INVALID_PROJECT',
      problems,
      suggestions: problems.length === 1 && first?.suggestion ? [first.suggestion] : undefined,
    });
  }
}

/** Formats a problem as `file:line:column (path): message. Fix: suggestion`. */
export function formatProblem(problem: Problem): string {
  const file =
    problem.file && problem.line !== undefined ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  const where = [file, problem.path ? `(${problem.path})` : undefined].filter(Boolean).join(' ');
  const fix = problem.suggestion ? ` Fix: ${problem.suggestion}` : '';
  return `${where ? `${where}: ` : ''}${problem.message}${fix}`;
}

/** Tells whether a value is an {@link SdlfError}, also across module copies. */
export function isSdlfError(error: unknown): error is SdlfError {
  return error instanceof Error && error.name === 'SdlfError';
}
