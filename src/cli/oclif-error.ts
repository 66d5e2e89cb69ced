import { Errors } from '@oclif/core';
import { isSdlfError } from '../core/errors.js';

/**
 * Translates an {@link SdlfError} into the oclif error that prints and exits as the CLI always has (exit 2, its code
 * and suggestions, its name, message and throw site); returns any other error unchanged, as a bug (exit 1).
 */
export function toOclifError<T>(error: T): T | Errors.CLIError {
  if (!isSdlfError(error)) return error;
  const translated = new Errors.CLIError(error.message, {
    exit: error.exitCode,
    code: error.code,
    suggestions: error.suggestions ? [...error.suggestions] : undefined,
  });
  // Same own properties in the same order as the SdlfError had when it was a CLIError: `--json` prints them.
  Object.assign(translated, { problems: error.problems });
  translated.name = error.name;
  Object.defineProperty(translated, 'stack', { value: error.stack, configurable: true, writable: true });
  return translated;
}
