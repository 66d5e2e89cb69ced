import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import type { Prompter } from '../services/init-project.js';

/** Options of {@link createConsoleIo}. */
export interface ConsoleIoOptions {
  /** Prints debug lines. @default false */
  readonly verbose?: boolean;
  /** Suppresses info lines (warnings still print). @default false */
  readonly quiet?: boolean;
  /** Answers every question with yes. @default false */
  readonly yes?: boolean;
  /** Whether a person can answer questions. @default process.stdin.isTTY && process.stderr.isTTY */
  readonly interactive?: boolean;
  /** Where lines go. @default process.stderr */
  readonly stream?: NodeJS.WritableStream;
}

/** Creates the terminal {@link Io}: lines on stderr, questions through `@inquirer/prompts` on a TTY. */
export function createConsoleIo(options: ConsoleIoOptions = {}): Io {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const write = (line: string) => stream.write(`${line}\n`);
  return {
    info: (message) => {
      if (!options.quiet) write(message);
    },
    warn: (message) => write(`Warning: ${message}`),
    debug: (message) => {
      if (options.verbose) write(message);
    },
    confirm: async (question, confirmOptions = {}) => {
      if (options.yes) return true;
      const yesFlag = confirmOptions.yesFlag ?? '--yes';
      if (!interactive) {
        throw new SdlfError(`Cannot ask "${question}": there is no terminal to answer on.`, {
          code: 'CONFIRMATION_REQUIRED',
          suggestions: [`Re-run with ${yesFlag} to confirm, or run it in a terminal.`],
        });
      }
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message: question, default: confirmOptions.default ?? false }, { output: process.stderr });
    },
  };
}

/**
 * Creates the {@link Prompter} of a terminal: `@inquirer/prompts` (imported on first use), questions on stderr so
 * that stdout keeps only the result.
 */
export function createTerminalPrompter(): Prompter {
  const context = { output: process.stderr };
  return {
    input: async (question) => {
      const { input } = await import('@inquirer/prompts');
      return input({ message: question.message, default: question.default, validate: question.validate }, context).catch(
        cancelled,
      );
    },
    confirm: async (question) => {
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message: question.message, default: question.default }, context).catch(cancelled);
    },
  };
}

/** Turns Ctrl+C at a prompt (inquirer's `ExitPromptError`) into a user error; questions come before any write. */
function cancelled(error: unknown): never {
  if (error instanceof Error && error.name === 'ExitPromptError') {
    throw new SdlfError('sdlf init was cancelled at a question; nothing was written.', {
      code: 'CANCELLED',
      suggestions: ['Run it again, or pass every answer as a flag (see sdlf init --help).'],
    });
  }
  throw error;
}
